"""Retries end to end (gRPC -> sidecar -> HTTP -> emulator), one test per effect class and
failure: what is retried, how many attempts the caller is told about, what the ledger holds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from tests.conftest import EmulatorControl
from tests.helpers import rich_details

if TYPE_CHECKING:
    # What CryptoPayServiceStub(channel) is over a grpc.aio channel (type checkers only).
    from sidecar.gen.cryptopay.v1.cryptopay_service_pb2_grpc import (
        CryptoPayServiceAsyncStub as Stub,
    )


async def answer(call: Any) -> tuple[Any, dict[str, str]]:
    """The response (or the AioRpcError) and the trailing metadata of a unary call."""
    try:
        response = await call
    except grpc.aio.AioRpcError as error:
        return error, _text(error.trailing_metadata() or ())
    return response, _text(await call.trailing_metadata())


def _text(metadata: Any) -> dict[str, str]:
    return {k: v for k, v in metadata if isinstance(v, str)}


async def test_reads_retry_through_transient_failures(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(token, method="getBalance", kind="status", status=503, count=1)
    await control.fault(token, method="getBalance", kind="drop", count=1)
    response, trailers = await answer(stub.GetBalance(pb.GetBalanceRequest()))
    assert response.items and trailers["cryptopay-attempts"] == "3"


async def test_attempts_stop_at_the_maximum(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(token, method="getMe", kind="status", status=502, count=10)
    error, trailers = await answer(stub.GetMe(pb.GetMeRequest()))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert trailers["cryptopay-attempts"] == "3"
    assert await control.api_requests(token) == 3


async def test_retry_after_is_honoured(stub: Stub, control: EmulatorControl, token: str) -> None:
    await control.fault(token, method="getMe", kind="status", status=429, retry_after=1, count=1)
    started = time.monotonic()
    # A 1 s Retry-After, well within the deadline and the cap: the sidecar waits it out.
    response, trailers = await answer(stub.GetMe(pb.GetMeRequest(), timeout=10))
    assert response.app.app_id and trailers["cryptopay-attempts"] == "2"
    assert time.monotonic() - started >= 1.0  # waited as asked, not the short backoff
    assert await control.api_requests(token) == 2


async def test_a_create_that_may_have_happened_is_not_retried(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(
        token, method="createCheck", kind="commit_then_fail", then="status", status=500, count=1
    )
    error, trailers = await answer(stub.CreateCheck(pb.CreateCheckRequest(asset="TON", amount="1")))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    info = rich_details(error)["ErrorInfo"]
    assert info.reason == "OUTCOME_UNKNOWN" and info.metadata["cause"] == "APP_ERROR"
    assert "GetChecks" in error.details()
    assert trailers["cryptopay-attempts"] == "1"
    assert len((await control.ledger(token))["checks"]) == 1


async def test_a_create_refused_with_429_is_retried(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(token, method="createInvoice", kind="status", status=429, count=1)
    response, trailers = await answer(
        stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"))
    )
    assert response.invoice.invoice_id and trailers["cryptopay-attempts"] == "2"
    assert len((await control.ledger(token))["invoices"]) == 1


async def test_a_create_that_was_never_sent_is_retried(emulator: RunningEmulator) -> None:
    from sidecar.config import Settings
    from sidecar.secrets import Secret
    from sidecar.server import Sidecar
    from tests.helpers import free_port, new_token

    sidecar = Sidecar(
        Settings(
            grpc_listen="127.0.0.1:0",
            http_listen=None,
            upstream_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: connect refused
            token=Secret(new_token()),
            grace_seconds=0.5,
        )
    )
    await sidecar.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}")
    try:
        error, trailers = await answer(
            pb_grpc.CryptoPayServiceStub(channel).CreateInvoice(
                pb.CreateInvoiceRequest(asset="TON", amount="1")
            )
        )
        assert rich_details(error)["ErrorInfo"].reason == "UPSTREAM_UNREACHABLE"
        assert trailers["cryptopay-attempts"] == "3"
    finally:
        await channel.close(None)
        await sidecar.stop()


async def test_a_delete_retried_after_it_happened_reports_deleted(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    check = (await stub.CreateCheck(pb.CreateCheckRequest(asset="TON", amount="1"))).check
    await control.fault(token, method="deleteCheck", kind="commit_then_fail", then="drop", count=1)
    response, trailers = await answer(
        stub.DeleteCheck(pb.DeleteCheckRequest(check_id=check.check_id))
    )
    assert response.deleted and trailers["cryptopay-attempts"] == "2"


async def test_deletes_are_retried(stub: Stub, control: EmulatorControl, token: str) -> None:
    invoice = (await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"))).invoice
    await control.fault(token, method="deleteInvoice", kind="drop", count=1)
    response, trailers = await answer(
        stub.DeleteInvoice(pb.DeleteInvoiceRequest(invoice_id=invoice.invoice_id))
    )
    assert response.deleted and trailers["cryptopay-attempts"] == "2"


@pytest.mark.parametrize("then", ["drop", "status"])
async def test_a_transfer_with_an_unknown_outcome_is_reconciled(
    stub: Stub, control: EmulatorControl, token: str, then: str
) -> None:
    await control.fault(
        token, method="transfer", kind="commit_then_fail", then=then, status=502, count=1
    )
    request = pb.TransferRequest(user_id=7, asset="TON", amount="1", spend_id="order-7")
    response, trailers = await answer(stub.Transfer(request))
    assert response.transfer.spend_id == "order-7"
    assert trailers["cryptopay-attempts"] == "1"  # found by getTransfers: no second attempt
    assert trailers["cryptopay-reconciled"] == "true"
    [transfer] = (await control.ledger(token))["transfers"]
    assert transfer["transfer_id"] == response.transfer.transfer_id


async def test_a_transfer_not_performed_is_retried_with_its_spend_id(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(token, method="transfer", kind="status", status=500, count=1)
    request = pb.TransferRequest(user_id=7, asset="TON", amount="1", spend_id="order-8")
    response, trailers = await answer(stub.Transfer(request))
    assert response.transfer.spend_id == "order-8"
    assert trailers["cryptopay-attempts"] == "2" and "cryptopay-reconciled" not in trailers
    assert len((await control.ledger(token))["transfers"]) == 1


async def test_retries_stop_before_the_callers_deadline(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    # The first attempt uses up the caller's deadline: no second one is started after it.
    await control.fault(token, method="getMe", kind="latency", latency_ms=3000, count=10)
    error, _ = await answer(stub.GetMe(pb.GetMeRequest(), timeout=1.0))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await control.api_requests(token) == 1
