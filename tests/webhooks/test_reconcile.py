"""The reconciliation sweep: a paid invoice whose webhook never came still reaches subscribers,
once, marked synthetic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call, compose, new_call
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.webhooks.memory import MemoryEventLog
from sidecar.webhooks.reconcile import (
    GET_INVOICES,
    SWEEP_CALLER,
    Reconciler,
    decide,
    synthetic_update,
)
from sidecar.webhooks.settings import WebhookSettings
from tests.conftest import EmulatorControl, start_sidecar
from tests.helpers import snapshot
from tests.webhooks.conftest import (
    WebhookStub,
    ingest_url,
    post_signed,
    route_webhooks,
    subscribe,
    update_body,
)

NOW = datetime(2025, 8, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("item", "publish", "forget"),
    [
        (None, False, True),  # deleted
        ({"status": "active"}, False, False),
        ({"status": "expired"}, False, True),
        ({"status": "paid", "paid_at": "2025-08-23T09:58:00.000Z"}, True, True),
        ({"status": "paid", "paid_at": "2025-08-23T09:59:30.000Z"}, False, False),  # in grace
        ({"status": "paid"}, True, True),
        ({"status": "paid_over"}, False, False),  # unknown: keep watching
    ],
)
def test_decide(item: dict[str, str] | None, publish: bool, forget: bool) -> None:
    items = [] if item is None else [{"invoice_id": 7, **item}]
    decision = decide([7], items, NOW, timedelta(seconds=60))
    assert bool(decision.publish) is publish and (decision.forget == [7]) is forget


def test_synthetic_updates_are_marked() -> None:
    body = json.loads(synthetic_update({"invoice_id": 7, "amount": "1.5"}, NOW))
    assert body["synthetic"] is True and body["update_type"] == "invoice_paid"
    assert body["payload"] == {"invoice_id": 7, "amount": "1.5"}
    assert body["request_date"] == "2025-08-23T10:00:00.000Z"


async def test_a_missed_webhook_is_published_once_by_the_sweep(
    emulator: RunningEmulator,
    control: EmulatorControl,
    token: str,
    http_session: aiohttp.ClientSession,
) -> None:
    running = await start_sidecar(
        emulator,
        token,
        webhooks=WebhookSettings(reconcile_interval=0.2, reconcile_grace=0.0),
    )
    try:
        await route_webhooks(control, token, None)  # the webhook is never delivered
        events = subscribe(WebhookStub(running.channel))
        await events.none_within(0.3)
        paid = await running.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"))
        still_open = await running.stub.CreateInvoice(
            pb.CreateInvoiceRequest(asset="TON", amount="2")
        )
        await control.pay(token, paid.invoice.invoice_id)
        [event] = await events.take(1, within=20)
        assert event.synthetic and not event.signature
        assert event.invoice.invoice_id == paid.invoice.invoice_id
        assert event.invoice.status == types.INVOICE_STATUS_PAID
        assert json.loads(event.raw_body)["synthetic"] is True
        # The real webhook arriving late is a duplicate: nothing is published again.
        late = update_body(paid.invoice.invoice_id, asset="TON")
        status, answer = await post_signed(http_session, ingest_url(running), token, late)
        assert status == 200 and answer["duplicate"] is True
        await events.none_within(0.8)
        assert running.sidecar.webhooks is not None
        left = await running.sidecar.webhooks.event_log.tracked(10)
        assert left == [still_open.invoice.invoice_id]
        events.cancel()
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


async def test_the_sweep_sends_through_the_shared_rate_limiter() -> None:
    """The sweep's getInvoices spends the app's rate limit like any call, and waits its turn."""
    policy = snapshot({"rate_limits": {"when_empty": "refuse", "app": {"rate": "1/min"}}})
    sent: list[tuple[str, str, dict[str, Any]]] = []

    async def upstream(call: Call) -> Outcome:
        sent.append((call.spec.api, call.caller, call.params))
        return Outcome(Delivery.DONE, body=b'{"ok":true,"result":{"items":[]}}')

    async def sweep(limiter: RateLimiter) -> tuple[int, list[int]]:
        event_log = MemoryEventLog(100)
        await event_log.track([7])
        reconciler = Reconciler(event_log, compose([limiter], upstream), lambda: policy, 60, 0, 1)
        return await reconciler.sweep(), await event_log.tracked(10)

    assert await sweep(RateLimiter(MemoryBackend(), scope="s")) == (0, [])  # 7 was deleted
    assert sent == [("getInvoices", SWEEP_CALLER, {"invoice_ids": "7", "count": 1000})]

    drained = RateLimiter(MemoryBackend(), scope="s")
    caller = new_call(GET_INVOICES, GET_INVOICES.request_type(), {})
    caller.policy = policy
    await drained.acquire(caller)  # a caller's call took the app's one token
    sent.clear()
    assert await sweep(drained) == (0, [7])  # refused before sending: still tracked
    assert sent == []
