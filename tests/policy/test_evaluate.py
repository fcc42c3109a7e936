"""Policy decisions, table-driven: every rule type in enforce, audit and off modes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from google.protobuf.message import Message

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.methods import BY_RPC
from sidecar.policy.build import caller_rules
from sidecar.policy.evaluate import cap_allows, cap_finding, evaluate, facts, host_matches
from sidecar.policy.model import Mode

FIAT = types.CURRENCY_TYPE_FIAT
VIEW = types.PAID_BUTTON_NAME_VIEW_ITEM


def invoice(**kw: Any) -> pb.CreateInvoiceRequest:
    return pb.CreateInvoiceRequest(**{"asset": "USDT", "amount": "10", **kw})


def transfer(**kw: Any) -> pb.TransferRequest:
    return pb.TransferRequest(
        **{"user_id": 7, "asset": "USDT", "amount": "10", "spend_id": "s", **kw}
    )


def check(**kw: Any) -> pb.CreateCheckRequest:
    return pb.CreateCheckRequest(**{"asset": "USDT", "amount": "10", **kw})


# (case, rules, rule expected to fail, fragment of its message, denied request, allowed request)
CASES: list[tuple[str, dict[str, Any], str, str, Message, Message]] = [
    (
        "rpcs-allow",
        {"rpcs": {"allow": ["GetMe"]}},
        "rpcs",
        "RPC Transfer is not allowed",
        transfer(),
        pb.GetMeRequest(),
    ),
    (
        "rpcs-deny",
        {"rpcs": {"deny": ["Transfer"]}},
        "rpcs",
        "RPC Transfer is denied",
        transfer(),
        pb.GetBalanceRequest(),
    ),
    (
        "assets-allow",
        {"assets": {"allow": ["USDT"]}},
        "assets",
        "asset TON is not allowed",
        invoice(asset="TON"),
        invoice(),
    ),
    (
        "assets-deny",
        {"assets": {"deny": ["TON"]}},
        "assets",
        "asset TON is denied",
        transfer(asset="TON"),
        transfer(),
    ),
    (
        "assets-lowercase",
        {"assets": {"allow": ["USDT"]}},
        "assets",
        "asset TON",
        check(asset="ton"),
        check(asset="usdt"),
    ),
    (
        "assets-swap-to",
        {"assets": {"allow": ["USDT"]}},
        "assets",
        "asset BTC",
        invoice(swap_to="BTC"),
        invoice(swap_to="USDT"),
    ),
    (
        "assets-accepted",
        {"assets": {"allow": ["USDT"]}},
        "assets",
        "asset TON",
        invoice(asset="", currency_type=FIAT, fiat="USD", accepted_assets=["USDT", "TON"]),
        invoice(asset="", currency_type=FIAT, fiat="USD", accepted_assets=["USDT"]),
    ),
    (
        "assets-any-accepted",
        {"assets": {"allow": ["USDT"]}},
        "assets",
        "set accepted_assets",
        invoice(asset="", currency_type=FIAT, fiat="USD"),
        invoice(asset="", currency_type=FIAT, fiat="USD", accepted_assets=["USDT"]),
    ),
    (
        "fiats-allow",
        {"fiats": {"allow": ["USD"]}},
        "fiats",
        "fiat EUR is not allowed",
        invoice(asset="", currency_type=FIAT, fiat="EUR"),
        invoice(asset="", currency_type=FIAT, fiat="USD"),
    ),
    (
        "amount-max",
        {"amounts": {"USDT": {"max": "100"}}},
        "amounts.USDT",
        "above the per-transaction maximum of 100",
        transfer(amount="100.000001"),
        transfer(amount="100"),
    ),
    (
        "amount-min",
        {"amounts": {"USDT": {"min": "1.5"}}},
        "amounts.USDT",
        "below the per-transaction minimum of 1.5",
        check(amount="1.49"),
        check(amount="1.50"),
    ),
    (
        "amount-fiat",
        {"amounts": {"EUR": {"max": "50"}}},
        "amounts.EUR",
        "51 EUR",
        invoice(asset="", currency_type=FIAT, fiat="EUR", amount="51"),
        invoice(asset="", currency_type=FIAT, fiat="EUR", amount="50"),
    ),
    (
        "expires-in-missing",
        {"invoices": {"max_expires_in": 600}},
        "invoices.max_expires_in",
        "expires_in is required",
        invoice(),
        invoice(expires_in=600),
    ),
    (
        "expires-in-above",
        {"invoices": {"max_expires_in": 600}},
        "invoices.max_expires_in",
        "expires_in 601 is above",
        invoice(expires_in=601),
        invoice(expires_in=1),
    ),
    (
        "paid-btn-host",
        {"invoices": {"paid_btn_url_hosts": ["shop.example.com"]}},
        "invoices.paid_btn_url_hosts",
        "points to evil.example",
        invoice(paid_btn_name=VIEW, paid_btn_url="https://evil.example/x"),
        invoice(paid_btn_name=VIEW, paid_btn_url="https://SHOP.example.com/thanks"),
    ),
    (
        "paid-btn-userinfo-trick",
        {"invoices": {"paid_btn_url_hosts": ["shop.example.com"]}},
        "invoices.paid_btn_url_hosts",
        "points to evil.example",
        invoice(paid_btn_name=VIEW, paid_btn_url="https://shop.example.com@evil.example/"),
        invoice(),
    ),
    (
        "paid-btn-wildcard",
        {"invoices": {"paid_btn_url_hosts": ["*.example.com"]}},
        "invoices.paid_btn_url_hosts",
        "points to example.com",
        invoice(paid_btn_name=VIEW, paid_btn_url="https://example.com/"),
        invoice(paid_btn_name=VIEW, paid_btn_url="https://pay.eu.example.com/"),
    ),
    (
        "payload",
        {"invoices": {"require_payload": True}},
        "invoices.require_payload",
        "payload is required",
        invoice(),
        invoice(payload="order-1"),
    ),
    (
        "recipients",
        {"transfers": {"recipients": [1, 2]}},
        "transfers.recipients",
        "user_id 7 is not an allowed",
        transfer(),
        transfer(user_id=2),
    ),
    (
        "comment",
        {"transfers": {"require_comment": True}},
        "transfers.require_comment",
        "comment is required",
        transfer(),
        transfer(comment="prize"),
    ),
    (
        "check-pin",
        {"checks": {"require_pin": True}},
        "checks.require_pin",
        "must be pinned",
        check(),
        check(pin_to_username="alice"),
    ),
]

IDS = [c[0] for c in CASES]


def decide(rules: dict[str, Any], request: Message, mode: Mode) -> Any:
    spec = BY_RPC[type(request).__name__.removesuffix("Request")]
    return evaluate(caller_rules("shop", rules, mode), facts(spec, request))


@pytest.mark.parametrize(
    ("rules", "rule", "fragment", "bad", "good"), [c[1:] for c in CASES], ids=IDS
)
def test_enforce_denies(
    rules: dict[str, Any], rule: str, fragment: str, bad: Message, good: Message
) -> None:
    result = decide(rules, bad, Mode.ENFORCE)
    assert result.denial is not None
    assert result.denial.rule == rule and fragment in result.denial.message
    assert "caller 'shop'" in result.denial.message
    assert decide(rules, good, Mode.ENFORCE).findings == ()


@pytest.mark.parametrize(
    ("rules", "rule", "fragment", "bad", "good"), [c[1:] for c in CASES], ids=IDS
)
def test_audit_reports_without_denying(
    rules: dict[str, Any], rule: str, fragment: str, bad: Message, good: Message
) -> None:
    result = decide(rules, bad, Mode.AUDIT)
    assert result.denial is None
    assert [(f.rule, f.mode) for f in result.audited] == [(rule, Mode.AUDIT)]
    assert fragment in result.audited[0].message
    assert decide(rules, good, Mode.AUDIT).findings == ()


@pytest.mark.parametrize(
    ("rules", "rule", "fragment", "bad", "good"), [c[1:] for c in CASES], ids=IDS
)
def test_off_skips_the_rule(
    rules: dict[str, Any], rule: str, fragment: str, bad: Message, good: Message
) -> None:
    result = decide(rules, bad, Mode.OFF)
    assert result.findings == () and result.results == ()


def test_a_rule_mode_overrides_its_caller_and_policy() -> None:
    rules = {
        "mode": "audit",
        "rpcs": {"allow": ["Transfer"], "mode": "enforce"},
        "amounts": {"USDT": {"max": "1"}},
        "transfers": {"require_comment": True, "mode": "off"},
    }
    result = decide(rules, transfer(amount="5"), Mode.ENFORCE)
    assert result.denial is None
    assert [f.rule for f in result.audited] == ["amounts.USDT"]
    assert decide(rules, pb.GetMeRequest(), Mode.OFF).denial is not None  # rpcs: enforce


def test_deny_wins_over_allow_and_enforce_wins_over_audit() -> None:
    rules = {
        "rpcs": {"allow": ["Transfer"], "deny": ["Transfer"]},
        "amounts": {"USDT": {"max": "1", "mode": "audit"}},
    }
    result = decide(rules, transfer(amount="5"), Mode.ENFORCE)
    assert result.denial is not None and result.denial.rule == "rpcs"
    assert [f.rule for f in result.audited] == ["amounts.USDT"]


def test_reads_are_not_checked_against_money_rules() -> None:
    rules = {"assets": {"allow": ["USDT"]}, "amounts": {"TON": {"max": "1"}}}
    assert decide(rules, pb.GetInvoicesRequest(asset="TON"), Mode.ENFORCE).findings == ()


def test_empty_rules_allow_everything() -> None:
    for request in (transfer(), invoice(), check(), pb.GetStatsRequest()):
        assert decide({}, request, Mode.ENFORCE).results == ()


SPEND = {
    "spend_caps": [
        {"asset": "USDT", "max": "100", "window": "rolling_24h"},
        {
            "asset": "USDT",
            "max": "50",
            "window": "calendar_day",
            "rpcs": ["Transfer"],
            "mode": "audit",
        },
        {"asset": "TON", "max": "5", "window": "rolling_1h"},
        {"asset": "USDT", "max": "1", "window": "rolling_2d", "mode": "off"},
    ]
}


@pytest.mark.parametrize(
    ("request_", "caps"),
    [
        (transfer(), [0, 1]),
        (check(), [0]),
        (check(asset="ton"), [2]),
        (invoice(), []),  # invoices bring money in
        (pb.GetBalanceRequest(), []),
    ],
    ids=["transfer", "check", "check-ton", "invoice", "read"],
)
def test_which_spend_caps_a_request_counts_against(request_: Message, caps: list[int]) -> None:
    result = decide(SPEND, request_, Mode.ENFORCE)
    assert [c.index for c in result.caps] == caps
    assert all(c.mode is not Mode.OFF for c in result.caps)


@pytest.mark.parametrize(
    ("cap", "used", "amount", "allowed"),
    [
        ("100", "0", "100", True),
        ("100", "99.999999999999999999", "0.000000000000000001", True),
        ("100", "99.999999999999999999", "0.000000000000000002", False),
        ("100", "100", "0.000000000000000001", False),
        ("0.3", "0.1", "0.2", True),  # exact decimals: 0.1 + 0.2 == 0.3
    ],
)
def test_cap_arithmetic_is_exact(cap: str, used: str, amount: str, allowed: bool) -> None:
    assert cap_allows(Decimal(cap), Decimal(used), Decimal(amount)) is allowed


def test_cap_message_says_how_much_is_left() -> None:
    rules = caller_rules("payouts", SPEND, Mode.ENFORCE)
    finding = cap_finding(
        rules.spend_caps[0], "payouts", "Transfer", Decimal("30"), Decimal("80.50")
    )
    assert finding.rule == "spend_caps[0]"
    assert finding.message == (
        "Transfer of 30 USDT would exceed the spend cap of caller 'payouts', 100 USDT per "
        "rolling_24h (already spent or reserved: 80.5; left: 19.5)"
    )


@pytest.mark.parametrize(
    ("host", "pattern", "matches"),
    [
        ("shop.example.com", "shop.example.com", True),
        ("a.shop.example.com", "shop.example.com", False),
        ("a.example.com", "*.example.com", True),
        ("a.b.example.com", "*.example.com", True),
        ("example.com", "*.example.com", False),
        ("evilexample.com", "*.example.com", False),
    ],
)
def test_host_patterns(host: str, pattern: str, matches: bool) -> None:
    assert host_matches(host, pattern) is matches
