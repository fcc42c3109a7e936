"""Signed webhook delivery to a real aiohttp receiver on a free port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from sidecar.signature import HEADER, verify
from tests.helpers import eventually

from .conftest import OTHER_TOKEN, TIMESTAMP, TOKEN, Api, FakeClock, StartEmulator


class Receiver:
    """Records raw webhook requests and answers scripted statuses (then 200)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        self.headers.append(dict(request.headers))
        self.clock.advance(1)  # so each attempt has a later request_date
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver(clock: FakeClock) -> AsyncIterator[Receiver]:
    server = Receiver(clock)
    await server.start()
    yield server
    await server.stop()


async def deliveries(api: Api) -> list[Any]:
    return list(await api.control_ok("GET", "/webhooks"))


async def pay_new_invoice(api: Api, **params: Any) -> Any:
    invoice = await api.ok("createInvoice", **({"asset": "USDT", "amount": "10"} | params))
    return await api.control_ok("POST", f"/invoices/{invoice['invoice_id']}/pay")


async def test_paid_invoice_is_delivered_signed(api: Api, receiver: Receiver) -> None:
    await api.control_ok("PUT", "/webhook", {"url": receiver.url})
    paid = await pay_new_invoice(api, description="Оплата за тестовый товар #123")

    async def delivered() -> bool:
        return bool(receiver.bodies)

    await eventually(delivered, "the delivery", within=5)
    (body,), (headers,) = receiver.bodies, receiver.headers
    assert verify(body, headers[HEADER], [TOKEN])
    assert not verify(body, headers[HEADER], [OTHER_TOKEN])
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    update = json.loads(body)
    assert set(update) == {"update_id", "update_type", "request_date", "payload"}
    assert update["update_type"] == "invoice_paid" and isinstance(update["update_id"], int)
    assert TIMESTAMP.match(update["request_date"])
    assert update["payload"] == paid
    # Compact, with non-ASCII as raw UTF-8: what a raw-bytes verifier must accept.
    assert "Оплата за тестовый товар #123".encode() in body
    assert body == json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode()
    await api.emu.context.webhooks.wait_idle()
    (log,) = await deliveries(api)
    assert log["state"] == "delivered" and log["invoice_id"] == paid["invoice_id"]
    assert [a["status"] for a in log["attempts"]] == [200]


async def test_redelivery_after_errors_with_fresh_dates(api: Api, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    await api.control_ok("PUT", "/webhook", {"url": receiver.url})
    await pay_new_invoice(api)
    async with asyncio.timeout(5):
        await api.emu.context.webhooks.wait_idle()
    assert len(receiver.bodies) == 3
    updates = [json.loads(b) for b in receiver.bodies]
    assert len({u["update_id"] for u in updates}) == 1
    assert len({u["request_date"] for u in updates}) == 3  # re-dated and re-signed
    assert len({h[HEADER] for h in receiver.headers}) == 3
    for body, headers in zip(receiver.bodies, receiver.headers, strict=True):
        assert verify(body, headers[HEADER], [TOKEN])
    (log,) = await deliveries(api)
    assert [a["status"] for a in log["attempts"]] == [500, 503, 200]
    assert log["state"] == "delivered"


async def test_redelivery_while_the_receiver_is_down(api: Api, receiver: Receiver) -> None:
    await receiver.stop()
    await api.control_ok("PUT", "/webhook", {"url": receiver.url})
    await pay_new_invoice(api)

    async def failed_twice() -> bool:
        (log,) = await deliveries(api)
        return len(log["attempts"]) >= 2

    await eventually(failed_twice, "two failed attempts", within=5)
    await receiver.start()  # same port
    async with asyncio.timeout(5):
        await api.emu.context.webhooks.wait_idle()
    (log,) = await deliveries(api)
    assert log["state"] == "delivered"
    assert all(a["status"] is None and a["error"] for a in log["attempts"][:-1])
    assert log["attempts"][-1]["status"] == 200
    assert len(receiver.bodies) == 1


async def test_delivery_gives_up_after_max_attempts(
    start: StartEmulator, api: Api, receiver: Receiver
) -> None:
    emu = await start(webhook_url=receiver.url, webhook_max_attempts=3)
    limited = Api(api.session, emu, TOKEN)
    receiver.statuses = [500] * 10
    await pay_new_invoice(limited)
    async with asyncio.timeout(5):
        await emu.context.webhooks.wait_idle()
    (log,) = await deliveries(limited)
    assert (log["state"], len(log["attempts"])) == ("failed", 3)


async def test_emulator_wide_url_and_per_app_override(
    start: StartEmulator, api: Api, receiver: Receiver, clock: FakeClock
) -> None:
    emu = await start(webhook_url=receiver.url)
    first, second = Api(api.session, emu, TOKEN), Api(api.session, emu, OTHER_TOKEN)
    other = Receiver(clock)
    await other.start()
    try:
        await second.control_ok("PUT", "/webhook", {"url": other.url})
        await pay_new_invoice(first)
        await pay_new_invoice(first)
        await pay_new_invoice(second)
        async with asyncio.timeout(5):
            await emu.context.webhooks.wait_idle()
    finally:
        await other.stop()
    assert [json.loads(b)["update_id"] for b in receiver.bodies] == [1, 2]
    (body,) = other.bodies
    assert verify(body, other.headers[0][HEADER], [OTHER_TOKEN])
    assert len(await first.control_ok("GET", "/webhooks")) == 2
    status, everything = await first.control("GET", "/webhooks", token=None)
    assert (status, len(everything["result"])) == (200, 3)


async def test_no_url_means_no_delivery(api: Api) -> None:
    await pay_new_invoice(api)
    assert await deliveries(api) == []


async def test_stop_cancels_pending_deliveries(start: StartEmulator, session: Any) -> None:
    emu = await start(webhook_url="http://127.0.0.1:9/unreachable", webhook_retry_base=10)
    await pay_new_invoice(Api(session, emu, TOKEN))
    (delivery,) = emu.context.webhooks.deliveries

    async def attempted() -> bool:
        return bool(delivery.attempts)

    await eventually(attempted, "a first attempt", within=5)
    await emu.stop()
    assert delivery.state == "cancelled"
