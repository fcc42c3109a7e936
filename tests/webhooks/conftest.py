"""Helpers for the webhook tests: signed updates, posting them, reading a Subscribe stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import grpc
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2_grpc as wpb_grpc
from sidecar.server import Sidecar
from sidecar.signature import HEADER, sign
from sidecar.webhooks.events import EventId
from tests.conftest import EmulatorControl, RunningSidecar, start_sidecar
from tests.helpers import eventually

WebhookStub = wpb_grpc.WebhookServiceStub


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def update_body(
    invoice_id: int,
    *,
    request_date: datetime | None = None,
    asset: str = "USDT",
    update_type: str = "invoice_paid",
    **payload: Any,
) -> bytes:
    update = {
        "update_id": invoice_id,
        "update_type": update_type,
        "request_date": iso(request_date or datetime.now(UTC)),
        "payload": {
            "invoice_id": invoice_id,
            "hash": "IVtest",
            "currency_type": "crypto",
            "asset": asset,
            "amount": "1.5",
            "status": "paid",
            "description": "Оплата ₽",
            **payload,
        },
    }
    return json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode()


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    signature: str | None,
    content_type: str | None = "application/json",
) -> tuple[int, Any]:
    headers = {}
    if signature is not None:
        headers[HEADER] = signature
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


async def post_signed(
    session: aiohttp.ClientSession, url: str, token: str, body: bytes
) -> tuple[int, Any]:
    return await post(session, url, body, sign(token, body))


class Events:
    """Reads a Subscribe call in the background, so waiting with a timeout never cancels it."""

    def __init__(
        self, call: grpc.aio.UnaryStreamCall[wpb.SubscribeRequest, wpb.SubscribeResponse]
    ) -> None:
        self.call = call
        self.queue: asyncio.Queue[wpb.WebhookEvent | BaseException | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for response in self.call:
                await self.queue.put(response.event)
            await self.queue.put(None)
        except BaseException as exc:  # handed to whoever reads the queue
            await self.queue.put(exc)

    async def take(self, count: int, within: float = 20.0) -> list[wpb.WebhookEvent]:
        events: list[wpb.WebhookEvent] = []
        async with asyncio.timeout(within):
            while len(events) < count:
                item = await self.queue.get()
                if item is None:
                    raise AssertionError(f"the stream ended after {len(events)} events")
                if isinstance(item, BaseException):
                    raise item
                events.append(item)
        return events

    async def none_within(self, seconds: float) -> None:
        try:
            item = await asyncio.wait_for(self.queue.get(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected: {item}")

    async def error(self, within: float = 20.0) -> grpc.aio.AioRpcError:
        async with asyncio.timeout(within):
            while True:
                item = await self.queue.get()
                if isinstance(item, grpc.aio.AioRpcError):
                    return item
                if item is None or isinstance(item, BaseException):
                    raise AssertionError(f"expected an error status, got {item!r}")

    def cancel(self) -> None:
        self.call.cancel()
        self._task.cancel()


def subscribe(stub: wpb_grpc.WebhookServiceAsyncStub, **request: Any) -> Events:
    return Events(stub.Subscribe(wpb.SubscribeRequest(**request)))


async def subscribed(sidecar: Sidecar, count: int = 1) -> None:
    """Waits until `count` Subscribe streams are open in this (in-process) sidecar. With the
    in-memory log a broadcast stream has its "from now on" cursor by the time it is counted:
    nothing between the count and reading the cursor waits."""
    hub = sidecar.webhooks
    assert hub is not None
    await eventually(lambda: hub.subscribers == count, f"{count} open streams", within=20)


async def joined(running: RunningSidecar, group: str, consumer: str) -> None:
    """Waits until the member is in its group (the group exists, and starts where it joined)."""
    hub = running.sidecar.webhooks
    assert hub is not None

    async def member_in() -> bool:
        return (group, consumer) in hub.members

    await eventually(member_in, f"{consumer} in group {group}", within=20)


async def route_webhooks(control: EmulatorControl, token: str, url: str | None) -> None:
    """Makes the emulator deliver this app's webhooks to `url`."""
    await control.request("PUT", "webhook", token, {"url": url})


def ingest_url(running: RunningSidecar) -> str:
    url = running.sidecar.webhook_url()
    assert url is not None
    return url


async def last_id(running: RunningSidecar) -> EventId:
    assert running.sidecar.webhooks is not None
    return await running.sidecar.webhooks.event_log.last_id()


@pytest.fixture
def webhook_stub(sidecar: RunningSidecar) -> wpb_grpc.WebhookServiceAsyncStub:
    return WebhookStub(sidecar.channel)


@pytest.fixture
async def hooked(
    emulator: RunningEmulator, control: EmulatorControl, token: str
) -> AsyncIterator[RunningSidecar]:
    """A sidecar whose app's webhooks the emulator delivers to the sidecar's ingest."""
    running = await start_sidecar(emulator, token)
    await route_webhooks(control, token, ingest_url(running))
    yield running
    await running.channel.close(None)
    await running.sidecar.stop()
