"""The pure webhook checks: signature, content type, shape, freshness, dedupe keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.signature import sign
from sidecar.webhooks.dedupe import dedupe_key
from sidecar.webhooks.verify import (
    Freshness,
    Reason,
    Refused,
    Update,
    check_content_type,
    check_freshness,
    evaluate,
    parse_update,
)
from tests.helpers import fixture_path

TOKEN = "1234:" + "A" * 35
NOW = datetime(2025, 8, 23, 9, 36, 32, tzinfo=UTC)
WINDOW = Freshness(max_age=timedelta(hours=24), max_future=timedelta(minutes=5))


def body(**overrides: object) -> bytes:
    update: dict[str, object] = {
        "update_id": 1,
        "update_type": "invoice_paid",
        "request_date": "2025-08-23T09:36:31.714Z",
        "payload": {"invoice_id": 7, "asset": "USDT", "status": "paid"},
    }
    update.update(overrides)
    return json.dumps(update).encode()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ('application/json; charset="utf-8"', True),
        ("application/json;charset=utf8", True),
        ("application/json; charset=latin-1", False),
        ("text/plain", False),
        ("application/jsonp", False),
        ("", False),
        (None, False),
    ],
)
def test_content_type(value: str | None, ok: bool) -> None:
    assert (check_content_type(value) is None) is ok


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * 100_000, "not valid JSON"),
        (b"[]", "JSON object"),
        (body(update_type=""), "update_type"),
        (body(update_type="a b"), "update_type"),
        (body(update_type=5), "update_type"),
        (body(update_id="1"), "update_id"),
        (body(update_id=1.5), "update_id"),
        (body(update_id=True), "update_id"),
        (body(request_date="yesterday"), "request_date"),
        (body(request_date=1724400000), "request_date"),
        (body(payload=[]), "payload"),
        (body(payload={"invoice_id": "7"}), "invoice_id"),
        (body(payload={"invoice_id": 0}), "invoice_id"),
        (body(payload={"invoice_id": True}), "invoice_id"),
    ],
)
def test_malformed_updates(raw: bytes, detail: str) -> None:
    refused = parse_update(raw)
    assert isinstance(refused, Refused) and refused.reason is Reason.MALFORMED_UPDATE
    assert detail in refused.detail


def _text(**overrides: object) -> str:
    return json.dumps(json.loads(body(**overrides)), ensure_ascii=False)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (_text().encode("utf-16"), "UTF-8"),  # with its BOM
        (_text().encode("utf-16-le"), "not valid JSON"),  # NULs between the characters
        (_text().encode("utf-16-be"), "not valid JSON"),
        (_text().encode("utf-32"), "UTF-8"),
        (b"\xef\xbb\xbf" + body(), "UTF-8"),
        (_text(payload={"invoice_id": 7, "description": "caf\u00e9"}).encode("latin-1"), "UTF-8"),
        (_text(payload={"invoice_id": 7, "description": "€"}).encode("cp1252"), "UTF-8"),
    ],
    ids=["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-bom", "latin-1", "cp1252"],
)
def test_only_utf8_json_is_accepted(raw: bytes, detail: str) -> None:
    """RFC 8259: JSON exchanged between systems is UTF-8, without a BOM; Crypto Pay sends that."""
    refused = parse_update(raw)
    assert isinstance(refused, Refused) and refused.reason is Reason.MALFORMED_UPDATE
    assert detail in refused.detail
    refused = evaluate(raw, sign(TOKEN, raw), "application/json", [TOKEN], NOW, WINDOW)
    assert isinstance(refused, Refused) and refused.reason is Reason.MALFORMED_UPDATE


def test_utf8_beyond_ascii_is_accepted() -> None:
    raw = _text(payload={"invoice_id": 7, "description": "Оплата ₽ 🙂"}).encode()
    update = evaluate(raw, sign(TOKEN, raw), "application/json;charset=utf-8", [TOKEN], NOW, WINDOW)
    assert isinstance(update, Update) and update.payload["description"] == "Оплата ₽ 🙂"


@pytest.mark.parametrize(
    "name",
    ["webhook-invoice-paid.fiat.json", "shared:webhook-update-invoice-paid.fiat.real-mainnet.json"],
)
def test_real_update_parses(name: str) -> None:
    raw = fixture_path(name).read_bytes()
    payload = json.loads(raw)["payload"]
    update = parse_update(raw)
    assert isinstance(update, Update)
    assert update.update_type == "invoice_paid" and update.invoice_id == payload["invoice_id"]
    assert update.asset == payload["paid_asset"] != payload["fiat"]  # a fiat invoice: paid asset
    assert update.request_date.tzinfo is not None


def test_unknown_update_types_without_an_invoice_are_accepted() -> None:
    update = parse_update(body(update_type="check_activated", payload={"check_id": 3}))
    assert isinstance(update, Update) and update.invoice_id is None
    key = dedupe_key(update)
    assert key.startswith("check_activated:payload:")
    # The key ignores the envelope (request_date, update_id) but not the payload.
    again = parse_update(
        body(
            update_type="check_activated",
            update_id=99,
            request_date="2025-08-23T10:00:00.000Z",
            payload={"check_id": 3},
        )
    )
    other = parse_update(body(update_type="check_activated", payload={"check_id": 4}))
    assert isinstance(again, Update) and isinstance(other, Update)
    assert dedupe_key(again) == key != dedupe_key(other)


def test_dedupe_key_is_update_type_and_invoice_id() -> None:
    update = parse_update(body(update_id=12345))
    assert isinstance(update, Update) and dedupe_key(update) == "invoice_paid:7"


@pytest.mark.parametrize(
    ("age", "reason"),
    [
        (timedelta(0), None),
        (timedelta(hours=23, minutes=59), None),
        (timedelta(hours=24, seconds=1), Reason.STALE_REQUEST_DATE),
        (-timedelta(minutes=4), None),
        (-timedelta(minutes=6), Reason.FUTURE_REQUEST_DATE),
    ],
)
def test_freshness(age: timedelta, reason: Reason | None) -> None:
    refused = check_freshness(NOW - age, NOW, WINDOW)
    assert (refused.reason if refused else None) is reason


def test_signature_is_checked_before_anything_is_parsed() -> None:
    garbage = b"not json at all"
    refused = evaluate(garbage, sign("9:" + "B" * 35, garbage), "text/plain", [TOKEN], NOW, WINDOW)
    assert isinstance(refused, Refused) and refused.reason is Reason.BAD_SIGNATURE
    ok = body()
    assert isinstance(
        evaluate(ok, sign(TOKEN, ok), "application/json", [TOKEN], NOW, WINDOW), Update
    )
    previous = "5:" + "C" * 35
    rotated = evaluate(ok, sign(previous, ok), "application/json", [TOKEN, previous], NOW, WINDOW)
    assert isinstance(rotated, Update)


@settings(max_examples=100, deadline=None)
@given(
    raw=st.one_of(st.binary(max_size=300), st.builds(body)),
    signature=st.one_of(st.none(), st.text(max_size=80), st.just("a" * 64)),
    content_type=st.one_of(st.none(), st.text(max_size=40), st.just("application/json")),
)
def test_nothing_unsigned_is_ever_accepted(
    raw: bytes, signature: str | None, content_type: str | None
) -> None:
    verdict = evaluate(raw, signature, content_type, [TOKEN], NOW, WINDOW)
    assert isinstance(verdict, Refused) and verdict.reason is Reason.BAD_SIGNATURE


@settings(max_examples=100, deadline=None)
@given(
    update=st.dictionaries(
        st.sampled_from(["update_id", "update_type", "request_date", "payload", "x"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["invoice_id", "asset", "y"]), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_signed_arbitrary_json_is_accepted_or_refused_never_crashes(
    update: dict[str, object],
) -> None:
    raw = json.dumps(update).encode()
    verdict = evaluate(raw, sign(TOKEN, raw), "application/json", [TOKEN], NOW, WINDOW)
    if isinstance(verdict, Update):
        assert verdict.update_type and (
            verdict.update_type != "invoice_paid" or (verdict.invoice_id or 0) > 0
        )
    else:
        assert verdict.reason in (
            Reason.MALFORMED_UPDATE,
            Reason.STALE_REQUEST_DATE,
            Reason.FUTURE_REQUEST_DATE,
        )
