"""What an incoming webhook request means (pure): accepted update, or a refusal and why.

The order matters: the signature is checked over the raw bytes first, so nothing about an
unauthenticated body is parsed or trusted; then the content type, the JSON shape, and the
freshness of the signed `request_date`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sidecar import mapping, signature

INVOICE_PAID = "invoice_paid"
_UPDATE_TYPE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Reason(enum.Enum):
    """Why a request is refused; the name is the `error` of the answer."""

    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    BODY_TIMEOUT = "BODY_TIMEOUT"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    BAD_CONTENT_TYPE = "BAD_CONTENT_TYPE"
    MALFORMED_UPDATE = "MALFORMED_UPDATE"
    STALE_REQUEST_DATE = "STALE_REQUEST_DATE"
    FUTURE_REQUEST_DATE = "FUTURE_REQUEST_DATE"

    @property
    def status(self) -> int:
        return _STATUS.get(self, 400)


_STATUS = {Reason.BODY_TOO_LARGE: 413, Reason.BODY_TIMEOUT: 408, Reason.BAD_SIGNATURE: 401}


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Update:
    """A verified, well-formed update."""

    update_type: str
    update_id: int | None
    request_date: datetime
    payload: Mapping[str, Any]
    invoice_id: int | None
    asset: str


@dataclass(frozen=True, slots=True)
class Freshness:
    max_age: timedelta
    max_future: timedelta


def check_signature(body: bytes, header: str | None, tokens: Sequence[str]) -> Refused | None:
    if not header:
        return Refused(Reason.BAD_SIGNATURE, f"the {signature.HEADER} header is missing")
    if not signature.verify(body, header, tokens):
        return Refused(Reason.BAD_SIGNATURE, f"the {signature.HEADER} header does not match")
    return None


def check_content_type(value: str | None) -> Refused | None:
    """JSON is UTF-8 (RFC 8259); any other declared charset is refused."""
    media, _, params = (value or "").partition(";")
    if media.strip().lower() != "application/json":
        return Refused(Reason.BAD_CONTENT_TYPE, "Content-Type must be application/json")
    for param in params.split(";"):
        key, _, charset = param.partition("=")
        if key.strip().lower() == "charset" and charset.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return Refused(Reason.BAD_CONTENT_TYPE, "the body must be UTF-8 JSON")
    return None


def _malformed(detail: str) -> Refused:
    return Refused(Reason.MALFORMED_UPDATE, detail)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def parse_date(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _utf8_text(body: bytes) -> str | None:
    """The body as text if it is UTF-8 without a byte order mark (RFC 8259 8.1: JSON between
    systems is UTF-8, and a sender must not add a BOM). Crypto Pay sends exactly that, so a
    UTF-16 or BOM-prefixed body did not come from it as is: refused like any malformed update."""
    if body.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_update(body: bytes) -> Update | Refused:
    text = _utf8_text(body)
    if text is None:
        return _malformed("the body must be UTF-8 JSON without a byte order mark")
    try:
        data = mapping.loads(text)
    except (ValueError, RecursionError):
        return _malformed("the body is not valid JSON")
    if not isinstance(data, dict):
        return _malformed("the body must be a JSON object")
    update_type = data.get("update_type")
    if not isinstance(update_type, str) or not _UPDATE_TYPE.match(update_type):
        return _malformed("update_type must be a short string such as invoice_paid")
    update_id = data.get("update_id")
    if update_id is not None and (not isinstance(update_id, int) or isinstance(update_id, bool)):
        return _malformed("update_id must be an integer")
    raw_date = data.get("request_date")
    request_date = parse_date(raw_date) if isinstance(raw_date, str) else None
    if request_date is None:
        return _malformed("request_date must be an ISO-8601 date")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        return _malformed("payload must be a JSON object")
    invoice_id = _positive_int(payload.get("invoice_id"))
    if update_type == INVOICE_PAID and invoice_id is None:
        return _malformed("an invoice_paid payload needs a positive integer invoice_id")
    asset = payload.get("asset") or payload.get("paid_asset")
    return Update(
        update_type=update_type,
        update_id=update_id,
        request_date=request_date,
        payload=payload,
        invoice_id=invoice_id,
        asset=asset if isinstance(asset, str) else "",
    )


def check_freshness(request_date: datetime, now: datetime, window: Freshness) -> Refused | None:
    age = now - request_date
    if age > window.max_age:
        return Refused(
            Reason.STALE_REQUEST_DATE,
            f"request_date is {int(age.total_seconds())} s old; at most "
            f"{int(window.max_age.total_seconds())} s are accepted",
        )
    if -age > window.max_future:
        return Refused(
            Reason.FUTURE_REQUEST_DATE,
            f"request_date is {int(-age.total_seconds())} s in the future; check the clock",
        )
    return None


def evaluate(
    body: bytes,
    signature_header: str | None,
    content_type: str | None,
    tokens: Sequence[str],
    now: datetime,
    window: Freshness,
) -> Update | Refused:
    """The whole decision for one request whose body was read within the size limit."""
    refused = check_signature(body, signature_header, tokens)
    if refused is None:
        refused = check_content_type(content_type)
    if refused is not None:
        return refused
    update = parse_update(body)
    if isinstance(update, Refused):
        return update
    return check_freshness(update.request_date, now, window) or update
