"""The `cache` policy section: defaults, durations, merging, and errors an operator can act on."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import jsonschema
import pytest

from sidecar.cache.config import (
    CACHEABLE,
    DEFAULT_RULES,
    SCHEMA,
    CacheConfig,
    CacheConfigError,
    MethodRule,
    lint,
    parse_cache_config,
    parse_duration,
    problems,
)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (1.5, 1.5),
        ("500ms", 0.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        (" 2.5m ", 150.0),
    ],
)
def test_durations(value: float | str, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["-1", "30", "1w", "soon", "", "1 hour", True, -3, None])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(CacheConfigError):
        parse_duration(value)


@pytest.mark.parametrize("raw", [None, {}])
def test_no_section_gives_the_defaults(raw: Any) -> None:
    config = parse_cache_config(raw)
    assert config == CacheConfig()
    assert set(config.methods) == set(CACHEABLE)
    assert config.rule("GetExchangeRates") == MethodRule(60.0, 30.0, 300.0, 5.0)
    assert config.rule("GetMe") == MethodRule(3600.0, 600.0, 86400.0)
    assert config.rule("GetBalance") is None and config.rule("CreateInvoice") is None


def test_method_settings_merge_over_defaults() -> None:
    config = parse_cache_config(
        {
            "lock_ttl": "3s",
            "failure_cooldown": 0,
            "allow_bypass": False,
            "key_prefix": "team-a:cache",
            "methods": {
                "GetExchangeRates": {"ttl": "10s", "max_stale": "1m"},
                "GetMe": {"enabled": False},
                "GetCurrencies": {"ttl": 0},
            },
        }
    )
    assert config.rule("GetExchangeRates") == MethodRule(10.0, 30.0, 60.0, 5.0)
    assert config.rule("GetMe") is None and config.rule("GetCurrencies") is None
    assert (config.lock_ttl, config.failure_cooldown, config.allow_bypass) == (3.0, 0.0, False)
    assert config.key_prefix == "team-a:cache"


def test_a_long_ttl_stretches_the_default_max_stale() -> None:
    rule = parse_cache_config({"methods": {"GetExchangeRates": {"ttl": "10m"}}}).rule(
        "GetExchangeRates"
    )
    assert rule is not None and rule.max_stale == 600.0 + 30.0


def test_invalid_ttl_never_exceeds_ttl() -> None:
    rule = parse_cache_config({"methods": {"GetExchangeRates": {"ttl": 2}}}).rule(
        "GetExchangeRates"
    )
    assert rule is not None and rule.invalid_ttl == 2.0


def test_disabled_cache() -> None:
    assert parse_cache_config({"enabled": False}).rule("GetExchangeRates") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"methods": {"CreateInvoice": {"ttl": "1m"}}}, "CreateInvoice changes money or state"),
        ({"methods": {"Transfer": {"ttl": "1m"}}}, "Transfer changes money or state"),
        ({"methods": {"GetBalance": {"ttl": "1s"}}}, "GetBalance reads the app's money"),
        ({"methods": {"GetInvoices": {}}}, "GetInvoices reads the app's money"),
        ({"methods": {"GetRates": {"ttl": "1m"}}}, "cache.methods: unknown method 'GetRates'"),
        ({"methods": {"GetMe": {"ttl": "soon"}}}, "cache.methods.GetMe.ttl: seconds, or"),
        ({"methods": {"GetMe": {"tll": "1m"}}}, "'tll' was unexpected"),
        ({"ttl": "1m"}, "cache: Additional properties are not allowed ('ttl'"),
        ({"enabled": "yes"}, "cache.enabled: 'yes' is not of type 'boolean'"),
        ({"key_prefix": "a b"}, "cache.key_prefix"),
        ({"lock_ttl": 0}, "cache.lock_ttl: must be greater than 0"),
        (
            {"methods": {"GetMe": {"ttl": "1h", "stale_while_revalidate": "1h", "max_stale": 60}}},
            "cache.methods.GetMe.max_stale: must be at least ttl + stale_while_revalidate (7200s)",
        ),
        ([1, 2], "cache: [1, 2] is not of type 'object'"),
    ],
)
def test_errors_name_the_setting(raw: Any, message: str) -> None:
    with pytest.raises(CacheConfigError) as info:
        parse_cache_config(raw)
    assert message in str(info.value)
    assert any(message in error for error in lint(raw))


def test_turning_off_a_non_cacheable_method_is_allowed() -> None:
    assert lint({"methods": {"GetBalance": {"enabled": False}, "GetStats": {"ttl": "0ms"}}}) == []


def test_problems_carry_paths_relative_to_the_section() -> None:
    [problem] = problems({"methods": {"GetMe": {"ttl": "x"}, "Transfer": {}}})
    assert (problem.section, problem.path) == ("cache", ("methods", "GetMe", "ttl"))
    assert problem.message == "seconds, or a string such as 500ms, 30s, 5m, 1h, 1d, got 'x'"
    assert [p.path for p in problems({"methods": {"Transfer": {}}})] == [("methods", "Transfer")]


def test_a_frozen_section_from_a_policy_snapshot() -> None:
    frozen = MappingProxyType(
        {"methods": MappingProxyType({"GetMe": MappingProxyType({"ttl": "5s"})})}
    )
    rule = parse_cache_config(frozen).rule("GetMe")
    assert rule is not None and rule.ttl == 5.0


def test_schema_is_valid_and_accepts_the_documented_example() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    example = {
        "enabled": True,
        "lock_ttl": "10s",
        "failure_cooldown": "2s",
        "allow_bypass": True,
        "key_prefix": "cryptopay:cache",
        "methods": {
            "GetExchangeRates": {
                "ttl": "1m",
                "stale_while_revalidate": "30s",
                "max_stale": "5m",
                "invalid_ttl": "5s",
            },
            "GetCurrencies": {"ttl": "1h"},
            "GetMe": {"enabled": False},
        },
    }
    jsonschema.validate(example, SCHEMA)
    assert parse_cache_config(example).rule("GetMe") is None


def test_defaults_cover_exactly_the_cacheable_methods() -> None:
    assert set(DEFAULT_RULES) == set(CACHEABLE)
