"""The grammar of a Crypto Pay decimal, ASCII only (pure).

`^[0-9]+(\\.[0-9]+)?$` and nothing before or after. Python's own parsers are far more lenient:
`Decimal`, `int`, `str.isdigit` and regex `\\d` accept full-width and Arabic-Indic digits
("\\uff11\\uff10", "\\u0661\\u0660"), and regex `$` matches before a trailing newline
("5\\n"). Every decimal or integer the sidecar reads from a request or a policy passes through
here first.
"""

from __future__ import annotations

import re
from decimal import Decimal

# fullmatch, never match + $: "$" also matches before a final "\n".
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"[0-9]+")
# For JSON Schema (ECMA-262 and Python alike): "(?![\s\S])" is the true end of the string.
END = r"(?![\s\S])"


def is_plain(text: str, *, max_digits: int = 20, max_places: int = 18) -> bool:
    """Whether `text` is an unsigned ASCII decimal within the given digits and places."""
    if _PLAIN.fullmatch(text) is None:
        return False
    whole, _, places = text.partition(".")
    return len(whole) <= max_digits and len(places) <= max_places


def is_integer(text: str) -> bool:
    """Whether `text` is an unsigned ASCII integer."""
    return _INTEGER.fullmatch(text) is not None


def parse(text: str) -> Decimal:
    """The exact value of a plain decimal; ValueError for anything else."""
    if not isinstance(text, str) or _PLAIN.fullmatch(text) is None:
        raise ValueError(f"not a plain decimal of ASCII digits such as 10.5: {str(text)[:40]!r}")
    return Decimal(text)
