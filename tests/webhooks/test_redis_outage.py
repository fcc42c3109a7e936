"""Redis stopped during ingest: 503, the emulator delivers again, and once Redis is back every
event reaches the subscriber exactly once."""

from __future__ import annotations

from typing import Any

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.secrets import Secret
from tests.conftest import EmulatorControl, RedisServer, start_sidecar
from tests.helpers import eventually
from tests.webhooks.conftest import (
    WebhookStub,
    ingest_url,
    route_webhooks,
    subscribe,
)


async def deliveries(control: EmulatorControl, token: str) -> dict[int, Any]:
    return {d["invoice_id"]: d for d in await control.request("GET", "webhooks", token)}


async def test_redis_outage_answers_503_then_delivers_each_event_once(
    emulator: RunningEmulator, control: EmulatorControl, token: str, redis_server: RedisServer
) -> None:
    running = await start_sidecar(emulator, token, redis_url=Secret(redis_server.url))
    try:
        await route_webhooks(control, token, ingest_url(running))
        events = subscribe(WebhookStub(running.channel))
        await events.none_within(0.3)

        async def pay() -> int:
            created = await running.stub.CreateInvoice(
                pb.CreateInvoiceRequest(asset="TON", amount="2")
            )
            await control.pay(token, created.invoice.invoice_id)
            return int(created.invoice.invoice_id)

        before = await pay()
        [first] = await events.take(1)
        assert first.invoice.invoice_id == before

        redis_server.stop()
        during = [await pay() for _ in range(3)]

        async def all_refused_with_503() -> bool:
            log = await deliveries(control, token)
            return all(any(a.get("status") == 503 for a in log[i]["attempts"]) for i in during)

        await eventually(all_refused_with_503, "every delivery refused with 503", within=20)
        await events.none_within(0.5)

        redis_server.start()
        received = await events.take(3, within=30)
        assert sorted(e.invoice.invoice_id for e in received) == sorted(during)
        assert len({e.event_id for e in received}) == 3
        await events.none_within(1.0)

        log = await deliveries(control, token)
        assert all(log[i]["state"] == "delivered" for i in [before, *during])
        events.cancel()
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()
