"""The control API under ``/_emulator/``: drive payments, shape state, inject faults, inspect.

Answers use the API envelope; errors add a human-readable ``message``. Endpoints that act on an
app name it with the same ``Crypto-Pay-API-Token`` header as the API.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from decimal import Decimal

from aiohttp import web

from . import responses
from .api import TOKEN_HEADER
from .catalog import ExchangeRate
from .context import CONTEXT, EmulatorContext
from .errors import ApiError
from .formats import format_time
from .methods import METHODS
from .models import App, Balance
from .params import Params, parse_json_object
from .serialize import balance_json, check_json, invoice_json, rate_json, transfer_json
from .state import DEFAULT_PAYER_ID, PaymentRequest

PREFIX = "/_emulator"
routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Handler) -> Handler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            return responses.error(err, with_detail=True)

    return wrapper


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        routes.route(method, PREFIX + path)(_guarded(handler))
        return handler

    return register


def _ctx(request: web.Request) -> EmulatorContext:
    return request.app[CONTEXT]


def _app(request: web.Request) -> App:
    return _ctx(request).ledger.authenticate(request.headers.get(TOKEN_HEADER))


def _scope(request: web.Request) -> App | None:
    """The app named by the token header, if any: scopes faults, stats and resets."""
    return _app(request) if TOKEN_HEADER in request.headers else None


async def _body(request: web.Request) -> dict[str, object]:
    return parse_json_object(await request.read()) if request.body_exists else {}


def _id(request: web.Request, key: str) -> int:
    value = request.match_info[key]
    if not value.isdigit():
        raise ApiError(404, "NOT_FOUND", f"{key} must be a positive integer")
    return int(value)


def _bad(detail: str) -> ApiError:
    return ApiError(400, "BAD_REQUEST", detail)


# -- driving the ledger --------------------------------------------------------------------


@route("POST", "/invoices/{invoice_id}/pay")
async def pay_invoice(request: web.Request) -> web.StreamResponse:
    ctx, app = _ctx(request), _app(request)
    p = Params(await _body(request))
    payment = PaymentRequest(
        paid_asset=p.text("paid_asset"),
        comment=p.text("comment", max_length=1024),
        paid_anonymously=p.boolean("paid_anonymously", False),
        user_id=p.integer("user_id", minimum=1) or DEFAULT_PAYER_ID,
        paid_amount=p.amount("paid_amount") if p.raw("paid_amount") is not None else None,
    )
    invoice = ctx.ledger.pay_invoice(app, _id(request, "invoice_id"), payment)
    ctx.notify_paid(app, invoice)
    return responses.ok(invoice_json(invoice, ctx.ledger.links))


@route("POST", "/invoices/{invoice_id}/expire")
async def expire_invoice(request: web.Request) -> web.StreamResponse:
    ctx, app = _ctx(request), _app(request)
    invoice = ctx.ledger.expire_invoice(app, _id(request, "invoice_id"))
    return responses.ok(invoice_json(invoice, ctx.ledger.links))


@route("POST", "/checks/{check_id}/activate")
async def activate_check(request: web.Request) -> web.StreamResponse:
    ctx, app = _ctx(request), _app(request)
    p = Params(await _body(request))
    check = ctx.ledger.activate_check(
        app,
        _id(request, "check_id"),
        user_id=p.integer("user_id", minimum=1) or DEFAULT_PAYER_ID,
        username=p.text("username"),
    )
    return responses.ok(check_json(check, ctx.ledger.links))


# -- shaping state -------------------------------------------------------------------------


@route("PUT", "/balances")
async def put_balances(request: web.Request) -> web.StreamResponse:
    """``{"USDT": {"available": "100", "onhold": "0"}}`` or the shorthand ``{"USDT": "100"}``."""
    ctx, app = _ctx(request), _app(request)
    updates: dict[str, Balance] = {}
    for code, value in (await _body(request)).items():
        current = app.balances.get(code, Balance())
        fields: Mapping[str, object] = value if isinstance(value, dict) else {"available": value}
        updates[code] = Balance(
            available=_money(fields.get("available"), current.available, code),
            onhold=_money(fields.get("onhold"), current.onhold, code),
        )
    ctx.ledger.set_balances(app, updates)
    return responses.ok([balance_json(code, b) for code, b in ctx.ledger.balances(app)])


def _money(value: object, default: Decimal, code: str) -> Decimal:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _bad(f"{code}: amounts must be decimal strings or numbers")
    try:
        amount = Decimal(value)
    except ArithmeticError as exc:
        raise _bad(f"{code}: {value!r} is not a decimal") from exc
    if not amount.is_finite() or amount < 0:
        raise _bad(f"{code}: amounts must be finite and >= 0")
    return amount


@route("PUT", "/rates")
async def put_rates(request: web.Request) -> web.StreamResponse:
    """Upsert rates: ``[{"source": "TON", "target": "USD", "rate": "6", "is_valid": false}]``."""
    ctx = _ctx(request)
    try:
        body: object = json.loads(await request.read() or b"null", parse_float=Decimal)
    except ValueError as exc:
        raise _bad("body is not JSON") from exc
    items = body.get("rates") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise _bad('expected a list of rates or {"rates": [...]}')
    parsed = [_rate(item) for item in items]
    for rate in parsed:
        ctx.ledger.rates.upsert(rate)
    return responses.ok([rate_json(r) for r in parsed])


def _rate(item: object) -> ExchangeRate:
    if not isinstance(item, dict):
        raise _bad("each rate must be an object")
    p = Params(item)
    return ExchangeRate(
        source=p.require_text("source"),
        target=p.require_text("target"),
        rate=p.amount("rate"),
        is_valid=p.boolean("is_valid", True),
        is_crypto=p.boolean("is_crypto", True),
        is_fiat=p.boolean("is_fiat", False),
    )


@route("PUT", "/methods")
async def put_methods(request: web.Request) -> web.StreamResponse:
    """``{"disabled": ["transfer", "createCheck"]}`` replaces the app's disabled set."""
    app = _app(request)
    disabled = (await _body(request)).get("disabled", [])
    if not isinstance(disabled, list) or not all(isinstance(m, str) for m in disabled):
        raise _bad("disabled must be a list of method names")
    unknown = sorted(set(disabled) - set(METHODS))
    if unknown:
        raise _bad(f"unknown methods: {', '.join(unknown)}")
    app.disabled_methods = {str(m) for m in disabled}
    return responses.ok({"disabled": sorted(app.disabled_methods)})


