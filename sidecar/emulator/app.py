"""The aiohttp application: the emulated API next to the control API."""

from __future__ import annotations

from aiohttp import web

from . import api, control
from .config import EmulatorConfig
from .context import CONTEXT, EmulatorContext


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    app = web.Application()
    app[CONTEXT] = EmulatorContext(config or EmulatorConfig())
    app.router.add_routes(control.routes)
    app.router.add_route("*", "/api/{method}", api.handle_api)
    # Every other path answers a bare 404, as the real hosts do.
    app.router.add_route("*", "/{tail:.*}", api.handle_unknown_path)
    app.on_cleanup.append(_stop_deliveries)
    return app


async def _stop_deliveries(app: web.Application) -> None:
    await app[CONTEXT].webhooks.close()
