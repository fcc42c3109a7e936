"""Ledger records -> the exact JSON objects the real API sends.

Absent fields are omitted (never null), money is a decimal string, times are ISO-8601 with
milliseconds and ``Z``. Key order follows the real captures, although clients must not rely on it.
"""

from __future__ import annotations

from decimal import Decimal

from .catalog import ASSETS, FIATS, ExchangeRate, Links
from .formats import format_decimal, format_time
from .models import AppStats, Balance, Check, Invoice, Transfer

Json = dict[str, object]


def invoice_json(invoice: Invoice, links: Links) -> Json:
    spec, payment, hash_ = invoice.spec, invoice.payment, invoice.hash
    out: Json = {"invoice_id": invoice.invoice_id, "hash": hash_}
    out["currency_type"] = spec.currency_type
    if spec.asset is not None:
        out["asset"] = spec.asset
    if spec.fiat is not None:
        out["fiat"] = spec.fiat
    out["amount"] = format_decimal(spec.amount)
    if payment is not None:
        out["paid_asset"] = payment.asset
        out["paid_amount"] = format_decimal(payment.amount)
        if payment.fiat_rate is not None:
            out["paid_fiat_rate"] = format_decimal(payment.fiat_rate)
    if spec.accepted_assets is not None:
        out["accepted_assets"] = list(spec.accepted_assets)
    elif spec.fiat is not None:
        # A fiat invoice without a restriction accepts every asset; the real API lists them.
        out["accepted_assets"] = [a.code for a in ASSETS]
    if payment is not None:
        out["fee_asset"] = payment.asset
        out["fee_amount"] = format_decimal(payment.fee_amount)
        out["fee"] = format_decimal(payment.fee_amount)  # deprecated, still sent
        out["fee_in_usd"] = format_decimal(payment.fee_in_usd)
    out["pay_url"] = links.bot_url(hash_)  # deprecated, still sent
    out["bot_invoice_url"] = links.bot_url(hash_)
    out["mini_app_invoice_url"] = links.mini_app_url(hash_)
    out["web_app_invoice_url"] = links.web_app_url(hash_)
    _put_optional(
        out,
        description=spec.description,
        hidden_message=spec.hidden_message,
        paid_btn_name=spec.paid_btn_name,
        paid_btn_url=spec.paid_btn_url,
        payload=spec.payload,
    )
    out["status"] = invoice.status.value
    out["created_at"] = format_time(invoice.created_at)
    out["allow_comments"] = spec.allow_comments
    out["allow_anonymous"] = spec.allow_anonymous
    if invoice.expiration_date is not None:
        out["expiration_date"] = format_time(invoice.expiration_date)
    if spec.swap_to is not None:
        out["swap_to"] = spec.swap_to
    if payment is not None:
        out["paid_usd_rate"] = format_decimal(payment.usd_rate)
        out["usd_rate"] = format_decimal(payment.usd_rate)  # deprecated, still sent
        out["paid_at"] = format_time(payment.paid_at)
        out["paid_anonymously"] = payment.anonymously
        if payment.comment is not None:
            out["comment"] = payment.comment
        if spec.swap_to is not None:
            # The emulator never swaps; "not swapped" is a legitimate real outcome.
            out["is_swapped"] = False
    return out


def check_json(check: Check, links: Links) -> Json:
    out: Json = {
        "check_id": check.check_id,
        "hash": check.hash,
        "asset": check.asset,
        "amount": format_decimal(check.amount),
        "bot_check_url": links.bot_url(check.hash),
        "status": check.status.value,
        "created_at": format_time(check.created_at),
    }
    if check.activated_at is not None:
        out["activated_at"] = format_time(check.activated_at)
    # Undocumented, but parsed by the crypto-bot-api SDK, which follows live responses.
    if check.pin_to_user_id is not None:
        out["pin_to_user"] = {"pin_by": "id", "user_id": check.pin_to_user_id}
    elif check.pin_to_username is not None:
        out["pin_to_user"] = {"pin_by": "username", "username": check.pin_to_username}
    return out


def transfer_json(transfer: Transfer) -> Json:
    spec = transfer.spec
    out: Json = {
        "transfer_id": transfer.transfer_id,
        "spend_id": spec.spend_id,
        "user_id": spec.user_id,
        "asset": spec.asset,
        "amount": format_decimal(spec.amount),
        "status": transfer.status,
        "completed_at": format_time(transfer.completed_at),
    }
    if spec.comment is not None:
        out["comment"] = spec.comment
    return out


def balance_json(code: str, balance: Balance) -> Json:
    return {
        "currency_code": code,
        "available": format_decimal(balance.available),
        "onhold": format_decimal(balance.onhold),
    }


def rate_json(rate: ExchangeRate) -> Json:
    return {
        "is_valid": rate.is_valid,
        "is_crypto": rate.is_crypto,
        "is_fiat": rate.is_fiat,
        "source": rate.source,
        "target": rate.target,
        "rate": format_decimal(rate.rate),
    }


def currencies_json() -> list[Json]:
    out: list[Json] = [
        {
            "is_blockchain": a.is_blockchain,
            "is_stablecoin": a.is_stablecoin,
            "is_fiat": False,
            "name": a.name,
            "code": a.code,
            "url": a.url,
            "decimals": a.decimals,
        }
        for a in ASSETS
    ]
    out.extend(
        {
            "is_blockchain": False,
            "is_stablecoin": False,
            "is_fiat": True,
            "name": f.name,
            "code": f.code,
            "decimals": 2,
        }
        for f in FIATS
    )
    return out


def stats_json(stats: AppStats) -> Json:
    return {
        "volume": _number(stats.volume),
        "conversion": _number(stats.conversion),
        "unique_users_count": stats.unique_users_count,
        "created_invoice_count": stats.created_invoice_count,
        "paid_invoice_count": stats.paid_invoice_count,
        "start_at": format_time(stats.start_at),
        "end_at": format_time(stats.end_at),
    }


def _number(value: Decimal) -> int | float:
    """AppStats sends JSON numbers; whole values print as ``0`` like the real capture."""
    return int(value) if value == value.to_integral_value() else float(value)


def _put_optional(out: Json, **fields: str | None) -> None:
    for key, value in fields.items():
        if value is not None:
            out[key] = value
