"""WebhookService: the gRPC face of the event log (Subscribe, Ack, Nack)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator

import grpc
from google.protobuf.message import Message

from sidecar.errors import RpcError, bad_request, refusal
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2_grpc as pb_grpc
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import metrics, tracing
from sidecar.telemetry.links import LINK_INVOICE_CREATED
from sidecar.webhooks.delivery import broadcast, requests
from sidecar.webhooks.delivery.convert import to_proto
from sidecar.webhooks.events import Event, EventId, fits_int64
from sidecar.webhooks.groups import GroupMember, default_consumer
from sidecar.webhooks.hub import Webhooks
from sidecar.webhooks.log import CursorExpired

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Message, Message]


def _unavailable(what: str) -> RpcError:
    return refusal(
        grpc.StatusCode.UNAVAILABLE,
        "EVENT_LOG_UNAVAILABLE",
        f"the webhook event log is unavailable ({what}); retry shortly",
        retry_after=1.0,
    )


def _expired(exc: CursorExpired) -> RpcError:
    return refusal(
        grpc.StatusCode.OUT_OF_RANGE,
        "EVENTS_EXPIRED",
        f"events after {exc.after} were removed by retention (up to {exc.horizon}): "
        "resubscribe with START_POSITION_EARLIEST and reconcile the gap with GetInvoices",
        metadata={"after_event_id": str(exc.after), "horizon_event_id": str(exc.horizon)},
    )


def _shutting_down(last: str) -> RpcError:
    where = f"after_event_id={last}" if last else "the same start position"
    return refusal(
        grpc.StatusCode.UNAVAILABLE,
        "SIDECAR_SHUTTING_DOWN",
        f"the sidecar is shutting down; resubscribe with {where}",
        retry_after=0.0,
        metadata={"last_event_id": last},
    )


def _deliver(event: Event, attempt: int = 0) -> pb.SubscribeResponse:
    """The response for one delivery, counted, with a span linked across the async gap to the
    ingest and to the RPC that created the invoice."""
    record = event.record
    metrics.webhook_delivered(record.update_type)
    targets = (
        tracing.link(record.created_traceparent, LINK_INVOICE_CREATED),
        tracing.link(record.traceparent, "webhook.ingest"),
    )
    span_links = [link for link in targets if link is not None]
    with tracing.span(
        "webhook deliver",
        {
            tracing.UPDATE_TYPE: record.update_type,
            # An exporter cannot encode an id beyond int64 (the event is delivered anyway).
            tracing.INVOICE_ID: record.invoice_id if fits_int64(record.invoice_id) else None,
        },
        links=span_links or None,
    ):
        return pb.SubscribeResponse(event=to_proto(event, attempt))


async def _abort(context: Context, error: RpcError) -> None:
    await context.abort_with_status(error.to_status())  # type: ignore[attr-defined]


class WebhookService(pb_grpc.WebhookServiceServicer):
    def __init__(self, hub: Webhooks) -> None:
        self._hub = hub

    async def Subscribe(
        self, request: pb.SubscribeRequest, context: Context
    ) -> AsyncGenerator[pb.SubscribeResponse, None]:
        violations = requests.validate_subscribe(request)
        if violations:
            await _abort(context, bad_request(violations))
            return
        last = ""
        self._hub.subscribed(+1)
        try:
            stream = self._group(request) if request.group else self._broadcast(request)
            async with contextlib.aclosing(stream):
                async for response in stream:
                    last = response.event.event_id
                    yield response
        except CursorExpired as exc:
            await _abort(context, _expired(exc))
            return
        except StoreUnavailable as exc:
            await _abort(context, _unavailable(str(exc)))
            return
        finally:
            self._hub.subscribed(-1)
        await _abort(context, _shutting_down(last))

    async def _broadcast(
        self, request: pb.SubscribeRequest
    ) -> AsyncGenerator[pb.SubscribeResponse, None]:
        hub = self._hub
        start = requests.start_of(request)
        after = await hub.event_log.horizon() if start.earliest else start.after
        wanted = requests.filter_of(request)
        events = broadcast.subscribe(hub.event_log, hub.tail, after, hub.settings.subscriber_buffer)
        async for event in events:
            if wanted.matches(event.record.update_type, event.record.asset):
                yield _deliver(event)

    async def _group(
        self, request: pb.SubscribeRequest
    ) -> AsyncGenerator[pb.SubscribeResponse, None]:
        hub = self._hub
        start = requests.start_of(request)
        member = GroupMember(
            event_log=hub.event_log,
            signal=hub.tail.signal,
            group=request.group,
            consumer=request.consumer or default_consumer(),
            visibility_ms=requests.visibility_ms(request, hub.settings.visibility_timeout),
            max_in_flight=requests.in_flight(request),
            wanted=requests.filter_of(request).wants,
            closed=lambda: hub.closing,
        )
        key = (member.group, member.consumer)
        await member.join(await hub.event_log.horizon() if start.earliest else start.after)
        hub.members[key] = member
        log.info("group member joined", extra={"group": key[0], "consumer": key[1]})
        try:
            async for delivery in member.deliveries():
                yield _deliver(delivery.event, delivery.attempt)
        finally:
            if hub.members.get(key) is member:
                del hub.members[key]
            await member.leave()
            log.info("group member left", extra={"group": key[0], "consumer": key[1]})

    async def Ack(self, request: pb.AckRequest, context: Context) -> pb.AckResponse:
        violations = requests.validate_ids(request)
        if violations:
            await _abort(context, bad_request(violations))
        ids = [EventId.parse(i) for i in request.event_ids]
        try:
            count = await self._hub.event_log.ack(request.group, ids)
        except StoreUnavailable as exc:
            await _abort(context, _unavailable(str(exc)))
            raise  # unreachable: abort raises
        for (group, _consumer), member in self._hub.members.items():
            if group == request.group:
                member.acknowledged(ids)
        self._hub.tail.signal.notify()
        return pb.AckResponse(acknowledged=count)

    async def Nack(self, request: pb.NackRequest, context: Context) -> pb.NackResponse:
        violations = requests.validate_ids(request)
        if violations:
            await _abort(context, bad_request(violations))
        ids = [EventId.parse(i) for i in request.event_ids]
        try:
            count = await self._hub.event_log.release(request.group, ids)
        except StoreUnavailable as exc:
            await _abort(context, _unavailable(str(exc)))
            raise
        for (group, _consumer), member in self._hub.members.items():
            if group == request.group:
                member.acknowledged(ids)  # no longer this member's to hold
        self._hub.tail.signal.notify()
        return pb.NackResponse(released=count)
