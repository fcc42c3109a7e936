"""Durations in configuration: seconds as a number, or a string such as "250ms", "5m", "24h"."""

from __future__ import annotations

import re
from typing import Any

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")

# For JSON Schema fragments: where a duration is accepted.
SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$"},
    ]
}


def parse_duration(value: object, where: str) -> float:
    """Seconds from a number or a unit string; ValueError names `where` and the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a duration such as 250ms, 2s or 24h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{where}: a duration cannot be negative, got {value}")
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise ValueError(f"{where}: expected a duration such as 250ms, 2s or 24h, got {value!r}")
