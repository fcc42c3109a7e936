"""Request validation against the Crypto Pay API's documented limits (pure).

Runs before anything else touches a request, so a bad request never reaches the upstream.
Each violation names the field and says how to fix it; all violations are reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from sidecar import decimals
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types

MAX_DESCRIPTION = 1024
MAX_HIDDEN_MESSAGE = 2048
MAX_PAYLOAD_BYTES = 4096
MAX_COMMENT = 1024
MAX_SPEND_ID = 64
MAX_EXPIRES_IN = 2_678_400
MAX_COUNT = 1000
MAX_CODE = 32

# Always fullmatch: "$" would also match before a trailing newline.
_CODE = re.compile(r"[A-Za-z0-9]+")
_USERNAME = re.compile(r"@?[A-Za-z0-9_]{1,64}")
# google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    description: str


class _Check:
    """Collects violations for one request."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def fail(self, field: str, description: str) -> None:
        self.violations.append(Violation(field, description))

    def amount(self, field: str, value: str, required: bool = True) -> None:
        if not value:
            if required:
                self.fail(field, 'is required: a decimal string greater than 0, e.g. "10.5"')
            return
        if not decimals.is_plain(value):
            self.fail(
                field,
                'must be a plain decimal string of ASCII digits such as "10.5" (at most 20 '
                f"digits and 18 decimal places, nothing before or after), got {value[:40]!r}",
            )
            return
        if Decimal(value) <= 0:
            self.fail(field, f'must be greater than 0, got "{value}"')

    def code(self, field: str, value: str, required: bool = False, what: str = "asset") -> None:
        if not value:
            if required:
                self.fail(field, f"is required: an {what} code such as USDT")
            return
        if len(value) > MAX_CODE or not _CODE.fullmatch(value):
            self.fail(field, f"must be an {what} code of letters and digits, got {value[:40]!r}")

    def max_chars(self, field: str, value: str, limit: int) -> None:
        if len(value) > limit:
            self.fail(field, f"must be at most {limit} characters, got {len(value)}")

    def page(self, offset: int, count: int) -> None:
        if offset < 0:
            self.fail("offset", f"must be >= 0, got {offset}")
        if count < 0 or count > MAX_COUNT:
            self.fail(
                "count", f"must be between 1 and {MAX_COUNT} (0 for the default), got {count}"
            )

    def ids(self, field: str, values: list[int]) -> None:
        bad = [v for v in values if v <= 0]
        if bad:
            self.fail(field, f"ids must be positive, got {bad[:5]}")


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _create_invoice(r: pb.CreateInvoiceRequest, c: _Check) -> None:
    c.amount("amount", r.amount)
    fiat = r.currency_type == types.CURRENCY_TYPE_FIAT
    if fiat:
        c.code("fiat", r.fiat, required=True, what="fiat")
        if r.asset:
            c.fail("asset", "must be empty for a fiat invoice (use fiat and accepted_assets)")
    else:
        c.code("asset", r.asset, required=True)
        if r.fiat:
            c.fail("fiat", "is only for fiat invoices: set currency_type to CURRENCY_TYPE_FIAT")
        if r.accepted_assets:
            c.fail("accepted_assets", "is only for fiat invoices")
    for i, asset in enumerate(r.accepted_assets):
        c.code(f"accepted_assets[{i}]", asset, required=True)
    c.max_chars("description", r.description, MAX_DESCRIPTION)
    c.max_chars("hidden_message", r.hidden_message, MAX_HIDDEN_MESSAGE)
    payload_bytes = len(r.payload.encode())
    if payload_bytes > MAX_PAYLOAD_BYTES:
        c.fail("payload", f"must be at most {MAX_PAYLOAD_BYTES} bytes, got {payload_bytes}")
    if r.paid_btn_name != types.PAID_BUTTON_NAME_UNSPECIFIED:
        if not r.paid_btn_url:
            c.fail("paid_btn_url", "is required when paid_btn_name is set")
        elif not _is_http_url(r.paid_btn_url):
            c.fail("paid_btn_url", "must be an http:// or https:// URL with a host")
    elif r.paid_btn_url:
        c.fail("paid_btn_name", "is required when paid_btn_url is set")
    if r.expires_in != 0 and not 1 <= r.expires_in <= MAX_EXPIRES_IN:
        c.fail("expires_in", f"must be between 1 and {MAX_EXPIRES_IN} seconds, got {r.expires_in}")
    c.code("swap_to", r.swap_to)


def _delete_invoice(r: pb.DeleteInvoiceRequest, c: _Check) -> None:
    if r.invoice_id <= 0:
        c.fail("invoice_id", f"is required and must be positive, got {r.invoice_id}")


def _create_check(r: pb.CreateCheckRequest, c: _Check) -> None:
    c.code("asset", r.asset, required=True)
    c.amount("amount", r.amount)
    if r.pin_to_user_id < 0:
        c.fail("pin_to_user_id", f"must be a positive Telegram user id, got {r.pin_to_user_id}")
    if r.pin_to_username and not _USERNAME.fullmatch(r.pin_to_username):
        c.fail("pin_to_username", "must be a Telegram username (letters, digits, underscore)")
    if r.pin_to_user_id and r.pin_to_username:
        c.fail("pin_to_username", "cannot be combined with pin_to_user_id: pin to one of them")


