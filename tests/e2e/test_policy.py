"""Policies on the real request path: gRPC in, emulator behind, Redis for spend caps."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest

from sidecar.config import ConfigError
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.policy.identity import key_digest
from sidecar.secrets import Secret
from tests.conftest import EmulatorControl, RedisServer, RunningSidecar, start_sidecar
from tests.helpers import eventually, rich_details

KEY = "payouts-" + uuid.uuid4().hex


@pytest.fixture
async def running(
    emulator: RunningEmulator, token: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Awaitable[RunningSidecar]]]:
    started: list[RunningSidecar] = []

    async def start(policy: str | Path | None, **overrides: Any) -> RunningSidecar:
        """A sidecar on a policy: YAML text (written to a file), a path, or None."""
        path = policy if isinstance(policy, Path) else None
        if isinstance(policy, str):
            path = tmp_path / f"policy-{len(started)}.yaml"
            path.write_text(policy)
        sidecar = await start_sidecar(
            emulator, token, policy_path=str(path) if path else None, **overrides
        )
        started.append(sidecar)
        return sidecar

    yield start
    for sidecar in started:
        await sidecar.channel.close(None)
        await sidecar.sidecar.stop()


def trailer_dict(metadata: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (metadata or ())}


def transfer(amount: str, **kw: Any) -> pb.TransferRequest:
    return pb.TransferRequest(
        user_id=kw.pop("user_id", 1), asset="USDT", amount=amount, spend_id=uuid.uuid4().hex, **kw
    )


async def refused(call: Awaitable[Any], code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == code, info.value.details()
    return info.value


POLICY = """
version: 1
defaults:
  rpcs: {allow: [GetMe, CreateInvoice, GetBalance, Transfer]}
  amounts:
    USDT: {max: "100"}
  transfers: {require_comment: true, mode: audit}
"""


async def test_denial_is_permission_denied_with_error_info_and_never_reaches_upstream(
    running: Any, control: EmulatorControl, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    sidecar = await running(POLICY)
    before = await control.api_requests(token)
    with caplog.at_level(logging.INFO, logger="sidecar.policy.decisions"):
        error = await refused(
            sidecar.stub.CreateCheck(pb.CreateCheckRequest(asset="USDT", amount="1")),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    info = rich_details(error)["ErrorInfo"]
    assert info.reason == "POLICY_DENIED" and info.domain == "cryptopay-sidecar"
    assert info.metadata["rule"] == "rpcs" and info.metadata["caller"] == "default"
    decision_id = info.metadata["decision_id"]
    details = error.details() or ""
    assert "RPC CreateCheck is not allowed" in details and decision_id in details
    trailers = trailer_dict(error.trailing_metadata())
    assert trailers["cryptopay-policy-decision"] == decision_id
    assert len(trailers["cryptopay-policy"]) == 12
    assert await control.api_requests(token) == before
    (line,) = [r for r in caplog.records if getattr(r, "decision_id", None) == decision_id]
    assert line.decision == "deny" and line.rule == "rpcs" and line.rpc == "CreateCheck"  # type: ignore[attr-defined]

    error = await refused(
        sidecar.stub.Transfer(transfer("100.01")), grpc.StatusCode.PERMISSION_DENIED
    )
    assert rich_details(error)["ErrorInfo"].metadata["rule"] == "amounts.USDT"
    assert await control.api_requests(token) == before


async def test_audit_mode_logs_and_allows(running: Any, caplog: pytest.LogCaptureFixture) -> None:
    sidecar = await running(POLICY)
    with caplog.at_level(logging.INFO, logger="sidecar.policy.decisions"):
        call = sidecar.stub.Transfer(transfer("2"))  # no comment: audited rule
        response = await call
    assert response.transfer.amount == "2"
    trailers = trailer_dict(await call.trailing_metadata())
    decision_id = trailers["cryptopay-policy-decision"]
    (line,) = [r for r in caplog.records if getattr(r, "decision_id", None) == decision_id]
    assert line.decision == "audit" and line.rule == "transfers.require_comment"  # type: ignore[attr-defined]
    assert line.amount == "2" and line.asset == "USDT"  # type: ignore[attr-defined]


IDENTITY = f"""
version: 1
identity: {{required: true}}
defaults: {{rpcs: {{allow: []}}}}
callers:
  payouts:
    key_sha256: {key_digest(KEY)}
    rpcs: {{allow: [GetMe]}}
