"""The `retries` and `idempotency` policy sections: defaults, parsing, precise errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sidecar.duration import parse_duration
from sidecar.idempotency import settings as idem
from sidecar.retry import settings as retries


def test_defaults_without_a_section() -> None:
    config = retries.parse(None)
    assert config.for_rpc("GetMe").max_attempts == 3
    assert config.budget.ratio == 0.2 and config.budget.floor == 100
    assert idem.parse(None).ttl == 24 * 3600
    assert idem.parse(None).require_key == frozenset()


def test_methods_override_the_defaults() -> None:
    config = retries.parse(
        {
            "max_attempts": 4,
            "backoff": {"base": "20ms", "cap": "2s"},
            "retry_on": [503, "connect"],
            "budget": {"ratio": 0.1, "min_per_second": 1, "window": "30s"},
            "methods": {"GetBalance": {"per_attempt_timeout": "250ms"}},
        }
    )
    balance = config.for_rpc("GetBalance")
    assert balance.max_attempts == 4 and balance.per_attempt_timeout == 0.25
    assert balance.backoff_base == 0.02 and balance.backoff_cap == 2.0
    assert balance.retry_on == frozenset({"503", "connect"})
    assert config.for_rpc("GetMe").per_attempt_timeout is None
    assert config.budget.floor == 30


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"max_attempts": 0}, "retries.max_attempts"),
        ({"retry_on": [404]}, "retries.retry_on[0]"),
        ({"backoff": {"base": "1s", "cap": "10ms"}}, "cap must not be below base"),
        ({"methods": {"Nope": {}}}, "retries.methods"),
        ({"per_attempt_timeout": "soon"}, "retries.per_attempt_timeout"),
        ({"budget": {"window": "0s"}}, "retries.budget.window"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_retries_problems_name_the_field(section: dict[str, Any], message: str) -> None:
    found = retries.problems(section)
    assert found and message in str(found[0])
    with pytest.raises(ValueError, match=re.escape(message.split(".")[-1])):
        retries.parse(section)


def test_idempotency_section() -> None:
    config = idem.parse({"ttl": "1h", "require_key": ["Transfer", "CreateCheck"]})
    assert config.ttl == 3600 and config.require_key == {"Transfer", "CreateCheck"}
    assert idem.parse({"require_key": "mutating"}).require_key == idem.MUTATING
    assert "GetMe" not in idem.MUTATING and "DeleteCheck" in idem.MUTATING


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"require_key": ["GetMe"]}, "idempotency.require_key"),
        ({"ttl": "0s"}, "idempotency.ttl"),
        ({"lease": -1}, "idempotency.lease"),
    ],
)
def test_idempotency_problems(section: dict[str, Any], message: str) -> None:
    assert message in str(idem.problems(section)[0])
    with pytest.raises(ValueError, match=message):
        idem.parse(section)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(1, 1.0), (0.5, 0.5), ("250ms", 0.25), ("2s", 2.0), ("5m", 300.0), ("24h", 86400.0),
     ("1d", 86400.0)],
)  # fmt: skip
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value, "x") == seconds


@pytest.mark.parametrize("value", ["", "5", "5 years", -1, True, None])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError, match="x:"):
        parse_duration(value, "x")


def test_frozen_sections_from_the_policy_snapshot_parse() -> None:
    from types import MappingProxyType

    frozen = MappingProxyType(
        {
            "retry_on": ("connect", 503),
            "methods": MappingProxyType({"GetMe": MappingProxyType({"max_attempts": 2})}),
        }
    )
    config = retries.parse(frozen)
    assert config.for_rpc("GetMe").max_attempts == 2
    assert config.default.retry_on == {"connect", "503"}
    assert retries.problems(frozen) == []
    assert idem.parse(MappingProxyType({"require_key": ("Transfer",)})).require_key == {"Transfer"}


def test_problems_carry_paths_relative_to_the_section() -> None:
    [problem] = retries.problems({"methods": {"GetMe": {"backoff": {"base": "2s", "cap": "1s"}}}})
    assert problem.path == ("methods", "GetMe", "backoff")
    assert problem.message == "cap must not be below base"
    [problem] = idem.problems({"require_key": ["GetMe"]})
    assert problem.path[0] == "require_key" and "mutating" in problem.message