def _delete_check(r: pb.DeleteCheckRequest, c: _Check) -> None:
    if r.check_id <= 0:
        c.fail("check_id", f"is required and must be positive, got {r.check_id}")


def _transfer(r: pb.TransferRequest, c: _Check, spend_id_derived: bool = False) -> None:
    if r.user_id <= 0:
        c.fail("user_id", f"is required and must be a positive Telegram user id, got {r.user_id}")
    c.code("asset", r.asset, required=True)
    c.amount("amount", r.amount)
    if not r.spend_id:
        if not spend_id_derived:
            c.fail(
                "spend_id",
                "is required: a unique string of 1 to 64 characters per transfer "
                "(or send an idempotency-key and the sidecar derives one)",
            )
    else:
        c.max_chars("spend_id", r.spend_id, MAX_SPEND_ID)
    c.max_chars("comment", r.comment, MAX_COMMENT)


def _get_invoices(r: pb.GetInvoicesRequest, c: _Check) -> None:
    c.code("asset", r.asset)
    c.code("fiat", r.fiat, what="fiat")
    c.ids("invoice_ids", list(r.invoice_ids))
    c.page(r.offset, r.count)


def _get_transfers(r: pb.GetTransfersRequest, c: _Check) -> None:
    c.code("asset", r.asset)
    c.ids("transfer_ids", list(r.transfer_ids))
    c.max_chars("spend_id", r.spend_id, MAX_SPEND_ID)
    c.page(r.offset, r.count)


def _get_checks(r: pb.GetChecksRequest, c: _Check) -> None:
    c.code("asset", r.asset)
    c.ids("check_ids", list(r.check_ids))
    c.page(r.offset, r.count)


def _get_stats(r: pb.GetStatsRequest, c: _Check) -> None:
    for name in ("start_at", "end_at"):
        if r.HasField(name) and getattr(r, name).seconds <= 0:
            c.fail(name, "must be a time after 1970-01-01")
    if (
        r.HasField("start_at")
        and r.HasField("end_at")
        and r.start_at.ToNanoseconds() >= (r.end_at.ToNanoseconds())
    ):
        c.fail("end_at", "must be later than start_at")


def _nothing(_r: Message, _c: _Check) -> None:
    return None


def _enums_and_timestamps(request: Message, c: _Check) -> None:
    """Every request: enum numbers the API knows, Timestamps in their documented range. Both
    would otherwise fail only when the request is mapped to the upstream's parameters."""
    for field, value in request.ListFields():
        enum, message = field.enum_type, field.message_type
        if field.type == FieldDescriptor.TYPE_ENUM and enum is not None:
            values = value if field.is_repeated else [value]
            for number in values:
                if number not in enum.values_by_number:
                    names = ", ".join(v.name for v in enum.values if v.number)
                    c.fail(field.name, f"unknown value {number}: use one of {names}")
        elif (
            message is not None
            and message.full_name == "google.protobuf.Timestamp"
            and not field.is_repeated
        ):
            if not 0 <= value.nanos < 1_000_000_000:
                c.fail(field.name, f"nanos must be between 0 and 999999999, got {value.nanos}")
            if not _MIN_SECONDS <= value.seconds <= _MAX_SECONDS:
                c.fail(
                    field.name,
                    "must be between 0001-01-01 and 9999-12-31 (seconds "
                    f"{_MIN_SECONDS}..{_MAX_SECONDS}), got seconds={value.seconds}",
                )


_VALIDATORS: dict[type[Message], Callable[[object, _Check], None]] = {
    pb.CreateInvoiceRequest: _create_invoice,  # type: ignore[dict-item]
    pb.DeleteInvoiceRequest: _delete_invoice,  # type: ignore[dict-item]
    pb.CreateCheckRequest: _create_check,  # type: ignore[dict-item]
    pb.DeleteCheckRequest: _delete_check,  # type: ignore[dict-item]
    pb.TransferRequest: _transfer,  # type: ignore[dict-item]
    pb.GetInvoicesRequest: _get_invoices,  # type: ignore[dict-item]
    pb.GetTransfersRequest: _get_transfers,  # type: ignore[dict-item]
    pb.GetChecksRequest: _get_checks,  # type: ignore[dict-item]
    pb.GetStatsRequest: _get_stats,  # type: ignore[dict-item]
}


def validate(request: Message, *, spend_id_derived: bool = False) -> list[Violation]:
    """Returns every violation in the request; an empty list means it may go upstream.

    `spend_id_derived`: the call carries an idempotency key, so a Transfer without a spend_id
    gets one derived from it.
    """
    check = _Check()
    _enums_and_timestamps(request, check)
    if check.violations:
        return check.violations  # the checks below read these fields
    if isinstance(request, pb.TransferRequest):
        _transfer(request, check, spend_id_derived)
    else:
        _VALIDATORS.get(type(request), _nothing)(request, check)
    return check.violations
