"""The Python client's conveniences over real gRPC, against a scripted server that answers
what each test needs (failures the live sidecar cannot be made to produce on demand)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from cryptopay_sidecar_client import (
    Backoff,
    CryptoPayServiceStub,
    aio_channel,
    call_idempotent,
    call_idempotent_sync,
    channel,
    error_details,
    pb,
    resumable,
)
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

SERVICE = "cryptopay.v1.CryptoPayService"
FAST = Backoff(base=0.01, cap=0.05)


@dataclass
class Failure:
    code: grpc.StatusCode
    reason: str | None = None
    retry_delay: float | None = None

    async def abort(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        details = []
        if self.reason:
            info = error_details_pb2.ErrorInfo(reason=self.reason, domain="test")
            details.append(info)
        if self.retry_delay is not None:
            delay = duration_pb2.Duration()
            delay.FromTimedelta(__import__("datetime").timedelta(seconds=self.retry_delay))
            details.append(error_details_pb2.RetryInfo(retry_delay=delay))
        status = status_pb2.Status(code=self.code.value[0], message=f"scripted {self.code.name}")
        for detail in details:
            status.details.add().Pack(detail)
        await context.abort(
            self.code,
            status.message,
            trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),),
        )


@dataclass
class Seen:
    metadata: dict[str, str]
    time_remaining: float | None
    at: float


@dataclass
class Script:
    """What the scripted server answers, call by call, and what it received."""

    failures: dict[str, list[Failure]] = field(default_factory=dict)
    trailers: tuple[tuple[str, str], ...] = ()
    seen: dict[str, list[Seen]] = field(default_factory=dict)

    async def answer(self, method: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.seen.setdefault(method, []).append(
            Seen(
                {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)},
                context.time_remaining(),
                time.monotonic(),
            )
        )
        queue = self.failures.get(method, [])
        if queue:
            await queue.pop(0).abort(context)
        context.set_trailing_metadata(self.trailers)


@dataclass
class Scripted:
    script: Script
    target: str


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    script = Script()

    async def get_me(_request: pb.GetMeRequest, context: Any) -> pb.GetMeResponse:
        await script.answer("GetMe", context)
        return pb.GetMeResponse()

    async def create_invoice(
        request: pb.CreateInvoiceRequest, context: Any
    ) -> pb.CreateInvoiceResponse:
        await script.answer("CreateInvoice", context)
        response = pb.CreateInvoiceResponse()
        response.invoice.invoice_id = 7
        response.invoice.amount = request.amount
        return response

    async def transfer(request: pb.TransferRequest, context: Any) -> pb.TransferResponse:
        await script.answer("Transfer", context)
        response = pb.TransferResponse()
        response.transfer.amount = request.amount
        return response

    def unary(
        handler: Callable[[Any, Any], Awaitable[Any]], request_type: Any, response_type: Any
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return grpc.unary_unary_rpc_method_handler(
            handler,
            request_deserializer=request_type.FromString,
            response_serializer=response_type.SerializeToString,
        )

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "GetMe": unary(get_me, pb.GetMeRequest, pb.GetMeResponse),
                    "CreateInvoice": unary(
                        create_invoice, pb.CreateInvoiceRequest, pb.CreateInvoiceResponse
                    ),
                    "Transfer": unary(transfer, pb.TransferRequest, pb.TransferResponse),
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield Scripted(script, f"127.0.0.1:{port}")
    await server.stop(None)


async def test_channel_adds_metadata_and_a_default_deadline(scripted: Scripted) -> None:
    async with aio_channel(
        scripted.target, metadata=[("x-caller", "checkout")], default_timeout=12
    ) as chan:
        stub = CryptoPayServiceStub(chan)
        await stub.GetMe(pb.GetMeRequest())
        await stub.GetMe(pb.GetMeRequest(), timeout=3, metadata=[("x-caller", "override")])
    first, second = scripted.script.seen["GetMe"]
    assert first.metadata["x-caller"] == "checkout"
    assert first.time_remaining is not None and 10 < first.time_remaining < 13
    # The caller's own metadata and deadline win.
    assert second.metadata["x-caller"] == "override"
    assert second.time_remaining is not None and second.time_remaining < 4


async def test_channel_retries_reads_but_never_mutations(scripted: Scripted) -> None:
    unavailable = Failure(grpc.StatusCode.UNAVAILABLE)
    scripted.script.failures["GetMe"] = [unavailable, unavailable]
    scripted.script.failures["CreateInvoice"] = [unavailable]
    async with aio_channel(scripted.target) as chan:
        stub = CryptoPayServiceStub(chan)
        await stub.GetMe(pb.GetMeRequest())
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"))
    assert len(scripted.script.seen["GetMe"]) == 3
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(scripted.script.seen["CreateInvoice"]) == 1


async def test_sync_channel_has_the_same_defaults(scripted: Scripted) -> None:
    scripted.script.failures["GetMe"] = [Failure(grpc.StatusCode.UNAVAILABLE)]

    def run() -> None:
        with channel(scripted.target, metadata=[("x-caller", "payouts")]) as chan:
            CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest())

    await asyncio.to_thread(run)
    seen = scripted.script.seen["GetMe"]
    assert len(seen) == 2 and seen[-1].metadata["x-caller"] == "payouts"
    assert seen[-1].time_remaining is not None and seen[-1].time_remaining < 31


async def test_call_idempotent_resends_with_the_same_key(scripted: Scripted) -> None:
    scripted.script.failures["CreateInvoice"] = [
        Failure(grpc.StatusCode.UNAVAILABLE),  # sidecar restarting
        Failure(grpc.StatusCode.ABORTED, "IDEMPOTENCY_KEY_IN_USE", retry_delay=0.2),
        Failure(grpc.StatusCode.RESOURCE_EXHAUSTED),
    ]
    scripted.script.trailers = (("idempotent-replayed", "true"),)
    async with aio_channel(scripted.target) as chan:
        stub = CryptoPayServiceStub(chan)
        result = await call_idempotent(
            stub.CreateInvoice,
            pb.CreateInvoiceRequest(asset="TON", amount="2"),
            key="order-42",
            backoff=FAST,
        )
    assert result.response.invoice.amount == "2"
    assert (result.key, result.attempts, result.replayed) == ("order-42", 4, True)
    seen = scripted.script.seen["CreateInvoice"]
    assert [s.metadata["idempotency-key"] for s in seen] == ["order-42"] * 4
    # The RetryInfo delay was honoured.
    assert seen[2].at - seen[1].at >= 0.2


@pytest.mark.parametrize(
    "failure",
    [
        Failure(grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN"),
        Failure(grpc.StatusCode.UNAVAILABLE, "UPSTREAM_DISCONNECTED"),
        Failure(grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED"),
    ],
    ids=lambda f: f.reason,
)
async def test_call_idempotent_never_resends_after_an_unknown_or_definite_answer(
    scripted: Scripted, failure: Failure
) -> None:
    scripted.script.failures["CreateInvoice"] = [failure]
    async with aio_channel(scripted.target) as chan:
        stub = CryptoPayServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call_idempotent(
                stub.CreateInvoice, pb.CreateInvoiceRequest(asset="TON", amount="2"), backoff=FAST
            )
    assert error_details(info.value).reason == failure.reason
    assert len(scripted.script.seen["CreateInvoice"]) == 1


async def test_a_transfer_is_resent_after_an_unknown_outcome(scripted: Scripted) -> None:
    # The spend_id derived from the key makes the upstream refuse a second transfer.
    scripted.script.failures["Transfer"] = [
        Failure(grpc.StatusCode.UNAVAILABLE, "UPSTREAM_DISCONNECTED"),
        Failure(grpc.StatusCode.DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT"),
    ]
    async with aio_channel(scripted.target) as chan:
        stub = CryptoPayServiceStub(chan)
        request = pb.TransferRequest(user_id=1, asset="TON", amount="1")
        result = await call_idempotent(stub.Transfer, request, backoff=FAST)
    assert result.attempts == 3
    assert len({s.metadata["idempotency-key"] for s in scripted.script.seen["Transfer"]}) == 1


async def test_call_idempotent_gives_up_at_the_deadline(scripted: Scripted) -> None:
    scripted.script.failures["CreateInvoice"] = [
        Failure(grpc.StatusCode.ABORTED, "IDEMPOTENCY_KEY_IN_USE", retry_delay=5.0)
    ]
    async with aio_channel(scripted.target) as chan:
        stub = CryptoPayServiceStub(chan)
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError):
            await call_idempotent(
                stub.CreateInvoice, pb.CreateInvoiceRequest(asset="TON", amount="2"), timeout=1
            )
    assert time.monotonic() - started < 1
    assert len(scripted.script.seen["CreateInvoice"]) == 1


async def test_call_idempotent_sync(scripted: Scripted) -> None:
    scripted.script.failures["CreateInvoice"] = [Failure(grpc.StatusCode.UNAVAILABLE)]

    def run() -> Any:
        with channel(scripted.target) as chan:
            return call_idempotent_sync(
                CryptoPayServiceStub(chan).CreateInvoice,
                pb.CreateInvoiceRequest(asset="TON", amount="3"),
                backoff=FAST,
            )

    result = await asyncio.to_thread(run)
    assert result.attempts == 2 and not result.replayed
    keys = {s.metadata["idempotency-key"] for s in scripted.script.seen["CreateInvoice"]}
    assert keys == {result.key}


# --- resumable streams ----------------------------------------------------------------------------


@pytest.fixture
async def event_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A stream of events "1".."10" after a given id that breaks twice mid-stream."""
    opened: list[str] = []
    breaks = {3, 7}

    async def subscribe(request: bytes, context: Any) -> AsyncIterator[bytes]:
        after = int(request.decode() or 0)
        opened.append(request.decode())
        for event in range(after + 1, 11):
            if event in breaks:
                breaks.discard(event)
                await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")
            yield str(event).encode()

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Events", {"Subscribe": grpc.unary_stream_rpc_method_handler(subscribe)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", opened
    await server.stop(None)


async def test_resumable_stream_resumes_after_the_last_event(
    event_server: tuple[str, list[str]],
) -> None:
    target, opened = event_server
    async with aio_channel(target) as chan:
        method = chan.unary_stream("/test.Events/Subscribe", None, None)

        def open_stream(after: str | None) -> AsyncIterable[bytes]:
            return method((after or "").encode())

        received = []
        async for event in resumable(
            open_stream, lambda e: e.decode(), backoff=FAST, max_failures=3
        ):
            received.append(event.decode())
            if event == b"10":
                break
    assert received == [str(n) for n in range(1, 11)]  # no gap, no duplicate
    assert opened == ["", "2", "6"]


async def test_resumable_stream_raises_what_resuming_cannot_fix(
    event_server: tuple[str, list[str]],
) -> None:
    target, _ = event_server
    async with aio_channel(target) as chan:
        method = chan.unary_stream("/test.Events/Missing", None, None)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for _ in resumable(lambda after: method(b""), lambda e: "", backoff=FAST):
                pass
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
