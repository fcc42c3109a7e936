"""CryptoPayService: the gRPC edge of the request path (one method per RPC, made from the
method table)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.message import DecodeError, Message

from sidecar.errors import RpcError, refusal
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.methods import BY_RPC, METHODS
from sidecar.peer import peer_from_auth_context
from sidecar.pipeline import Call, Pipeline, metadata_dict
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Message, Message]


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CryptoPayService"].full_name


class Undecodable:
    """Handed to the servicer in place of a request whose bytes are not a valid message, so
    it is answered INVALID_ARGUMENT (grpc's own deserializer failure would answer UNKNOWN)."""

    __slots__ = ("message_type", "reason")

    def __init__(self, message_type: type[Message], reason: str) -> None:
        self.message_type = message_type
        self.reason = reason


def _deserializer(message_type: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    def deserialize(data: bytes) -> Message | Undecodable:
        try:
            return message_type.FromString(data)
        except DecodeError as exc:  # a truncated varint, invalid UTF-8 in a string field...
            return Undecodable(message_type, str(exc)[:200])

    return deserialize


def add_to_server(service: CryptoPayService, server: grpc.aio.Server) -> None:
    """Registers the service like the generated add_..._to_server, with deserializers that turn
    undecodable bytes into an INVALID_ARGUMENT answer."""
    handlers = {
        spec.rpc: grpc.unary_unary_rpc_method_handler(
            getattr(service, spec.rpc),
            request_deserializer=_deserializer(spec.request_type),
            response_serializer=spec.response_type.SerializeToString,
        )
        for spec in METHODS
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)  # type: ignore[attr-defined]


class CryptoPayService(pb_grpc.CryptoPayServiceServicer):
    def __init__(self, pipeline: Pipeline, client_certificates: bool = False) -> None:
        self._pipeline = pipeline
        # mTLS: the listener verified a client certificate on every connection.
        self._client_certificates = client_certificates

    async def _serve(self, rpc: str, request: Message, context: Context) -> Message:
        started = time.perf_counter()
        metrics.rpc_started(rpc)
        if isinstance(request, Undecodable):
            seconds = time.perf_counter() - started
            metrics.rpc_finished(rpc, grpc.StatusCode.INVALID_ARGUMENT, seconds)
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{rpc}: the request is not a valid {request.message_type.DESCRIPTOR.full_name} "
                f"message ({request.reason}); send it with the generated client or stubs",
            )
        remaining = context.time_remaining()
        call = Call(
            spec=BY_RPC[rpc],
            request=request,
            metadata=metadata_dict(context.invocation_metadata()),  # type: ignore[arg-type]
            deadline=None if remaining is None else time.monotonic() + remaining,
        )
        if self._client_certificates:
            call.peer = peer_from_auth_context(context.auth_context())
        # Log lines of the call carry the caller's trace id even when no span is made for it.
        with tracing.remote_parent(call.metadata):
            try:
                response = await self._handle(rpc, call)
            except RpcError as error:
                # Counted before answering: a caller that sees the answer sees it counted.
                _finished(call, error.code, started)
                _record_error(error)
                await context.abort_with_status(error.to_status(_trailers(call)))  # type: ignore[attr-defined]
                raise  # unreachable: abort_with_status raises
            except asyncio.CancelledError:
                _finished(call, grpc.StatusCode.CANCELLED, started)
                raise
            _finished(call, grpc.StatusCode.OK, started)
        context.set_trailing_metadata(_trailers(call))
        return response

    async def _handle(self, rpc: str, call: Call) -> Message:
        try:
            return await self._pipeline.handle(call)
        except (RpcError, asyncio.CancelledError):
            raise
        except Exception:
            # A bug must not take the process down nor leak its text to the caller.
            log.exception("unexpected error", extra={"rpc": rpc})
            raise _internal_error() from None


def _method(rpc: str) -> Callable[[CryptoPayService, Message, Context], Awaitable[Message]]:
    async def serve(self: CryptoPayService, request: Message, context: Context) -> Message:
        return await self._serve(rpc, request, context)

    serve.__name__ = rpc
    serve.__qualname__ = f"CryptoPayService.{rpc}"
    return serve


# One servicer method per entry of the method table, all alike.
for _spec in METHODS:
    setattr(CryptoPayService, _spec.rpc, _method(_spec.rpc))


def _finished(call: Call, code: grpc.StatusCode, started: float) -> None:
    seconds = time.perf_counter() - started
    metrics.rpc_finished(call.spec.rpc, code, seconds)
    log.debug(
        "rpc finished",
        extra={
            "rpc": call.spec.rpc,
            "code": code.name,
            "seconds": round(seconds, 6),
            "attempts": call.attempts,
            "caller": call.caller,
        },
    )


def _internal_error() -> RpcError:
    ids = tracing.ids()
    where = f" (trace id {ids[0]})" if ids else ""
    return refusal(
        grpc.StatusCode.INTERNAL,
        "INTERNAL_ERROR",
        f"the sidecar failed unexpectedly; its log has the details{where}",
    )


def _record_error(error: RpcError) -> None:
    # The server span's interceptor sees abort() but not abort_with_status(): set it here.
    tracing.annotate({tracing.GRPC_STATUS: error.code.value[0], tracing.ERROR_NAME: error.reason})
    tracing.fail(f"{error.code.name}: {error.message}")


def _trailers(call: Call) -> tuple[tuple[str, str], ...]:
    items = list(call.trailing)
    if call.attempts:
        items.append(("cryptopay-attempts", str(call.attempts)))
    return tuple(items)
