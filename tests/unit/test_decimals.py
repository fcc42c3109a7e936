"""The ASCII decimal grammar: what Python's own parsers let through and the API does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidecar import decimals

HOSTILE = [
    "\uff11\uff10",  # full-width digits: Decimal() reads them as 10
    "\u0661\u0660",  # Arabic-Indic digits: Decimal() reads them as 10
    "5\n",  # regex "$" matches before a final newline
    "\n5",
    " 5",
    "5 ",
    "+5",
    "-5",
    "5e1",
    "1_000",
    "Infinity",
    "NaN",
    ".5",
    "5.",
    "1.2.3",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_only_ascii_digits_with_one_optional_point(text: str) -> None:
    assert not decimals.is_plain(text)
    with pytest.raises(ValueError, match="plain decimal"):
        decimals.parse(text)


@pytest.mark.parametrize("text", ["0", "10", "10.5", "0.000000000000000001", "1" * 20])
def test_plain_decimals_parse_exactly(text: str) -> None:
    assert decimals.is_plain(text)
    assert decimals.parse(text) == Decimal(text)


def test_digits_and_places_are_bounded() -> None:
    assert not decimals.is_plain("1" * 21)
    assert not decimals.is_plain("0." + "1" * 19)
    assert decimals.is_plain("1" * 5, max_digits=5) and not decimals.is_plain("1" * 6, max_digits=5)


@pytest.mark.parametrize(("text", "expected"), [("42", True), ("4\n", False), ("\u0664", False)])
def test_integers(text: str, expected: bool) -> None:
    assert decimals.is_integer(text) is expected