"""


async def test_identity(running: Any, caplog: pytest.LogCaptureFixture) -> None:
    sidecar = await running(IDENTITY)
    stub = sidecar.stub
    with caplog.at_level(logging.DEBUG):
        error = await refused(stub.GetMe(pb.GetMeRequest()), grpc.StatusCode.UNAUTHENTICATED)
        assert rich_details(error)["ErrorInfo"].reason == "CALLER_REQUIRED"
        wrong = (("x-cryptopay-caller", "payouts"), ("x-cryptopay-caller-key", KEY + "x"))
        error = await refused(
            stub.GetMe(pb.GetMeRequest(), metadata=wrong), grpc.StatusCode.UNAUTHENTICATED
        )
        assert rich_details(error)["ErrorInfo"].reason == "CALLER_KEY_INVALID"
        good = (("x-cryptopay-caller", "payouts"), ("x-cryptopay-caller-key", KEY))
        assert (await stub.GetMe(pb.GetMeRequest(), metadata=good)).app.app_id > 0
        error = await refused(
            stub.GetBalance(pb.GetBalanceRequest(), metadata=good),
            grpc.StatusCode.PERMISSION_DENIED,
        )
        assert rich_details(error)["ErrorInfo"].metadata["caller"] == "payouts"
    assert KEY not in caplog.text


CAPPED = """
version: 1
defaults:
  spend_caps:
    - {asset: USDT, max: "10", window: rolling_24h}
