"""Parameter parsing and coercion, the same for query strings, JSON, urlencoded and multipart.

Query and form values arrive as strings, JSON values keep their JSON types; both are accepted.
Naming follows the real API's observed pattern (EXPIRES_IN_INVALID, PAID_BTN_URL_REQUIRED):
a value of the wrong type or out of range is ``400 <PARAM>_INVALID``, a missing required one is
``400 <PARAM>_REQUIRED``. Only some of those names are confirmed; see docs/emulator.md.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from .errors import ApiError
from .formats import parse_time

# Bounds that keep Decimal arithmetic exact under the default 28-digit context.
_MAX_AMOUNT = Decimal(10) ** 15
_MAX_PLACES = 18


def parse_json_object(body: bytes) -> dict[str, object]:
    """A JSON body must be an object; floats become Decimal so no binary artefacts creep in."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "BAD_REQUEST") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "BAD_REQUEST")
    return value


def _invalid(name: str) -> ApiError:
    return ApiError(400, f"{name.upper()}_INVALID")


def _required(name: str) -> ApiError:
    return ApiError(400, f"{name.upper()}_REQUIRED")


class Params:
    """Typed access to one request's parameters. JSON null and empty strings count as absent."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def raw(self, name: str) -> object | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        return value

    def text(self, name: str, *, max_length: int | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        # Numbers are accepted where a string is expected (e.g. a numeric spend_id).
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise _invalid(name)
        text = str(value)
        if max_length is not None and len(text) > max_length:
            raise _invalid(name)
        return text

    def require_text(self, name: str, *, max_length: int | None = None) -> str:
        text = self.text(name, max_length=max_length)
        if text is None:
            raise _required(name)
        return text

    def choice(self, name: str, options: Collection[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in options:
            raise _invalid(name)
        return value

    def integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        number = _to_int(value)
        if number is None:
            raise _invalid(name)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise _invalid(name)
        return number

    def require_integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        number = self.integer(name, minimum=minimum, maximum=maximum)
        if number is None:
            raise _required(name)
        return number

    def amount(self, name: str = "amount") -> Decimal:
        """A required positive decimal, given as a JSON number or a decimal string."""
        value = self.raw(name)
        if value is None:
            raise _required(name)
        number = _to_decimal(value)
        if number is None or number <= 0:
            raise _invalid(name)
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise _invalid(name)

    def id_list(self, name: str) -> tuple[int, ...] | None:
        """``"1,2,3"`` or a JSON array of ids. 0 is accepted (and matches nothing), as the
        live API answers ``invoice_ids=0,11111`` with 200."""
        items = self._list(name)
        if items is None:
            return None
        ids: list[int] = []
        for item in items:
            number = _to_int(item)
            if number is None or number < 0:
                raise _invalid(name)
            ids.append(number)
        return tuple(ids)

    def code_list(self, name: str) -> tuple[str, ...] | None:
        """``"USDT,TON"`` or a JSON array of codes."""
        items = self._list(name)
        if items is None:
            return None
        if not all(isinstance(item, str) and item for item in items):
            raise _invalid(name)
        return tuple(str(item) for item in items)

    def timestamp(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError as exc:
            raise _invalid(name) from exc

    def _list(self, name: str) -> list[object] | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, list):
            return list(value)
        if isinstance(value, str | int) and not isinstance(value, bool):
            items: list[object] = [part.strip() for part in str(value).split(",")]
            if any(item == "" for item in items):
                raise _invalid(name)
            return items
        raise _invalid(name)


def _to_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in {"-", "+"} else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    return None


def _to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        if "_" in value:  # Decimal() accepts "1_000"; an API would not
            return None
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or abs(number) >= _MAX_AMOUNT:
        return None
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_PLACES:
        return None
    return number