@route("PUT", "/webhook")
async def put_webhook(request: web.Request) -> web.StreamResponse:
    """``{"url": "http://..."}``; ``null`` falls back to the emulator-wide ``--webhook-url``."""
    app = _app(request)
    url = (await _body(request)).get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise _bad("url must be an http(s) URL or null")
    app.webhook_url = url
    return responses.ok({"url": url})


@route("GET", "/clock")
async def get_clock(request: web.Request) -> web.StreamResponse:
    return _clock_answer(_ctx(request))


@route("POST", "/clock")
async def move_clock(request: web.Request) -> web.StreamResponse:
    """``{"advance_seconds": 3600}`` moves the emulator's clock forward (lazy expiry follows)."""
    ctx = _ctx(request)
    seconds = Params(await _body(request)).amount("advance_seconds")
    ctx.ledger.clock_offset += timedelta(seconds=float(seconds))
    return _clock_answer(ctx)


def _clock_answer(ctx: EmulatorContext) -> web.Response:
    offset = ctx.ledger.clock_offset.total_seconds()
    return responses.ok({"now": format_time(ctx.ledger.now()), "offset_seconds": offset})


# -- faults --------------------------------------------------------------------------------


@route("POST", "/faults")
async def add_fault(request: web.Request) -> web.StreamResponse:
    """With a token header the rule only hits that app's requests (tests sharing an emulator)."""
    app = _scope(request)
    rule = _ctx(request).faults.add(await _body(request), app.token if app else None)
    return responses.ok(rule.to_json())


