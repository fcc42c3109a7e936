"""Caller identity: metadata names the caller, a key proves it; refusals never echo the key."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from sidecar.policy.identity import Identified, Refusal, identify, key_digest
from sidecar.policy.model import CallerRules, Identity, Mode, PolicySnapshot

KEY = "s3cret-payouts-key"
NEXT = "next-payouts-key"


def policy(required: bool, mode: Mode = Mode.ENFORCE) -> PolicySnapshot:
    return PolicySnapshot(
        mode=Mode.ENFORCE,
        identity=Identity(required=required, mode=mode),
        default=CallerRules("default"),
        callers=MappingProxyType(
            {"payouts": CallerRules("payouts", key_sha256=(key_digest(KEY), key_digest(NEXT)))}
        ),
        sections=MappingProxyType({}),
        hash="0" * 64,
        source="test",
    )


CALLER, KEY_HEADER = "x-cryptopay-caller", "x-cryptopay-caller-key"

CASES = [
    # (required, metadata, caller or refusal reason)
    (False, {}, "default"),
    (True, {}, "CALLER_REQUIRED"),
    (False, {CALLER: "payouts", KEY_HEADER: KEY}, "payouts"),
    (True, {CALLER: "payouts", KEY_HEADER: NEXT}, "payouts"),  # rotation: either key
    (False, {CALLER: "payouts"}, "CALLER_KEY_MISSING"),
    (False, {CALLER: "payouts", KEY_HEADER: "guess"}, "CALLER_KEY_INVALID"),
    (False, {CALLER: "payroll", KEY_HEADER: KEY}, "CALLER_UNKNOWN"),
    (True, {CALLER: "default", KEY_HEADER: KEY}, "CALLER_UNKNOWN"),
    (False, {CALLER: "  ", KEY_HEADER: KEY}, "default"),
]


@pytest.mark.parametrize(("required", "metadata", "expected"), CASES)
def test_identify(required: bool, metadata: dict[str, str], expected: str) -> None:
    result = identify(policy(required), metadata)
    if expected.isupper():
        assert isinstance(result, Refusal) and result.reason == expected
        assert KEY not in result.message and NEXT not in result.message
    else:
        assert result == Identified(expected)


def test_refusal_messages_say_what_to_send() -> None:
    result = identify(policy(True), {})
    assert isinstance(result, Refusal)
    assert CALLER in result.message and KEY_HEADER in result.message


def test_audit_mode_runs_refused_calls_as_the_default_caller() -> None:
    result = identify(policy(True, Mode.AUDIT), {CALLER: "payouts", KEY_HEADER: "guess"})
    assert isinstance(result, Identified) and result.caller == "default"
    assert result.audit is not None and result.audit.reason == "CALLER_KEY_INVALID"
    ok = identify(policy(True, Mode.AUDIT), {CALLER: "payouts", KEY_HEADER: KEY})
    assert ok == Identified("payouts")


def test_off_mode_ignores_identity() -> None:
    assert identify(policy(True, Mode.OFF), {CALLER: "x"}) == Identified("default")


def test_custom_header_names() -> None:
    snapshot = policy(True)
    custom = PolicySnapshot(
        **{**snapshot.__dict__, "identity": Identity(True, "x-service", "x-service-token")}
    )
    assert identify(custom, {"x-service": "payouts", "x-service-token": KEY}) == Identified(
        "payouts"
    )
    assert isinstance(identify(custom, {CALLER: "payouts", KEY_HEADER: KEY}), Refusal)


@pytest.mark.parametrize(
    "misplaced",
    [
        "k3y/with+base64=chars",  # a key sent in the caller-name header (swapped headers)
        "a" * 65,  # longer than any caller name
        "line\nbreak",
    ],
)
def test_an_unknown_caller_name_that_is_no_name_is_shown_as_a_fingerprint(misplaced: str) -> None:
    result = identify(policy(True), {CALLER: misplaced, KEY_HEADER: "payouts"})
    assert isinstance(result, Refusal) and result.reason == "CALLER_UNKNOWN"
    # The message is logged as the decision's reason and `caller` as its caller field.
    assert misplaced.strip() not in result.message and misplaced.strip() not in (
        result.caller or ""
    )
    assert result.caller is not None and result.caller.startswith("sha256:")
    assert "did you swap" in result.message


def test_an_unknown_caller_name_that_looks_like_a_name_is_shown_as_it_is() -> None:
    result = identify(policy(True), {CALLER: "payroll", KEY_HEADER: KEY})
    assert isinstance(result, Refusal) and result.caller == "payroll"
    assert "'payroll'" in result.message and "did you swap" not in result.message
