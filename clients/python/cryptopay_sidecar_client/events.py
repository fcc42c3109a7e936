"""Webhook events from the sidecar's WebhookService, resumed across disconnects.

    async for event in subscribe_events(channel, update_types=["invoice_paid"]):
        handle(event.invoice)            # persist event.event_id to resume after a restart

    async for event in subscribe_events(channel, group="fulfilment", consumer="pod-a"):
        handle(event.invoice)
        await ack_events(channel, "fulfilment", [event.event_id])

Broadcast subscriptions reopen after the last event id received (no gap, no duplicate while the
sidecar retains the events). Group subscriptions rejoin their group under the same consumer
name, so the events this member had not acknowledged go back to the group at once.

This module needs the WebhookService in the generated code (cryptopay/v1/webhook_service.proto).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Sequence
from datetime import timedelta
from types import ModuleType
from typing import Any

import grpc

from cryptopay_sidecar_client.retry import Backoff
from cryptopay_sidecar_client.subscribe import DEFAULT_BACKOFF, resumable

START_LATEST = "START_POSITION_LATEST"
START_EARLIEST = "START_POSITION_EARLIEST"


def _modules() -> tuple[ModuleType, ModuleType]:
    try:
        messages = importlib.import_module(
            "cryptopay_sidecar_client.gen.cryptopay.v1.webhook_service_pb2"
        )
        services = importlib.import_module(
            "cryptopay_sidecar_client.gen.cryptopay.v1.webhook_service_pb2_grpc"
        )
    except ImportError as error:  # an older API without webhook streams
        raise RuntimeError(
            "this version of the sidecar API has no cryptopay.v1.WebhookService"
        ) from error
    return messages, services


def webhook_stub(channel: grpc.aio.Channel) -> Any:
    """A WebhookService stub on `channel`."""
    _, services = _modules()
    return services.WebhookServiceStub(channel)


async def subscribe_events(
    channel: grpc.aio.Channel,
    *,
    after: str | None = None,
    start: str = START_LATEST,
    group: str = "",
    consumer: str | None = None,
    update_types: Sequence[str] = (),
    assets: Sequence[str] = (),
    max_in_flight: int = 0,
    visibility_timeout: float | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    max_failures: int | None = None,
) -> AsyncGenerator[Any, None]:
    """Yields WebhookEvent messages for ever, reopening the stream after each break.

    `after` resumes a broadcast subscription after a persisted event id; `start` (LATEST or
    EARLIEST) applies to a new subscription or a new group. With `group`, acknowledge each
    event with `ack_events`; `consumer` names this member (default: one name per call, kept
    across reconnects).
    """
    messages, services = _modules()
    stub = services.WebhookServiceStub(channel)
    member = (consumer or f"client-{uuid.uuid4().hex[:12]}") if group else ""

    def open_stream(last: str | None) -> AsyncIterable[Any]:
        # A group tracks its own position: rejoining is enough.
        resume_after = "" if group else (last or "")
        request = messages.SubscribeRequest(
            # The sidecar takes a start position or an event id, not both.
            start=0 if resume_after else messages.StartPosition.Value(start),
            after_event_id=resume_after,
            group=group,
            consumer=member,
            update_types=list(update_types),
            assets=list(assets),
            max_in_flight=max_in_flight,
        )
        if visibility_timeout is not None:
            request.visibility_timeout.FromTimedelta(timedelta(seconds=visibility_timeout))
        return _events(stub.Subscribe(request))

    async for event in resumable(
        open_stream,
        lambda event: str(event.event_id),
        after=after,
        backoff=backoff,
        max_failures=max_failures,
    ):
        yield event


async def _events(call: Any) -> AsyncIterator[Any]:
    try:
        async for response in call:
            yield response.event
    finally:
        call.cancel()


async def ack_events(channel: grpc.aio.Channel, group: str, event_ids: Sequence[str]) -> int:
    """Acknowledges events delivered to `group`; returns how many were still pending."""
    messages, _ = _modules()
    response = await webhook_stub(channel).Ack(
        messages.AckRequest(group=group, event_ids=list(event_ids))
    )
    return int(response.acknowledged)


async def nack_events(channel: grpc.aio.Channel, group: str, event_ids: Sequence[str]) -> int:
    """Hands events back to `group` for delivery to any member at once."""
    messages, _ = _modules()
    response = await webhook_stub(channel).Nack(
        messages.NackRequest(group=group, event_ids=list(event_ids))
    )
    return int(response.released)
