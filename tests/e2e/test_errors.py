"""Invalid input never reaches the upstream; every upstream error maps to its documented status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from tests.conftest import EmulatorControl, RunningSidecar, start_sidecar
from tests.helpers import free_port, new_token, rich_details

if TYPE_CHECKING:
    # What CryptoPayServiceStub(channel) is over a grpc.aio channel (type checkers only).
    from sidecar.gen.cryptopay.v1.cryptopay_service_pb2_grpc import (
        CryptoPayServiceAsyncStub as Stub,
    )

# One representative invalid request per RPC that takes parameters, with the fields it must name.
INVALID: list[tuple[str, Message, set[str]]] = [
    ("CreateInvoice", pb.CreateInvoiceRequest(asset="USDT", amount="-5"), {"amount"}),
    (
        "CreateInvoice",
        pb.CreateInvoiceRequest(
            asset="USDT", amount="1", paid_btn_name=types.PAID_BUTTON_NAME_VIEW_ITEM
        ),
        {"paid_btn_url"},
    ),
    (
        "CreateInvoice",
        pb.CreateInvoiceRequest(currency_type=types.CURRENCY_TYPE_FIAT, amount="1"),
        {"fiat"},
    ),
    ("DeleteInvoice", pb.DeleteInvoiceRequest(), {"invoice_id"}),
    ("CreateCheck", pb.CreateCheckRequest(asset="TON", amount="1.2.3"), {"amount"}),
    ("DeleteCheck", pb.DeleteCheckRequest(check_id=-1), {"check_id"}),
    ("Transfer", pb.TransferRequest(user_id=0, asset="TON", amount="1"), {"user_id", "spend_id"}),
    ("GetInvoices", pb.GetInvoicesRequest(count=1001), {"count"}),
    ("GetTransfers", pb.GetTransfersRequest(offset=-1), {"offset"}),
    ("GetChecks", pb.GetChecksRequest(check_ids=[0]), {"check_ids"}),
    # Digits that Python's Decimal and regex \d accept, but the API's ASCII grammar does not.
    *(
        ("Transfer", pb.TransferRequest(user_id=1, asset="TON", amount=a, spend_id="s"), {"amount"})
        for a in ("\uff11\uff10", "\u0661\u0660", "5\n", " 5", "+5", "5e1", "1_0")
    ),
    ("CreateCheck", pb.CreateCheckRequest(asset="TON\n", amount="1"), {"asset"}),
    # Enum numbers the API does not know, and Timestamps out of their range.
    (
        "CreateInvoice",
        pb.CreateInvoiceRequest(
            asset="TON", amount="1", currency_type=types.CurrencyType.ValueType(99)
        ),
        {"currency_type"},
    ),
    (
        "CreateInvoice",
        pb.CreateInvoiceRequest(
            asset="TON", amount="1", paid_btn_name=types.PaidButtonName.ValueType(99)
        ),
        {"paid_btn_name"},
    ),
    ("GetInvoices", pb.GetInvoicesRequest(status=types.InvoiceStatus.ValueType(99)), {"status"}),
    ("GetChecks", pb.GetChecksRequest(status=types.CheckStatus.ValueType(-5)), {"status"}),
    ("GetStats", pb.GetStatsRequest(start_at=Timestamp(seconds=1, nanos=-1)), {"start_at"}),
    ("GetStats", pb.GetStatsRequest(end_at=Timestamp(seconds=1, nanos=10**9)), {"end_at"}),
    ("GetStats", pb.GetStatsRequest(end_at=Timestamp(seconds=253_402_300_800)), {"end_at"}),
]


@pytest.mark.parametrize(("rpc", "request_", "fields"), INVALID, ids=lambda x: str(x)[:20])
async def test_invalid_request_never_reaches_upstream(
    stub: Stub, control: EmulatorControl, rpc: str, request_: Message, fields: set[str]
) -> None:
    before = await control.api_requests()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await getattr(stub, rpc)(request_)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = rich_details(info.value)
    assert {v.field for v in details["BadRequest"].field_violations} == fields
    assert details["ErrorInfo"].reason == "INVALID_REQUEST"
    for field in fields:
        assert field in (info.value.details() or "")
    assert await control.api_requests() == before


async def expect(call: object, code: grpc.StatusCode, reason: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call  # type: ignore[misc]
    error = info.value
    assert error.code() == code, error.details()
    assert rich_details(error)["ErrorInfo"].reason == reason
    return error


async def test_unsupported_asset(stub: Stub) -> None:
    await expect(
        stub.CreateInvoice(pb.CreateInvoiceRequest(asset="FFF", amount="1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "UNSUPPORTED_ASSET",
    )


async def test_asset_invalid_for_checks(stub: Stub) -> None:
    await expect(
        stub.CreateCheck(pb.CreateCheckRequest(asset="FFF", amount="1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ASSET_INVALID",
    )


async def test_not_enough_coins(stub: Stub) -> None:
    error = await expect(
        stub.CreateCheck(pb.CreateCheckRequest(asset="USDT", amount="100000000")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_ENOUGH_COINS",
    )
    info = rich_details(error)["ErrorInfo"]
    assert info.domain == "pay.crypt.bot"
    assert info.metadata["method"] == "createCheck" and info.metadata["http_status"] == "400"


async def test_amount_too_big(stub: Stub, control: EmulatorControl, token: str) -> None:
    await control.request("PUT", "balances", token, {"BTC": {"available": "5000", "onhold": "0"}})
    await expect(
        stub.Transfer(pb.TransferRequest(user_id=1, asset="BTC", amount="1000", spend_id="big")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "AMOUNT_TOO_BIG",
    )


async def test_method_disabled(stub: Stub, control: EmulatorControl, token: str) -> None:
    await control.request("PUT", "methods", token, {"disabled": ["transfer"]})
    error = await expect(
        stub.Transfer(pb.TransferRequest(user_id=1, asset="TON", amount="1", spend_id="d")),
        grpc.StatusCode.PERMISSION_DENIED,
        "METHOD_DISABLED",
    )
    assert "Security" in (error.details() or "")


async def test_wrong_token_tells_the_operator(
    emulator: RunningEmulator, control: EmulatorControl
) -> None:
    running = await start_sidecar(emulator, "12345:not-a-valid-token")
    try:
        error = await expect(
            running.stub.GetMe(pb.GetMeRequest()),
            grpc.StatusCode.FAILED_PRECONDITION,
            "UNAUTHORIZED",
        )
        assert "token" in (error.details() or "")
        assert "not-a-valid-token" not in (error.details() or "")
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


@pytest.mark.parametrize(
    ("rule", "code", "reason"),
    [
        (
            {"kind": "status", "status": 405, "name": "METHOD_NOT_FOUND"},
            grpc.StatusCode.UNIMPLEMENTED,
            "METHOD_NOT_FOUND",
        ),
        # Retryable failures: the default policy makes 3 attempts before answering.
        (
            {"kind": "status", "status": 500, "name": "APP_ERROR", "count": 3},
            grpc.StatusCode.UNAVAILABLE,
            "APP_ERROR",
        ),
        ({"kind": "status", "status": 503, "count": 3}, grpc.StatusCode.UNAVAILABLE, None),
        ({"kind": "drop", "count": 3}, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_DISCONNECTED"),
    ],
)
async def test_upstream_faults_map(
    stub: Stub,
    control: EmulatorControl,
    token: str,
    rule: dict[str, object],
    code: grpc.StatusCode,
    reason: str | None,
) -> None:
    await control.fault(token, method="getBalance", **{"count": 1, **rule})
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetBalance(pb.GetBalanceRequest())
    assert info.value.code() == code
    got = rich_details(info.value)["ErrorInfo"].reason
    assert got == reason if reason else got
    # The fault was consumed: the next call succeeds.
    assert (await stub.GetBalance(pb.GetBalanceRequest())).items


async def test_rate_limited_upstream_carries_retry_info(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(token, method="getMe", kind="status", status=429, retry_after=7, count=1)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetMe(pb.GetMeRequest())
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = rich_details(info.value)
    assert details["RetryInfo"].retry_delay.seconds == 7


async def test_caller_deadline_bounds_the_upstream_call(
    stub: Stub, control: EmulatorControl, token: str
) -> None:
    await control.fault(token, method="getMe", kind="latency", latency_ms=2000, count=1)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetMe(pb.GetMeRequest(), timeout=0.5)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_upstream_unreachable(emulator: RunningEmulator) -> None:
    from sidecar.config import Settings
    from sidecar.secrets import Secret
    from sidecar.server import Sidecar

    settings = Settings(
        grpc_listen="127.0.0.1:0",
        http_listen=None,
        upstream_url=f"http://127.0.0.1:{free_port()}",
        token=Secret(new_token()),
        grace_seconds=0.5,
    )
    sidecar = Sidecar(settings)
    await sidecar.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}")
    try:
        error = await expect(
            pb_grpc.CryptoPayServiceStub(channel).GetMe(pb.GetMeRequest()),
            grpc.StatusCode.UNAVAILABLE,
            "UPSTREAM_UNREACHABLE",
        )
        assert "not sent" in (error.details() or "")
    finally:
        await channel.close(None)
        await sidecar.stop()


# The live API's refusals the emulator reproduces (docs/emulator.md#fidelity): the sidecar passes
# each through with its Crypto Pay name, after exactly one upstream attempt.
LIVE_REFUSALS: list[tuple[str, Message, str]] = [
    ("CreateInvoice", pb.CreateInvoiceRequest(asset="TON", amount="0.0001"), "AMOUNT_TOO_SMALL"),
    ("CreateCheck", pb.CreateCheckRequest(asset="USDT", amount="0.001"), "AMOUNT_TOO_SMALL"),
    (
        "Transfer",
        pb.TransferRequest(user_id=1, asset="Unknown", amount="10", spend_id="live-refusal"),
        "AMOUNT_INVALID",
    ),
]


@pytest.mark.parametrize(("rpc", "request_", "name"), LIVE_REFUSALS, ids=lambda x: str(x)[:20])
async def test_live_refusals_pass_through_with_their_name(
    stub: Stub, control: EmulatorControl, token: str, rpc: str, request_: Message, name: str
) -> None:
    error = await expect(getattr(stub, rpc)(request_), grpc.StatusCode.INVALID_ARGUMENT, name)
    info = rich_details(error)["ErrorInfo"]
    assert info.domain == "pay.crypt.bot" and info.metadata["http_status"] == "400"
    assert name in (error.details() or "")
    assert await control.api_requests(token) == 1


def _string_field(message: type[Message], name: str, raw: bytes) -> bytes:
    number = message.DESCRIPTOR.fields_by_name[name].number
    return bytes([(number << 3) | 2, len(raw)]) + raw


UNDECODABLE = [
    ("GetInvoices", b"\x08"),  # a varint field whose value is cut off
    ("DeleteInvoice", b"\x08\xff\xff"),  # a varint that never ends
    ("CreateInvoice", _string_field(pb.CreateInvoiceRequest, "asset", b"\xff\xfe")),  # not UTF-8
    ("Transfer", b"\x12\x10ab"),  # a length beyond the end
]


@pytest.mark.parametrize(("rpc", "raw"), UNDECODABLE, ids=[r for r, _ in UNDECODABLE])
async def test_bytes_that_are_no_message_are_invalid_argument(
    sidecar: RunningSidecar, control: EmulatorControl, rpc: str, raw: bytes
) -> None:
    before = await control.api_requests()
    async with grpc.aio.insecure_channel(sidecar.target) as channel:
        # No serializers: the bytes go on the wire as they are.
        call = channel.unary_unary(f"/cryptopay.v1.CryptoPayService/{rpc}", None, None)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call(raw, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid cryptopay.v1." in (info.value.details() or "")
    assert await control.api_requests() == before
    # The service still answers well-formed calls afterwards.
    async with grpc.aio.insecure_channel(sidecar.target) as channel:
        await pb_grpc.CryptoPayServiceStub(channel).GetBalance(pb.GetBalanceRequest(), timeout=10)
