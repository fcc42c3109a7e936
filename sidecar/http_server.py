"""The sidecar's HTTP side (aiohttp.web in the gRPC event loop): probes, /metrics, and later
webhooks. Routes are added by the components that own them (e.g. metrics.add_routes(app)).

/healthz is liveness: 200 while the process can answer at all (a restart would not fix a lost
dependency), with the readiness reason for information. /readyz is readiness: 503 with the
reason whenever the gRPC health service says NOT_SERVING."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

ReadinessCheck = Callable[[], tuple[bool, str]]


def create_app(readiness: ReadinessCheck) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)

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


async def start(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner
