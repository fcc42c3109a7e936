"""The 13 API methods: parameters in, ledger call, JSON result out. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, TypeVar

from . import serialize
from .catalog import ASSET_CODES, FIAT_CODES, PAID_BUTTON_NAMES, SWAP_TARGETS
from .errors import ApiError
from .models import App, CheckStatus, InvoiceSpec, InvoiceStatus, TransferSpec
from .params import Params
from .state import CheckFilter, InvoiceFilter, Ledger, TransferFilter

Handler = Callable[[Ledger, App, Params], object]
T = TypeVar("T")

MAX_DESCRIPTION = 1024
MAX_HIDDEN_MESSAGE = 2048
MAX_PAYLOAD = 4096
MAX_COMMENT = 1024
MAX_SPEND_ID = 64
MAX_EXPIRES_IN = 2678400
MAX_COUNT = 1000
DEFAULT_COUNT = 100


def get_me(ledger: Ledger, app: App, p: Params) -> object:
    return {
        "app_id": app.app_id,
        "name": app.name,
        "payment_processing_bot_username": ledger.links.bot_username,
    }


def create_invoice(ledger: Ledger, app: App, p: Params) -> object:
    currency_type = p.choice("currency_type", {"crypto", "fiat"}) or "crypto"
    asset = fiat = None
    accepted_assets = None
    # The asset is checked before the paid button (live test data: UNSUPPORTED_ASSET wins).
    if currency_type == "crypto":
        asset = p.require_text("asset")
        if asset not in ASSET_CODES:
            raise ApiError(400, "UNSUPPORTED_ASSET")
    else:
        fiat = p.require_text("fiat")
        if fiat not in FIAT_CODES:
            raise ApiError(400, "FIAT_INVALID")
        accepted_assets = p.code_list("accepted_assets")
    amount = p.amount()
    paid_btn_name = p.choice("paid_btn_name", PAID_BUTTON_NAMES)
    paid_btn_url = p.text("paid_btn_url")
    if paid_btn_name is not None and paid_btn_url is None:
        raise ApiError(400, "PAID_BTN_URL_REQUIRED")
    if paid_btn_url is not None and not paid_btn_url.startswith(("https://", "http://")):
        raise ApiError(400, "PAID_BTN_URL_INVALID")
    spec = InvoiceSpec(
        amount=amount,
        currency_type=currency_type,
        asset=asset,
        fiat=fiat,
        accepted_assets=accepted_assets,
        description=p.text("description", max_length=MAX_DESCRIPTION),
        hidden_message=p.text("hidden_message", max_length=MAX_HIDDEN_MESSAGE),
        paid_btn_name=paid_btn_name,
        paid_btn_url=paid_btn_url,
        payload=p.text("payload", max_length=MAX_PAYLOAD),
        allow_comments=p.boolean("allow_comments", True),
        allow_anonymous=p.boolean("allow_anonymous", True),
        expires_in=p.integer("expires_in", minimum=1, maximum=MAX_EXPIRES_IN),
        swap_to=p.choice("swap_to", SWAP_TARGETS),
    )
    return serialize.invoice_json(ledger.create_invoice(app, spec), ledger.links)


def delete_invoice(ledger: Ledger, app: App, p: Params) -> object:
    invoice_id = p.require_integer("invoice_id", minimum=1)
    ledger.delete_invoice(app, invoice_id)
    return True


def create_check(ledger: Ledger, app: App, p: Params) -> object:
    asset = p.require_text("asset")
    amount = p.amount()
    pin_to_user_id = p.integer("pin_to_user_id", minimum=1)
    pin_to_username = p.text("pin_to_username", max_length=64)
    if pin_to_user_id is not None and pin_to_username is not None:
        raise ApiError(400, "PIN_TO_USER_CONFLICT")
    check = ledger.create_check(app, asset, amount, pin_to_user_id, pin_to_username)
    return serialize.check_json(check, ledger.links)


def delete_check(ledger: Ledger, app: App, p: Params) -> object:
    check_id = p.require_integer("check_id", minimum=1)
    ledger.delete_check(app, check_id)
    return True


def transfer(ledger: Ledger, app: App, p: Params) -> object:
    user_id = p.require_integer("user_id", minimum=1)
    asset = p.require_text("asset")
    amount = p.amount()
    spend_id = p.require_text("spend_id", max_length=MAX_SPEND_ID)
    spec = TransferSpec(
        user_id=user_id,
        asset=asset,
        amount=amount,
        spend_id=spend_id,
        comment=p.text("comment", max_length=MAX_COMMENT),
        disable_send_notification=p.boolean("disable_send_notification", False),
    )
    return serialize.transfer_json(ledger.transfer(app, spec))


def get_invoices(ledger: Ledger, app: App, p: Params) -> object:
    where = InvoiceFilter(
        asset=p.code_list("asset"),  # older docs allow a comma list here
        fiat=p.text("fiat"),
        invoice_ids=p.id_list("invoice_ids"),
        status=p.choice("status", [s.value for s in InvoiceStatus]),
    )
    items = _page(p, ledger.list_invoices(app, where))
    return {"items": [serialize.invoice_json(i, ledger.links) for i in items]}


def get_checks(ledger: Ledger, app: App, p: Params) -> object:
    where = CheckFilter(
        asset=p.text("asset"),
        check_ids=p.id_list("check_ids"),
        status=p.choice("status", [s.value for s in CheckStatus]),
    )
    items = _page(p, ledger.list_checks(app, where))
    return {"items": [serialize.check_json(c, ledger.links) for c in items]}


def get_transfers(ledger: Ledger, app: App, p: Params) -> object:
    where = TransferFilter(
        asset=p.text("asset"),
        transfer_ids=p.id_list("transfer_ids"),
        spend_id=p.text("spend_id", max_length=MAX_SPEND_ID),
    )
    items = _page(p, ledger.list_transfers(app, where))
    return {"items": [serialize.transfer_json(t) for t in items]}


def get_balance(ledger: Ledger, app: App, p: Params) -> object:
    return [serialize.balance_json(code, b) for code, b in ledger.balances(app)]


def get_exchange_rates(ledger: Ledger, app: App, p: Params) -> object:
    return [serialize.rate_json(r) for r in ledger.rates.all()]


def get_currencies(ledger: Ledger, app: App, p: Params) -> object:
    return serialize.currencies_json()


def get_stats(ledger: Ledger, app: App, p: Params) -> object:
    stats = ledger.stats(app, p.timestamp("start_at"), p.timestamp("end_at"))
    return serialize.stats_json(stats)


def _page(p: Params, items: Sequence[T]) -> Sequence[T]:
    # The live API's own answers (live test data, 2026): a negative offset is a 500
    # INTERNAL_SERVER_ERROR (older data said APP_ERROR), a negative count a 500 APP_ERROR.
    offset = p.integer("offset")
    count = p.integer("count")
    if offset is not None and offset < 0:
        raise ApiError(500, "INTERNAL_SERVER_ERROR")
    if count is not None and count < 0:
        raise ApiError(500, "APP_ERROR")
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise ApiError(400, "COUNT_INVALID")
    start = offset or 0
    return items[start : start + (count or DEFAULT_COUNT)]


METHODS: Final[Mapping[str, Handler]] = MappingProxyType(
    {
        "getMe": get_me,
        "createInvoice": create_invoice,
        "deleteInvoice": delete_invoice,
        "createCheck": create_check,
        "deleteCheck": delete_check,
        "transfer": transfer,
        "getInvoices": get_invoices,
        "getTransfers": get_transfers,
        "getChecks": get_checks,
        "getBalance": get_balance,
        "getExchangeRates": get_exchange_rates,
        "getCurrencies": get_currencies,
        "getStats": get_stats,
    }
)


def dispatch(ledger: Ledger, app: App, method: str, params: Params) -> object:
    """Run one API method for ``app``. ``method`` must be a key of METHODS."""
    if method in app.disabled_methods:
        raise ApiError(403, "METHOD_DISABLED")
    return METHODS[method](ledger, app, params)
