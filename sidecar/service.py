"""CryptoPayService: the gRPC edge of the request path (one thin method per RPC)."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
from google.protobuf.message import Message

from sidecar.errors import RpcError, refusal
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.methods import BY_RPC
from sidecar.pipeline import Call, Pipeline, metadata_dict
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Message, Message]


class CryptoPayService(pb_grpc.CryptoPayServiceServicer):
    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def _serve(self, rpc: str, request: Message, context: Context) -> Message:
        started = time.perf_counter()
        metrics.rpc_started(rpc)
        remaining = context.time_remaining()
        call = Call(
            spec=BY_RPC[rpc],
            request=request,
            metadata=metadata_dict(context.invocation_metadata()),  # type: ignore[arg-type]
            deadline=None if remaining is None else time.monotonic() + remaining,
        )
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

    async def GetMe(self, request: pb.GetMeRequest, context: Context) -> pb.GetMeResponse:
        return await self._serve("GetMe", request, context)  # type: ignore[return-value]

    async def CreateInvoice(
        self, request: pb.CreateInvoiceRequest, context: Context
    ) -> pb.CreateInvoiceResponse:
        return await self._serve("CreateInvoice", request, context)  # type: ignore[return-value]

    async def DeleteInvoice(
        self, request: pb.DeleteInvoiceRequest, context: Context
    ) -> pb.DeleteInvoiceResponse:
        return await self._serve("DeleteInvoice", request, context)  # type: ignore[return-value]

    async def CreateCheck(
        self, request: pb.CreateCheckRequest, context: Context
    ) -> pb.CreateCheckResponse:
        return await self._serve("CreateCheck", request, context)  # type: ignore[return-value]

    async def DeleteCheck(
        self, request: pb.DeleteCheckRequest, context: Context
    ) -> pb.DeleteCheckResponse:
        return await self._serve("DeleteCheck", request, context)  # type: ignore[return-value]

    async def Transfer(self, request: pb.TransferRequest, context: Context) -> pb.TransferResponse:
        return await self._serve("Transfer", request, context)  # type: ignore[return-value]

    async def GetInvoices(
        self, request: pb.GetInvoicesRequest, context: Context
    ) -> pb.GetInvoicesResponse:
        return await self._serve("GetInvoices", request, context)  # type: ignore[return-value]

    async def GetTransfers(
        self, request: pb.GetTransfersRequest, context: Context
    ) -> pb.GetTransfersResponse:
        return await self._serve("GetTransfers", request, context)  # type: ignore[return-value]

    async def GetChecks(
        self, request: pb.GetChecksRequest, context: Context
    ) -> pb.GetChecksResponse:
        return await self._serve("GetChecks", request, context)  # type: ignore[return-value]

    async def GetBalance(
        self, request: pb.GetBalanceRequest, context: Context
    ) -> pb.GetBalanceResponse:
        return await self._serve("GetBalance", request, context)  # type: ignore[return-value]

    async def GetExchangeRates(
        self, request: pb.GetExchangeRatesRequest, context: Context
    ) -> pb.GetExchangeRatesResponse:
        return await self._serve("GetExchangeRates", request, context)  # type: ignore[return-value]

    async def GetCurrencies(
        self, request: pb.GetCurrenciesRequest, context: Context
    ) -> pb.GetCurrenciesResponse:
        return await self._serve("GetCurrencies", request, context)  # type: ignore[return-value]

    async def GetStats(self, request: pb.GetStatsRequest, context: Context) -> pb.GetStatsResponse:
        return await self._serve("GetStats", request, context)  # type: ignore[return-value]


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
