"""The cache's pure decisions: freshness, what a caller without the lease does, cache-control."""

from __future__ import annotations

import grpc
import pytest

from sidecar.cache.config import MethodRule
from sidecar.cache.freshness import (
    CacheControl,
    Contention,
    Freshness,
    Next,
    StaleReason,
    after_contention,
    classify,
    effective_rule,
    has_invalid_rates,
    parse_cache_control,
    stale_on_error,
    stale_reason,
)
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types

RULE = MethodRule(ttl=60, stale_while_revalidate=30, max_stale=300, invalid_ttl=5)
F, R, S, U = Freshness.FRESH, Freshness.REVALIDATE, Freshness.STALE, Freshness.UNUSABLE


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (None, U),
        (-2.0, F),  # the store clock stepped back
        (0.0, F),
        (59.999, F),
        (60.0, R),
        (89.9, R),
        (90.0, S),
        (299.9, S),
        (300.0, U),
        (10_000.0, U),
    ],
)
def test_classify(age: float | None, expected: Freshness) -> None:
    assert classify(age, RULE) is expected


def test_no_window_goes_straight_to_stale() -> None:
    rule = MethodRule(ttl=10, stale_while_revalidate=0, max_stale=20)
    assert [classify(a, rule) for a in (9, 10, 19, 20)] == [F, S, S, U]


@pytest.mark.parametrize(
    ("degraded", "max_age", "expected"),
    [
        (False, None, RULE),
        (True, None, MethodRule(5, 30, 300, 5)),
        (False, 20.0, MethodRule(20, 0, 20, 5)),
        (False, 120.0, MethodRule(60, 0, 120, 5)),
        (True, 20.0, MethodRule(5, 0, 20, 5)),
    ],
)
def test_effective_rule(degraded: bool, max_age: float | None, expected: MethodRule) -> None:
    assert effective_rule(RULE, degraded=degraded, max_age=max_age) == expected


def test_max_age_makes_older_answers_unusable_even_as_fallback() -> None:
    rule = effective_rule(RULE, max_age=20)
    assert classify(19, rule) is F and classify(20, rule) is U and classify(100, rule) is U


H, C, X = Contention.HELD, Contention.COOLDOWN, Contention.CHANGED


@pytest.mark.parametrize(
    ("freshness", "contention", "can_wait", "can_fetch", "expected"),
    [
        # A newer answer arrived: look again, whatever else holds.
        (S, X, True, True, Next.LOOK_AGAIN),
        (U, X, False, False, Next.LOOK_AGAIN),
        # Within the window, callers never wait for the refresh.
        (R, H, True, True, Next.SERVE_STALE),
        (R, C, True, True, Next.SERVE_STALE),
        # Past it, they wait for the one refreshing, while time allows...
        (S, H, True, True, Next.WAIT),
        (U, H, True, True, Next.WAIT),
        # ...then serve the previous answer, or fetch, or give up.
        (S, H, False, True, Next.SERVE_STALE),
        (U, H, False, True, Next.FETCH_ALONE),
        (U, H, False, False, Next.GIVE_UP),
        # A refresh failed moments ago: do not hammer the upstream when there is a fallback.
        (S, C, True, True, Next.SERVE_STALE),
        (U, C, True, True, Next.FETCH_ALONE),
        (U, C, True, False, Next.GIVE_UP),
    ],
)
def test_after_contention(
    freshness: Freshness, contention: Contention, can_wait: bool, can_fetch: bool, expected: Next
) -> None:
    assert after_contention(freshness, contention, can_wait, can_fetch) is expected


@pytest.mark.parametrize(
    ("freshness", "contention", "reason"),
    [
        (R, H, StaleReason.REVALIDATING),
        (R, C, StaleReason.UPSTREAM_ERROR),
        (S, C, StaleReason.UPSTREAM_ERROR),
        (S, H, StaleReason.TIMEOUT),
    ],
)
def test_stale_reason(freshness: Freshness, contention: Contention, reason: StaleReason) -> None:
    assert stale_reason(freshness, contention) is reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, CacheControl()),
        ("", CacheControl()),
        ("no-cache", CacheControl(no_cache=True)),
        ("No-Cache", CacheControl(no_cache=True)),
        ("no-store", CacheControl(no_store=True)),
        ("max-age=30", CacheControl(max_age=30.0)),
        ('max-age="30", max-age=10', CacheControl(max_age=10.0)),
        ("max-age=0", CacheControl(no_cache=True, max_age=0.0)),
        ("max-age=soon", CacheControl(no_cache=True)),
        ("private, no-transform", CacheControl()),
        ("no-cache, no-store", CacheControl(no_cache=True, no_store=True)),
    ],
)
def test_parse_cache_control(value: str | None, expected: CacheControl) -> None:
    assert parse_cache_control(value) == expected


def test_bypass() -> None:
    assert parse_cache_control("no-store").bypass and parse_cache_control("no-cache").bypass
    assert not parse_cache_control("max-age=5").bypass


@pytest.mark.parametrize(
    ("code", "stale"),
    [
        (grpc.StatusCode.UNAVAILABLE, True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, True),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, True),
        (grpc.StatusCode.INTERNAL, True),
        (grpc.StatusCode.FAILED_PRECONDITION, False),  # the token is wrong: say so
        (grpc.StatusCode.PERMISSION_DENIED, False),
        (grpc.StatusCode.INVALID_ARGUMENT, False),
    ],
)
def test_stale_on_error(code: grpc.StatusCode, stale: bool) -> None:
    assert stale_on_error(code) is stale


def test_has_invalid_rates() -> None:
    valid = types.ExchangeRate(is_valid=True, source="TON", target="USD", rate="5")
    invalid = types.ExchangeRate(is_valid=False, source="BTC", target="USD", rate="1")
    assert not has_invalid_rates(pb.GetExchangeRatesResponse(items=[valid]))
    assert has_invalid_rates(pb.GetExchangeRatesResponse(items=[valid, invalid]))
    assert not has_invalid_rates(pb.GetCurrenciesResponse(items=[types.Currency(code="TON")]))
    assert not has_invalid_rates(pb.GetMeResponse(app=types.App(app_id=1)))
