"""Apps' webhook endpoints built on the Python SDKs' own handlers and verifiers, as an app that
keeps its SDK would run them, each recording what reached it and what it answered.

- aiocryptopay: `AioCryptoPay.get_updates` as an aiohttp route, with a `pay_handler`. It checks
  the signature, parses the body into its `Update` model and calls the handlers.
- cryptobot-python: `cryptobot.webhook.Listener`'s FastAPI app under uvicorn. It answers 400 to
  a bad signature, and 500 when the callback raises.

Each callback can be told to fail its next calls (the endpoint then answers 500).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.helpers import eventually, free_port
from tests.tools import unavailable

try:
    import uvicorn
    from aiocryptopay import AioCryptoPay
    from aiocryptopay.models.update import Update
    from cryptobot.webhook import Listener
except ImportError:  # reported by the fixtures: skipped locally, a failure under CI=true
    SDKS = False
else:
    SDKS = True


def require_sdks() -> None:
    if not SDKS:
        unavailable("aiocryptopay or cryptobot-python[webhook]", "pip install -e '.[sdks]'")


@dataclass
class Seen:
    body: bytes
    headers: dict[str, str]  # names in lowercase


@dataclass
class Receiver:
    url: str = ""
    # Requests as they arrived, and the status each was answered with.
    seen: list[Seen] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    # What the SDK handed the app's callback, for calls that succeeded.
    accepted: list[Any] = field(default_factory=list)
    fail_next: int = 0  # the callback raises this many times before it succeeds
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def callback_result(self, parsed: Any) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("the app's handler fails on purpose")
        self.accepted.append(parsed)

    def answered(self, status: int) -> None:
        self.statuses.append(status)
        self.arrived.set()

    async def wait(self, condition: Callable[[Receiver], bool], within: float = 20.0) -> None:
        async with asyncio.timeout(within):
            while not condition(self):
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def aiocryptopay_receiver(token: str) -> AsyncIterator[Receiver]:
    """aiocryptopay's webhook route: AioCryptoPay(token).get_updates with a pay handler."""
    require_sdks()
    receiver = Receiver()
    crypto = AioCryptoPay(token=token)

    async def paid(update: Update, _app: web.Application) -> None:
        receiver.callback_result(update)

    crypto.register_pay_handler(paid)

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        receiver.seen.append(
            Seen(await request.read(), {k.lower(): v for k, v in request.headers.items()})
        )
        try:
            response = await handler(request)
        except Exception:
            receiver.answered(500)  # what aiohttp answers for a handler that raises
            raise
        # get_updates returns nothing for a bad signature, which aiohttp answers with 500.
        receiver.answered(500 if response is None else response.status)
        return response

    app = web.Application(middlewares=[record])
    app.router.add_post("/webhook", crypto.get_updates)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.url = f"http://127.0.0.1:{port}/webhook"
    try:
        yield receiver
    finally:
        await runner.cleanup()
        await crypto.close()


@contextlib.asynccontextmanager
async def cryptobot_receiver(token: str, path: str = "/webhook") -> AsyncIterator[Receiver]:
    """cryptobot-python's Listener (FastAPI) under uvicorn, as `Listener.listen()` runs it."""
    require_sdks()
    receiver = Receiver()
    port = free_port()
    listener = Listener(
        host="127.0.0.1",
        callback=lambda _headers, data: receiver.callback_result(data),
        api_token=token,
        port=port,
        url=path,
    )

    async def record(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await listener.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def receive_and_keep() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    receiver.seen.append(
                        Seen(
                            b"".join(chunks),
                            {k.decode(): v.decode() for k, v in scope["headers"]},
                        )
                    )
            return message

        async def send_and_keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                await send(message)
                receiver.answered(status)
                return
            await send(message)

        await listener.app(scope, receive_and_keep, send_and_keep)

    config = uvicorn.Config(record, host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    await eventually(lambda: server.started, "uvicorn to start", within=10)
    receiver.url = f"http://127.0.0.1:{port}{listener.url}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