"""


async def test_spend_cap_reserve_commit_release_keep(
    running: Any, redis_server: RedisServer, control: EmulatorControl, token: str
) -> None:
    sidecar = await running(CAPPED, redis_url=Secret(redis_server.url))
    stub = sidecar.stub
    assert (await stub.Transfer(transfer("6"))).transfer.amount == "6"
    error = await refused(stub.Transfer(transfer("4.01")), grpc.StatusCode.PERMISSION_DENIED)
    info = rich_details(error)["ErrorInfo"]
    assert info.metadata["rule"] == "spend_caps[0]"
    assert "already spent or reserved: 6; left: 4" in (error.details() or "")

    # A definite failure (the upstream refused it) releases the reservation...
    await control.fault(token, method="transfer", kind="status", status=400, count=1)
    await refused(stub.Transfer(transfer("3")), grpc.StatusCode.INVALID_ARGUMENT)
    # ...an unknown outcome (every attempt's connection dropped) keeps it...
    await control.fault(token, method="transfer", kind="drop", count=10)
    unknown = transfer("1.5")
    await refused(stub.Transfer(unknown), grpc.StatusCode.UNAVAILABLE)
    await control.request("DELETE", "faults", token)
    # ...and the client's retry with the same spend_id (performed at most once) counts once,
    assert (await stub.Transfer(unknown)).transfer.amount == "1.5"
    # so exactly 10 - 6 - 1.5 = 2.5 is left.
    assert (await stub.Transfer(transfer("2.5"))).transfer.amount == "2.5"
    await refused(
        stub.Transfer(transfer("0.000000000000000001")), grpc.StatusCode.PERMISSION_DENIED
    )
    ledger = await control.ledger(token)
    assert sum(Decimal(t["amount"]) for t in ledger["transfers"]) == 10


async def test_a_call_slower_than_the_spend_lease_ends_first_and_stays_counted(
    running: Any, redis_server: RedisServer, control: EmulatorControl, token: str
) -> None:
    # A lease of 2 s: a call holding a reservation must be over 0.5 s before the lease ends,
    # whatever the caller's deadline, so the lease never frees money a live call may move.
    sidecar = await running(CAPPED, redis_url=Secret(redis_server.url), spend_lease=2.0)
    await control.fault(token, method="transfer", kind="latency", latency_ms=4000, count=1)
    started = time.monotonic()
    slow = transfer("6")
    await refused(sidecar.stub.Transfer(slow, timeout=20), grpc.StatusCode.DEADLINE_EXCEEDED)
    assert time.monotonic() - started < 1.9

    async def performed() -> list[str] | None:
        amounts = [t["amount"] for t in (await control.ledger(token))["transfers"]]
        return amounts or None

    # The emulator performs it after its latency (4 s): by then the lease (2 s) is over too.
    assert await eventually(performed, "the emulator to perform the transfer", within=10) == ["6"]
    assert time.monotonic() - started > 2.0
    # The outcome was unknown, so the reservation was counted as spent, not left to its lease.
    await refused(sidecar.stub.Transfer(transfer("4.5")), grpc.StatusCode.PERMISSION_DENIED)
    assert (await sidecar.stub.Transfer(transfer("4"))).transfer.amount == "4"


async def test_spend_caps_fail_closed_when_redis_is_down(
    running: Any, redis_server: RedisServer, control: EmulatorControl, token: str
) -> None:
    policy = CAPPED + '    - {asset: TON, max: "10", window: rolling_24h, on_store_error: allow}\n'
    sidecar = await running(policy, redis_url=Secret(redis_server.url))
    redis_server.stop()
    before = await control.api_requests(token)
    error = await refused(sidecar.stub.Transfer(transfer("1")), grpc.StatusCode.UNAVAILABLE)
    assert rich_details(error)["ErrorInfo"].reason == "SPEND_STORE_UNAVAILABLE"
    assert "fail closed" in (error.details() or "")
    assert await control.api_requests(token) == before
    ton = pb.TransferRequest(user_id=1, asset="TON", amount="1", spend_id=uuid.uuid4().hex)
    assert (await sidecar.stub.Transfer(ton)).transfer.asset == "TON"
    # Calls that spend nothing do not need Redis.
    assert (await sidecar.stub.GetBalance(pb.GetBalanceRequest())).items


async def test_invalid_policy_refuses_to_start(running: Any) -> None:
    with pytest.raises(ConfigError) as info:
        await running("version: 1\ndefaults:\n  amounts:\n    USDT: {max: 0.1}\n")
    assert ":4:" in str(info.value) and "not exact" in str(info.value)


async def test_caps_without_redis_refuse_to_start(running: Any) -> None:
    with pytest.raises(ConfigError) as info:
        await running(CAPPED)
    assert "spend caps need Redis" in str(info.value)


async def test_no_policy_is_permissive_and_says_so(
    running: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sidecar.server"):
        sidecar = await running(None)
    assert "permissive default policy" in caplog.text
    call = sidecar.stub.GetMe(pb.GetMeRequest())
    await call
    assert trailer_dict(await call.trailing_metadata())["cryptopay-policy"]


async def test_policy_status_endpoint(running: Any, http_session: aiohttp.ClientSession) -> None:
    sidecar = await running(IDENTITY)
    async with http_session.get(f"http://127.0.0.1:{sidecar.sidecar.http_port}/policy") as response:
        body = await response.json()
    assert body["hash"] == sidecar.sidecar.policy.current.hash
    assert body["callers"] == ["payouts"] and body["identity_required"] is True
    assert body["last_reload_error"] is None
    assert key_digest(KEY) not in json.dumps(body)


# --- hot reload under load -----------------------------------------------------------------------

V1 = """
version: 1
defaults:
  rpcs: {allow: [GetMe, CreateInvoice, GetBalance]}
  amounts: {USDT: {max: "1000"}}
