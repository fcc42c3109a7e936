"""The `rate_limits` section: the parser and the JSON Schema agree on a table of examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sidecar.config_section import SectionError
from sidecar.policy.lint import LintContext, lint
from sidecar.policy.loader import parse_text
from sidecar.ratelimit.config import (
    BucketConfig,
    Rate,
    RateLimitConfig,
    RateLimitConfigError,
    WhenEmpty,
    parse_rate,
    parse_rate_limits,
    problems,
)
from sidecar.ratelimit.schema import SCHEMA
from tests.helpers import REPO


@pytest.mark.parametrize(
    ("text", "count", "period", "normal"),
    [
        ("30/s", 30, 1, "30/s"),
        ("30 / sec", 30, 1, "30/s"),
        ("1000/min", 1000, 60, "1000/min"),
        ("1000/minutes", 1000, 60, "1000/min"),
        ("10/5s", 10, 5, "10/5s"),
        ("3/2days", 3, 172800, "3/2day"),
        ("5/hour", 5, 3600, "5/h"),
        ("100/day", 100, 86400, "100/day"),
        ("2/10min", 2, 600, "2/10min"),
    ],
)
def test_rates(text: str, count: int, period: int, normal: str) -> None:
    assert parse_rate(text) == Rate(count, period, normal)


@pytest.mark.parametrize(
    "text", ["30", "30/", "/s", "0/s", "30/0s", "1.5/s", "30/ms", "30/m", "x/s"]
)
def test_bad_rates(text: str) -> None:
    with pytest.raises(ValueError, match=r"rate|at least 1"):
        parse_rate(text)


FULL = """
replicas: 3
when_empty: refuse
max_wait: 2s
max_queue: 50
cooldown: 500ms
max_cooldown: 1m
redis_timeout: 50ms
app: {rate: 30/s, burst: 10}
callers:
  "*": 10/s
  billing: {rate: 20/s, burst: 5, when_empty: wait}
rpcs:
  CreateInvoice: {rate: 5/s}
  getStats: 1/s
