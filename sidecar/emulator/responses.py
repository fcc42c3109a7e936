"""The JSON envelopes, shared by the API and the control API."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web

from .errors import ApiError

CONTENT_TYPE = "application/json"


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_response(
    value: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=dumps(value), status=status, content_type=CONTENT_TYPE, headers=headers
    )


def ok(result: object) -> web.Response:
    return json_response({"ok": True, "result": result})


def error(
    err: ApiError, *, with_detail: bool = False, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``{"ok":false,"error":{"code":<status>,"name":...}}``; the real API never sends a message."""
    body: dict[str, object] = {"code": err.status, "name": err.name}
    if with_detail and err.detail:
        body["message"] = err.detail
    return json_response({"ok": False, "error": body}, status=err.status, headers=headers)