"""
V2 = V1.replace('"1000"', '"999"')
DENY_INVOICES = V1.replace("CreateInvoice, ", "")


def configmap_swap(root: Path, text: str) -> None:
    """Updates a ConfigMap-style volume as the kubelet does: a new timestamped directory, then
    an atomic rename of the ..data symlink."""
    version = root / f"..{uuid.uuid4().hex}"
    version.mkdir()
    (version / "policy.yaml").write_text(text)
    tmp = root / "..data_tmp"
    os.symlink(version.name, tmp)
    os.replace(tmp, root / "..data")


async def test_reload_under_load(running: Any, tmp_path: Path) -> None:
    root = tmp_path / "configmap"
    root.mkdir()
    configmap_swap(root, V1)
    os.symlink("..data/policy.yaml", root / "policy.yaml")
    sidecar = await running(root / "policy.yaml", policy_poll_interval=0.1)
    holder = sidecar.sidecar.policy
    assert holder is not None
    failures: list[str] = []
    seen_hashes: set[str] = set()
    calls = 0
    stop = asyncio.Event()

    async def worker(n: int) -> None:
        nonlocal calls
        while not stop.is_set():
            try:
                if n % 2:
                    call = sidecar.stub.CreateInvoice(
                        pb.CreateInvoiceRequest(asset="USDT", amount="5")
                    )
                else:
                    call = sidecar.stub.GetBalance(pb.GetBalanceRequest())
                await call
                seen_hashes.add(trailer_dict(await call.trailing_metadata())["cryptopay-policy"])
                calls += 1
            except grpc.aio.AioRpcError as exc:
                failures.append(f"{exc.code()}: {exc.details()}")

    def beyond(count: int) -> Callable[[], bool]:
        return lambda: calls > count

    workers = [asyncio.create_task(worker(n)) for n in range(8)]
    try:
        hashes = {holder.current.hash}
        for text in (V2, V1, V2, V1, V2):
            before = holder.current.hash
            configmap_swap(root, text)
            await eventually(
                lambda before=before: holder.current.hash != before,  # type: ignore[misc]
                "the new policy",
                within=15,
            )
            hashes.add(holder.current.hash)
            await eventually(beyond(calls + 5), "calls under the new policy", within=15)
        assert len(hashes) == 2
        # An invalid policy is refused; the last good one stays and calls keep working.
        good = holder.current.hash
        configmap_swap(root, "version: 1\ndefaults:\n  amounts: {USDT: {max: 1.5}}\n")
        await eventually(lambda: holder.last_error is not None, "the refusal", within=15)
        assert "not exact" in (holder.last_error or "")
        calls_then = calls
        await eventually(lambda: calls > calls_then + 20, "calls after the refusal", within=15)
        assert holder.current.hash == good
    finally:
        stop.set()
        await asyncio.gather(*workers)
    assert failures == []
    assert calls > 50 and len(seen_hashes) == 2

    # A valid policy that denies takes effect for new calls.
    configmap_swap(root, DENY_INVOICES)
    await eventually(
        lambda: holder.last_error is None and holder.current.hash != good,
        "the denying policy",
        within=15,
    )
    await refused(
        sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="5")),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_a_call_in_flight_finishes_under_the_policy_it_started_with(
    running: Any, tmp_path: Path, control: EmulatorControl, token: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(V1)
    sidecar = await running(path, policy_poll_interval=0.05)
    holder = sidecar.sidecar.policy
    assert holder is not None
    started_under = holder.current.short_hash
    await control.fault(token, method="createInvoice", kind="latency", latency_ms=700, count=1)
    call = sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="5"))
    await control.wait_requests(token)  # the call is now waiting on the upstream
    path.write_text(DENY_INVOICES)
    await eventually(
        lambda: holder.current.short_hash != started_under, "the denying policy", within=15
    )
    assert (await call).invoice.amount == "5"
    assert trailer_dict(await call.trailing_metadata())["cryptopay-policy"] == started_under
    await refused(
        sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="5")),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_spend_caps_with_idempotency_keys_count_a_transfer_once(
    running: Any, redis_server: RedisServer, control: EmulatorControl, token: str
) -> None:
    sidecar = await running(CAPPED, redis_url=Secret(redis_server.url))
    stub = sidecar.stub
    key = (("idempotency-key", uuid.uuid4().hex),)
    request = pb.TransferRequest(user_id=1, asset="USDT", amount="4")  # spend_id from the key
    # Performed, then a 500: the sidecar finds the transfer by its derived spend_id.
    await control.fault(token, method="transfer", kind="commit_then_fail", status=500, count=1)
    assert (await stub.Transfer(request, metadata=key)).transfer.amount == "4"
    assert (await stub.Transfer(request, metadata=key)).transfer.amount == "4"  # replayed
    assert (await stub.Transfer(transfer("6"))).transfer.amount == "6"
    await refused(
        stub.Transfer(transfer("0.000000000000000001")), grpc.StatusCode.PERMISSION_DENIED
    )
    ledger = await control.ledger(token)
    assert sum(Decimal(t["amount"]) for t in ledger["transfers"]) == 10