@route("GET", "/faults")
async def list_faults(request: web.Request) -> web.StreamResponse:
    app = _scope(request)
    rules = _ctx(request).faults.rules(app.token if app else None)
    return responses.ok([rule.to_json() for rule in rules])


@route("DELETE", "/faults")
async def clear_faults(request: web.Request) -> web.StreamResponse:
    app = _scope(request)
    return responses.ok({"deleted": _ctx(request).faults.clear(app.token if app else None)})


@route("DELETE", "/faults/{rule_id}")
async def delete_fault(request: web.Request) -> web.StreamResponse:
    if not _ctx(request).faults.remove(_id(request, "rule_id")):
        raise ApiError(404, "FAULT_NOT_FOUND", "no such fault rule")
    return responses.ok({"deleted": 1})


# -- inspection ----------------------------------------------------------------------------


@route("GET", "/stats")
async def get_stats(request: web.Request) -> web.StreamResponse:
    """Every API request, or with a token header only the requests that carried that token."""
    ctx, app = _ctx(request), _scope(request)
    tally = ctx.stats.for_token(app.token) if app else ctx.stats.overall
    return responses.ok(tally.to_json())


@route("POST", "/reset")
async def reset(request: web.Request) -> web.StreamResponse:
    """Reset request stats; ``{"state": true}`` also resets apps, faults and the webhook log.

    With a token header only that app is reset; without one, everything (rates included).
    """
    ctx, app = _ctx(request), _scope(request)
    state = Params(await _body(request)).boolean("state", False)
    ctx.stats.reset(app.token if app else None)
    if state and app is not None:
        ctx.ledger.forget(app)
        ctx.faults.clear(app.token)
        ctx.webhooks.clear_log(app.app_id)
    elif state:
        ctx.reset_state()
        ctx.webhooks.clear_log()
    return responses.ok({"stats": True, "state": state})


@route("GET", "/ledger")
async def get_ledger(request: web.Request) -> web.StreamResponse:
    """The app's full state, oldest first, including deleted invoices and checks (flagged)."""
    ctx, app = _ctx(request), _app(request)
    ctx.ledger.sweep(app)
    links = ctx.ledger.links
    return responses.ok(
        {
            "app_id": app.app_id,
            "name": app.name,
            "balances": [balance_json(code, b) for code, b in ctx.ledger.balances(app)],
            "invoices": [
                invoice_json(i, links) | ({"deleted": True} if i.deleted else {})
                for i in app.invoices.values()
            ],
            "checks": [
                check_json(c, links) | ({"deleted": True} if c.deleted else {})
                for c in app.checks.values()
            ],
            "transfers": [transfer_json(t) for t in app.transfers.values()],
            "disabled_methods": sorted(app.disabled_methods),
            "webhook_url": app.webhook_url or ctx.config.webhook_url,
        }
    )


@route("GET", "/webhooks")
async def get_webhooks(request: web.Request) -> web.StreamResponse:
    """The delivery log; with a token header, only that app's deliveries."""
    ctx = _ctx(request)
    app_id = _app(request).app_id if TOKEN_HEADER in request.headers else None
    deliveries = [
        d.to_json() for d in ctx.webhooks.deliveries if app_id is None or d.app_id == app_id
    ]
    return responses.ok(deliveries)


@route("GET", "/health")
async def health(request: web.Request) -> web.StreamResponse:
    return responses.ok(True)


@route("*", "/{tail:.*}")
async def unknown(request: web.Request) -> web.StreamResponse:
    raise ApiError(404, "NOT_FOUND", f"no control endpoint {request.method} {request.path}")
