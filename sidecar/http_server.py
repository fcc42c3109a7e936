"""The sidecar's HTTP side (aiohttp.web in the gRPC event loop): probes, /metrics, and
webhooks. Routes are added by the components that own them (e.g. metrics.add_routes(app)).

Slow clients cannot hold the port (HttpLimits): aiohttp parses HTTP and closes kept-alive
connections after the idle timeout; around each connection a thin guard adds what aiohttp does
not have, a deadline for the request head and a cap on open connections.

/healthz is liveness: 200 while the process can answer at all (a restart would not fix a lost
dependency), with the readiness reason for information. /readyz is readiness: 503 with the
reason whenever the gRPC health service says NOT_SERVING."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from sidecar.http_limits import HttpLimits
from sidecar.telemetry import metrics

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], tuple[bool, str]]
# A kept-alive connection counts as idle (may be closed to make room) this long after its last
# response was handed to aiohttp, so a response being written is never cut off.
IDLE_AFTER = 1.0


class _Connection(asyncio.Protocol):
    """aiohttp's protocol for one connection, plus the request-head deadline: armed when the
    connection opens and when the first byte of a new request arrives, disarmed once aiohttp
    hands the request to the app (see `_track`)."""

    def __init__(self, handler: RequestHandler, guard: _Guard) -> None:
        self.handler = handler
        self.guard = guard
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.idle_since: float | None = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.guard.opened(self)
        self._arm()
        self.handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.idle_since = None
        if not self.busy and self._deadline is None:
            self._arm()
        self.handler.data_received(data)

    def eof_received(self) -> None:
        self.handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.guard.closed(self)
        self.handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self.handler.pause_writing()

    def resume_writing(self) -> None:
        self.handler.resume_writing()

    def request_started(self) -> None:
        self.busy = True
        self.idle_since = None
        self._disarm()

    def request_finished(self) -> None:
        self.busy = False
        self.idle_since = asyncio.get_running_loop().time()

    def close(self, reason: str) -> None:
        metrics.http_connection_closed(reason)
        if self.transport is not None:
            self.transport.close()

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self.guard.limits.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.busy:
            log.debug("http connection closed: no complete request head in time")
            self.close("header_timeout")


class _Refused(asyncio.Protocol):
    """A connection beyond the cap with nothing idle to close: closed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        metrics.http_connection_closed("limit")
        transport.close()


class _Guard:
    """Stands in for aiohttp's protocol factory (web.Server): it makes each connection's
    protocol and keeps the count; everything else is aiohttp's."""

    def __init__(self, server: web.Server, limits: HttpLimits) -> None:
        self.server = server
        self.limits = limits
        self.connections: dict[asyncio.BaseTransport, _Connection] = {}

    def __call__(self) -> asyncio.Protocol:
        if len(self.connections) >= self.limits.max_connections and not self._make_room():
            return _Refused()
        return _Connection(self.server(), self)

    def __getattr__(self, name: str) -> Any:  # pre_shutdown, shutdown, connections...
        return getattr(self.server, name)

    def opened(self, connection: _Connection) -> None:
        assert connection.transport is not None
        self.connections[connection.transport] = connection

    def closed(self, connection: _Connection) -> None:
        if connection.transport is not None:
            self.connections.pop(connection.transport, None)

    def _make_room(self) -> bool:
        now = asyncio.get_running_loop().time()
        idle = [
            c
            for c in self.connections.values()
            if c.idle_since is not None and now - c.idle_since >= IDLE_AFTER
        ]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.idle_since or now)
        oldest.close("evicted_idle")
        self.connections.pop(cast(asyncio.BaseTransport, oldest.transport), None)
        return True


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _track(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tells the connection's guard that a request is being handled (its head arrived)."""
    connection = None
    for guard in request.app.get(_GUARDS, ()):
        connection = guard.connections.get(request.transport) if request.transport else None
        if connection is not None:
            break
    if connection is not None:
        connection.request_started()
    try:
        return await handler(request)
    finally:
        if connection is not None:
            connection.request_finished()


# The guards of the runners serving the app (one per listener), filled as they start.
_GUARDS = web.AppKey("http_guards", list[_Guard])


def create_app(readiness: ReadinessCheck | None) -> web.Application:
    """An app with the health endpoints, or without them (None) for a public listener."""
    app = web.Application(client_max_size=1024 * 1024, middlewares=[_track])
    app[_GUARDS] = []
    if readiness is None:
        return app

    async def healthz(_request: web.Request) -> web.Response:
        ready, reason = readiness()
        return web.json_response({"status": "ok", "ready": ready, "reason": reason})

    async def readyz(_request: web.Request) -> web.Response:
        ready, reason = readiness()
        return web.json_response(
            {"status": "ready" if ready else "not_ready", "reason": reason},
            status=200 if ready else 503,
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def add_routes(app: web.Application, routes: Iterable[web.RouteDef]) -> None:
    """Lets a component add its own endpoints (webhooks, /metrics) before the app starts."""
    app.router.add_routes(list(routes))


class _Runner(web.AppRunner):
    def __init__(self, app: web.Application, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> web.Server:
        guard = _Guard(await super()._make_server(), self._limits)
        self.app[_GUARDS].append(guard)
        return cast(web.Server, guard)


async def start(
    app: web.Application,
    host: str,
    port: int,
    limits: HttpLimits | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> web.AppRunner:
    limits = limits or HttpLimits()
    runner = _Runner(
        app,
        limits,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=limits.idle_timeout,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, ssl_context=ssl_context)
    await site.start()
    return runner


def open_connections(runner: web.AppRunner) -> int:
    """Connections the runner's listeners hold open now (counted by the guard)."""
    server = runner.server
    return len(server.connections) if isinstance(server, _Guard) else 0
