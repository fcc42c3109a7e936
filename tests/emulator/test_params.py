"""Parameter coercion and wire formats (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.emulator.errors import ApiError
from sidecar.emulator.formats import format_decimal, format_time, parse_time
from sidecar.emulator.params import Params, parse_json_object

from .conftest import DECIMAL, TIMESTAMP


def error_name(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 400
    return caught.value.name


@pytest.mark.parametrize(
    ("value", "text"),
    [("10", "10"), ("10.50", "10.5"), ("1E+2", "100"), ("0.000", "0"), ("1e-10", "0.0000000001")],
)
def test_format_decimal_is_plain(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text


@given(st.decimals(min_value=0, max_value=10**12, places=10, allow_nan=False))
def test_format_decimal_roundtrips(value: Decimal) -> None:
    text = format_decimal(value)
    assert DECIMAL.match(text)
    assert Decimal(text) == value


def test_times_have_milliseconds_and_z() -> None:
    moment = datetime(2024, 11, 12, 17, 11, 6, 375999, tzinfo=UTC)
    assert format_time(moment) == "2024-11-12T17:11:06.375Z"
    assert TIMESTAMP.match(format_time(datetime(2024, 1, 1)))  # naive means UTC
    assert parse_time("2024-06-01T00:00:00.000Z") == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse_time("2024-06-01T03:00:00+03:00") == datetime(2024, 6, 1, tzinfo=UTC)


def test_json_body_keeps_decimals_exact() -> None:
    assert parse_json_object(b'{"amount": 0.1}') == {"amount": Decimal("0.1")}
    assert parse_json_object(b"  ") == {}
    for bad in (b"[1]", b"{", b"\xff"):
        assert error_name(parse_json_object, bad) == "BAD_REQUEST"


def test_null_and_empty_count_as_absent() -> None:
    p = Params({"comment": None, "description": ""})
    assert p.text("comment") is None
    assert p.text("description") is None
    assert error_name(p.require_text, "comment") == "COMMENT_REQUIRED"


def test_text_accepts_numbers_and_limits_length() -> None:
    p = Params({"spend_id": 42, "payload": "x" * 5, "bad": ["x"], "flag": True})
    assert p.text("spend_id") == "42"
    assert p.text("payload", max_length=5) == "xxxxx"
    assert error_name(p.text, "payload", max_length=4) == "PAYLOAD_INVALID"
    assert error_name(p.text, "bad") == "BAD_INVALID"
    assert error_name(p.text, "flag") == "FLAG_INVALID"


@pytest.mark.parametrize(
    ("raw", "expected"), [(5, 5), ("5", 5), ("-3", -3), (Decimal("7"), 7), ("+2", 2)]
)
def test_integer_coercion(raw: object, expected: int) -> None:
    assert Params({"user_id": raw}).integer("user_id") == expected


@pytest.mark.parametrize("raw", ["5.5", "abc", True, Decimal("1.5"), [1], "٣"])
def test_integer_rejects_non_integers(raw: object) -> None:
    assert error_name(Params({"user_id": raw}).integer, "user_id") == "USER_ID_INVALID"


def test_integer_range_and_required() -> None:
    p = Params({"expires_in": "0"})
    assert error_name(p.integer, "expires_in", minimum=1) == "EXPIRES_IN_INVALID"
    assert error_name(Params({}).require_integer, "invoice_id") == "INVOICE_ID_REQUIRED"


@pytest.mark.parametrize("raw", ["10", "0.000001", 3, Decimal("125.50"), " 2 "])
def test_amount_accepts_positive_decimals(raw: object) -> None:
    assert Params({"amount": raw}).amount() > 0


@pytest.mark.parametrize(
    "raw", ["0", "-1", "abc", "NaN", "Infinity", "1_000", True, "1e30", "0." + "0" * 20 + "1", {}]
)
def test_amount_rejects_the_rest(raw: object) -> None:
    assert error_name(Params({"amount": raw}).amount) == "AMOUNT_INVALID"


def test_amount_is_required() -> None:
    assert error_name(Params({}).amount) == "AMOUNT_REQUIRED"


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("FALSE", False), (True, True)])
def test_boolean(raw: object, value: bool) -> None:
    assert Params({"allow_comments": raw}).boolean("allow_comments", not value) is value


def test_boolean_default_and_garbage() -> None:
    assert Params({}).boolean("allow_comments", True) is True
    p = Params({"allow_comments": "yes"})
    assert error_name(p.boolean, "allow_comments", True) == "ALLOW_COMMENTS_INVALID"


def test_lists_from_commas_or_json_arrays() -> None:
    assert Params({"invoice_ids": "1, 2,3"}).id_list("invoice_ids") == (1, 2, 3)
    assert Params({"invoice_ids": [4, "5"]}).id_list("invoice_ids") == (4, 5)
    assert Params({"invoice_ids": 9}).id_list("invoice_ids") == (9,)
    assert Params({"invoice_ids": "0,11111"}).id_list("invoice_ids") == (0, 11111)
    assert Params({"accepted_assets": "USDT,TON"}).code_list("accepted_assets") == ("USDT", "TON")
    assert Params({"accepted_assets": ["USDT"]}).code_list("accepted_assets") == ("USDT",)
    for bad in ("1,,2", "1,x", [1.5], "-1"):
        assert error_name(Params({"invoice_ids": bad}).id_list, "invoice_ids") == (
            "INVOICE_IDS_INVALID"
        )
    bad_codes = Params({"accepted_assets": [1]}).code_list
    assert error_name(bad_codes, "accepted_assets") == "ACCEPTED_ASSETS_INVALID"


def test_choice_and_timestamp() -> None:
    p = Params({"status": "done", "start_at": "yesterday"})
    assert error_name(p.choice, "status", {"active"}) == "STATUS_INVALID"
    assert error_name(p.timestamp, "start_at") == "START_AT_INVALID"