costs: {GetStats: 1, createCheck: 2}
"""


def test_full_section() -> None:
    config = parse_rate_limits(yaml.safe_load(FULL))
    assert config == RateLimitConfig(
        app=BucketConfig(Rate(30, 1, "30/s"), 10),
        callers={
            "*": BucketConfig(Rate(10, 1, "10/s"), 10),
            "billing": BucketConfig(Rate(20, 1, "20/s"), 5, WhenEmpty.WAIT),
        },
        rpcs={
            "CreateInvoice": BucketConfig(Rate(5, 1, "5/s"), 5),
            "GetStats": BucketConfig(Rate(1, 1, "1/s"), 1),
        },
        costs={"GetStats": 1, "CreateCheck": 2},
        when_empty=WhenEmpty.REFUSE,
        max_wait=2.0,
        max_queue=50,
        replicas=3,
        replicas_set=True,
        cooldown=0.5,
        max_cooldown=60.0,
        redis_timeout=0.05,
    )
    jsonschema.validate(yaml.safe_load(FULL), SCHEMA)


def test_empty_section_keeps_only_the_upstream_cooldown() -> None:
    empty: list[Any] = [None, {}]
    for raw in empty:
        config = parse_rate_limits(raw)
        assert config == RateLimitConfig()
        assert config.app is None and config.cooldown == 1.0


VALID: list[Any] = [
    {"app": "30/s"},
    {"app": {"rate": "1000/min", "burst": 50.0}},
    {"callers": {"*": {"rate": "1/s", "when_empty": "refuse"}}},
    {"rpcs": {"transfer": "1/s"}, "costs": {"Transfer": 0}},
    {"max_wait": 0, "max_queue": 0, "cooldown": "0s"},
]

# (section, the path the parser names, a phrase of its message)
INVALID: list[tuple[Any, str, str]] = [
    ([], "rate_limits", "must be a mapping"),
    ({"apps": "30/s"}, "rate_limits.apps", "unknown key"),
    ({"app": "30 per second"}, "rate_limits.app.rate", "not a rate"),
    ({"app": {"burst": 3}}, "rate_limits.app.rate", "is required"),
    ({"app": {"rate": 30}}, "rate_limits.app.rate", "must be a string"),
    ({"app": {"rate": "30/s", "burst": 0}}, "rate_limits.app.burst", ">= 1"),
    ({"app": {"rate": "30/s", "burst": True}}, "rate_limits.app.burst", "integer"),
    ({"app": {"rate": "30/s", "bust": 3}}, "rate_limits.app.bust", "unknown key"),
    ({"app": {"rate": "3/s", "when_empty": "drop"}}, "rate_limits.app.when_empty", "'wait' or"),
    ({"callers": {"billing": "fast"}}, "rate_limits.callers.billing.rate", "not a rate"),
    ({"rpcs": {"CreateInvoices": "1/s"}}, "rate_limits.rpcs.CreateInvoices", "unknown RPC"),
    ({"costs": {"GetStats": -1}}, "rate_limits.costs.GetStats", ">= 0"),
    ({"costs": {"getStats": "2"}}, "rate_limits.costs.getStats", "integer"),
    ({"when_empty": "block"}, "rate_limits.when_empty", "'wait' or 'refuse'"),
    ({"max_wait": "soon"}, "rate_limits.max_wait", "expected a duration"),
    ({"max_wait": -1}, "rate_limits.max_wait", "cannot be negative"),
    ({"redis_timeout": 0}, "rate_limits.redis_timeout", "longer than 0"),
    ({"replicas": 0}, "rate_limits.replicas", ">= 1"),
    ({"max_queue": 1.5}, "rate_limits.max_queue", "integer"),
]


def where(problem: SectionError) -> str:
    return str(problem).split(": ", 1)[0]


@pytest.mark.parametrize("raw", VALID)
def test_valid_sections(raw: Any) -> None:
    parse_rate_limits(raw)
    assert problems(raw) == []
    jsonschema.validate(raw, SCHEMA)


@pytest.mark.parametrize(("raw", "path", "phrase"), INVALID)
def test_invalid_sections_name_the_path(raw: Any, path: str, phrase: str) -> None:
    with pytest.raises(RateLimitConfigError) as info:
        parse_rate_limits(raw)
    assert [where(p) for p in info.value.problems] == [path]
    assert phrase in info.value.problems[0].message
    assert str(info.value).startswith(path + ": ")
    assert [str(p) for p in problems(raw)] == [str(p) for p in info.value.problems]


# Shapes the schema refuses too (editors flag them as they are typed).
SHAPES: list[Any] = [
    [],
    {"apps": "30/s"},
    {"app": {"burst": 3}},
    {"app": {"rate": 30}},
    {"app": {"rate": "30/s", "burst": 0}},
    {"app": {"rate": "30/s", "bust": 3}},
    {"app": {"rate": "3/s", "when_empty": "drop"}},
    {"rpcs": {"CreateInvoices": "1/s"}},
    {"costs": {"GetStats": -1}},
    {"when_empty": "block"},
    {"max_wait": "soon"},
    {"redis_timeout": 0},
    {"replicas": 0},
    {"max_queue": 1.5},
]


@pytest.mark.parametrize("raw", SHAPES)
def test_the_schema_refuses_bad_shapes(raw: Any) -> None:
    with pytest.raises(RateLimitConfigError):
        parse_rate_limits(raw)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(raw, SCHEMA)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(RateLimitConfigError) as info:
        parse_rate_limits({"app": "fast", "replicas": 0, "callers": {"a": {"rate": "1/s", "x": 1}}})
    assert {where(p) for p in info.value.problems} == {
        "rate_limits.app.rate",
        "rate_limits.replicas",
        "rate_limits.callers.a.x",
    }


def test_a_cost_above_a_burst_is_refused() -> None:
    with pytest.raises(RateLimitConfigError) as info:
        parse_rate_limits({"app": {"rate": "10/s", "burst": 2}, "costs": {"GetStats": 3}})
    (problem,) = info.value.problems
    assert problem.path == ("costs", "GetStats")
    assert "exceeds the burst 2 of rate_limits.app" in problem.message


def test_the_cooldown_cannot_exceed_its_cap() -> None:
    with pytest.raises(RateLimitConfigError, match=r"rate_limits\.cooldown: must not exceed"):
        parse_rate_limits({"cooldown": "2m", "max_cooldown": "1m"})


def _yaml_blocks(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


@pytest.mark.parametrize("document", ["README.md", "docs/rate-limits.md"])
def test_the_documented_examples_are_valid(document: str) -> None:
    sections = [b["rate_limits"] for b in _yaml_blocks(REPO / document) if "rate_limits" in b]
    assert sections
    for section in sections:
        parse_rate_limits(section)
        jsonschema.validate(section, SCHEMA)


def test_policy_lint_reports_the_section_with_file_line_and_path() -> None:
    text = "version: 1\nrate_limits:\n  app: {rate: 10/s, burst: 2}\n  costs: {GetStats: 3}\n"
    found = lint(parse_text(text, "p.yaml"), LintContext(redis=True))
    assert [(p.mark.line if p.mark else 0, ".".join(map(str, p.path))) for p in found] == [
        (4, "rate_limits.costs.GetStats")
    ]
    assert "exceeds the burst 2" in found[0].message
