"""Wire formats: plain decimal strings and ISO-8601 UTC timestamps with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def format_decimal(value: Decimal) -> str:
    """``Decimal("10.50")`` -> ``"10.5"``; never an exponent, never padding zeros."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(), "f")
    return text


def quantize(value: Decimal, places: int) -> Decimal:
    """Round half-even to ``places`` decimals, then drop trailing zeros."""
    return value.quantize(Decimal(1).scaleb(-places)).normalize()


def to_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so callers may use either kind."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def truncate_ms(moment: datetime) -> datetime:
    """The API only shows milliseconds; storing the same precision keeps comparisons exact."""
    moment = to_utc(moment)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_time(moment: datetime) -> str:
    """``2024-11-12T17:11:06.375Z``."""
    moment = to_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Parse ISO 8601 (``Z`` or an offset; no zone means UTC). Raises ValueError."""
    return to_utc(datetime.fromisoformat(text.strip()))


def utc_now() -> datetime:
    return datetime.now(UTC)
