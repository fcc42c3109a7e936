"""The emulated ``/api/<method>`` endpoint: fault injection, auth, parameters, dispatch."""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from . import responses
from .context import CONTEXT, EmulatorContext
from .errors import ApiError
from .faults import FaultKind, FaultRule
from .methods import METHODS, dispatch
from .params import Params, parse_json_object
from .state import TOKEN_PATTERN
from .stats import RequestRecord

TOKEN_HEADER = "Crypto-Pay-API-Token"  # aiohttp matches header names case-insensitively
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def handle_api(request: web.Request) -> web.StreamResponse:
    return await _handle(request, request.match_info["method"])


async def handle_unknown_path(request: web.Request) -> web.StreamResponse:
    """A path outside /api/<method> gets a bare HTTP 404 from the live hosts, without the JSON
    envelope (live test data, 2026). An unknown method under /api/ is 405 METHOD_NOT_FOUND."""
    record = request.app[CONTEXT].stats.request(request.path, well_formed_token(request))
    record.answered(404)
    return web.Response(status=404, text="404: Not Found")


async def _handle(request: web.Request, method: str) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    token = well_formed_token(request)
    record = ctx.stats.request(method, token)
    rule = ctx.faults.match(method, token)
    if rule is not None:
        record.fault()
        if rule.kind is FaultKind.LATENCY:
            # Read first, as a real server has the request before it is slow: a client that
            # gives up waiting does not undo the operation.
            await request.read()
            await asyncio.sleep(rule.latency_ms / 1000)
        elif rule.kind is FaultKind.STATUS:
            if rule.latency_ms:  # a slow failure: nothing is performed
                await asyncio.sleep(rule.latency_ms / 1000)
            return _fault_answer(record, rule)
        elif rule.kind is FaultKind.DROP:
            return _drop(record, request)
    response = await _process(ctx, request, method)
    if rule is not None and rule.kind is FaultKind.COMMIT_THEN_FAIL:
        # The ledger has changed; the client must not learn the outcome.
        return _drop(record, request) if rule.then == "drop" else _fault_answer(record, rule)
    record.answered(response.status)
    return response


def well_formed_token(request: web.Request) -> str | None:
    """The request's token if it looks like one; used to scope stats and faults per app."""
    token = request.headers.get(TOKEN_HEADER, "").strip()
    return token if TOKEN_PATTERN.fullmatch(token) else None


async def _process(ctx: EmulatorContext, request: web.Request, method: str) -> web.Response:
    try:
        if request.method not in ("GET", "POST") or method not in METHODS:
            raise ApiError(405, "METHOD_NOT_FOUND")
        app = ctx.ledger.authenticate(request.headers.get(TOKEN_HEADER))
        params = Params(await read_params(request))
        return responses.ok(dispatch(ctx.ledger, app, method, params))
    except ApiError as err:
        return responses.error(err)


async def read_params(request: web.Request) -> dict[str, object]:
    """Query string merged with the body (JSON, urlencoded or multipart); the body wins."""
    values: dict[str, object] = {key: request.query[key] for key in request.query}
    if not request.body_exists:
        return values
    if request.content_type in _FORM_TYPES:
        form = await request.post()
        values.update({key: value for key, value in form.items() if isinstance(value, str)})
    else:
        # JSON with or without the right Content-Type (some SDKs omit it).
        values.update(parse_json_object(await request.read()))
    return values


def _fault_answer(record: RequestRecord, rule: FaultRule) -> web.Response:
    headers = None
    if rule.retry_after is not None:
        # Retry-After is whole seconds in HTTP; round up so clients never retry early.
        headers = {"Retry-After": str(math.ceil(rule.retry_after))}
    record.answered(rule.status)
    return responses.error(ApiError(rule.status, rule.error_name), headers=headers)


def _drop(record: RequestRecord, request: web.Request) -> web.Response:
    """Close the TCP connection; the returned response is never written."""
    if request.transport is not None:
        request.transport.close()
    record.answered(None)
    return web.Response(status=500)
