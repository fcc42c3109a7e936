"""Idempotency end to end (gRPC -> sidecar -> HTTP -> emulator): each outcome of the contract."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import grpc

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.idempotency.fingerprint import derive_spend_id
from sidecar.secrets import Secret
from tests.conftest import EmulatorControl, RedisServer, start_sidecar
from tests.e2e.test_retries import answer
from tests.helpers import new_token, rich_details

if TYPE_CHECKING:
    # What CryptoPayServiceStub(channel) is over a grpc.aio channel (type checkers only).
    from sidecar.gen.cryptopay.v1.cryptopay_service_pb2_grpc import (
        CryptoPayServiceAsyncStub as Stub,
    )


def key() -> tuple[tuple[str, str]]:
    return (("idempotency-key", str(uuid.uuid4())),)


def reason(error: Any) -> str:
    return str(rich_details(error)["ErrorInfo"].reason)


async def test_a_replay_returns_the_stored_answer_without_an_upstream_call(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    k = key()
    request = pb.CreateInvoiceRequest(asset="TON", amount="3")
    first, first_trailers = await answer(stub.CreateInvoice(request, metadata=k))
    sent = await control.api_requests(token)
    again, trailers = await answer(stub.CreateInvoice(request, metadata=k))
    assert again == first
    assert trailers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in (
        first_trailers
    )
    assert "cryptopay-attempts" not in trailers  # nothing was sent
    assert await control.api_requests(token) == sent
    assert len((await control.ledger(token))["invoices"]) == 1


async def test_a_key_reused_for_another_request_is_refused(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    k = key()
    await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="3"), metadata=k)
    error, _ = await answer(
        stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="4"), metadata=k)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(error) == "IDEMPOTENCY_KEY_REUSED"
    assert len((await control.ledger(token))["invoices"]) == 1


async def test_a_key_in_flight_is_refused_with_a_retry_hint(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    k = key()
    request = pb.CreateCheckRequest(asset="TON", amount="1")
    await control.fault(token, method="createCheck", kind="latency", latency_ms=800, count=1)
    first = asyncio.ensure_future(stub.CreateCheck(request, metadata=k))
    await control.wait_requests(token)  # the first call has reached the upstream
    error, _ = await answer(stub.CreateCheck(request, metadata=k))
    assert error.code() == grpc.StatusCode.ABORTED
    assert reason(error) == "IDEMPOTENCY_KEY_IN_USE"
    assert rich_details(error)["RetryInfo"].retry_delay.ToMilliseconds() > 0
    created = await first
    replayed, trailers = await answer(stub.CreateCheck(request, metadata=k))
    assert replayed == created and trailers["idempotent-replayed"] == "true"
    assert len((await control.ledger(token))["checks"]) == 1


async def test_an_unknown_create_is_kept_under_its_key(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    k = key()
    request = pb.CreateCheckRequest(asset="TON", amount="1")
    await control.fault(token, method="createCheck", kind="commit_then_fail", then="drop", count=1)
    error, _ = await answer(stub.CreateCheck(request, metadata=k))
    assert error.code() == grpc.StatusCode.UNAVAILABLE and reason(error) == "OUTCOME_UNKNOWN"
    again, trailers = await answer(stub.CreateCheck(request, metadata=k))
    assert reason(again) == "OUTCOME_UNKNOWN" and trailers["idempotent-replayed"] == "true"
    assert len((await control.ledger(token))["checks"]) == 1  # never a second one


async def test_transient_failures_are_not_stored(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    k = key()
    request = pb.CreateCheckRequest(asset="TON", amount="1")
    # A Retry-After beyond the cap: the sidecar hands the 429 back instead of waiting.
    await control.fault(
        token, method="createCheck", kind="status", status=429, retry_after=60, count=1
    )
    error, _ = await answer(stub.CreateCheck(request, metadata=k))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    response, trailers = await answer(stub.CreateCheck(request, metadata=k))
    assert response.check.check_id and "idempotent-replayed" not in trailers


async def test_definite_upstream_errors_are_replayed(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    k = key()
    request = pb.CreateCheckRequest(asset="FFF", amount="1")
    error, _ = await answer(stub.CreateCheck(request, metadata=k))
    again, trailers = await answer(stub.CreateCheck(request, metadata=k))
    assert reason(error) == reason(again) == "ASSET_INVALID"
    assert again.code() == error.code() and trailers["idempotent-replayed"] == "true"
    assert await control.api_requests(token) == 1


async def test_keys_are_scoped_by_rpc(stub: Stub, control: EmulatorControl, token: str) -> None:
    k = key()
    await stub.CreateCheck(pb.CreateCheckRequest(asset="TON", amount="1"), metadata=k)
    await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"), metadata=k)
    ledger = await control.ledger(token)
    assert len(ledger["checks"]) == len(ledger["invoices"]) == 1


async def test_reads_ignore_keys(stub: Stub, control: EmulatorControl, token: str) -> None:
    k = key()
    for _ in range(2):
        _, trailers = await answer(stub.GetBalance(pb.GetBalanceRequest(), metadata=k))
        assert "idempotent-replayed" not in trailers
    assert await control.api_requests(token) == 2


async def test_a_malformed_key_is_refused_before_any_upstream_call(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    error, _ = await answer(
        stub.CreateInvoice(
            pb.CreateInvoiceRequest(asset="TON", amount="1"),
            metadata=(("idempotency-key", "k" * 256),),
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(error) == "IDEMPOTENCY_KEY_INVALID" and "255" in error.details()
    assert await control.api_requests(token) == 0


async def test_a_transfer_gets_its_spend_id_from_the_key(
    stub: Stub, emulator: RunningEmulator, control: EmulatorControl, token: str
) -> None:
    k = key()
    request = pb.TransferRequest(user_id=3, asset="TON", amount="1")  # no spend_id
    response = await stub.Transfer(request, metadata=k)
    assert response.transfer.spend_id == derive_spend_id("default", k[0][1])
    # Another replica without the record (as if the store had lost it) sends the same spend_id,
    # and the upstream's own deduplication returns the same transfer.
    other = await start_sidecar(emulator, token)
    try:
        again = await other.stub.Transfer(request, metadata=k)
    finally:
        await other.channel.close(None)
        await other.sidecar.stop()
    assert again.transfer.transfer_id == response.transfer.transfer_id
    assert len((await control.ledger(token))["transfers"]) == 1


async def test_a_transfer_without_spend_id_or_key_is_refused(stub: Stub) -> None:
    error, _ = await answer(stub.Transfer(pb.TransferRequest(user_id=3, asset="TON", amount="1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "idempotency-key" in error.details()


async def test_apps_sharing_one_redis_never_replay_each_others_answers(
    emulator: RunningEmulator, control: EmulatorControl, redis_server: RedisServer
) -> None:
    """Two sidecars of two Crypto Pay apps on one Redis, a client of each sending the same key
    with the same request: each app gets its own invoice, created by its own upstream call."""
    tokens = (new_token(), new_token())
    running = [await start_sidecar(emulator, t, redis_url=Secret(redis_server.url)) for t in tokens]
    try:
        shared = key()
        request = pb.CreateInvoiceRequest(asset="TON", amount="3", payload="order-1")
        shop = await running[0].stub.CreateInvoice(request, metadata=shared, timeout=5)
        games = await running[1].stub.CreateInvoice(request, metadata=shared, timeout=5)
        assert shop.invoice.invoice_id != games.invoice.invoice_id
        assert [await control.api_requests(t) for t in tokens] == [1, 1]
        # Within one app the key still replays.
        again = await running[0].stub.CreateInvoice(request, metadata=shared, timeout=5)
        assert again == shop and await control.api_requests(tokens[0]) == 1
    finally:
        for r in running:
            await r.channel.close(None)
            await r.sidecar.stop()
