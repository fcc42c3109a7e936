"""The `retries` section of the policy file (pure): defaults, JSON Schema, parser.

    retries:
      max_attempts: 3              # attempts per call, the first one included
      per_attempt_timeout: 10s     # default: the sidecar's --request-timeout
      backoff: {base: 50ms, cap: 1s}
      retry_after_cap: 5s          # a longer Retry-After is returned to the caller instead
      min_attempt_time: 50ms       # no attempt starts with less of the deadline left
      retry_on: [429, 500, 502, 503, 504, connect, timeout, disconnect]
      budget: {ratio: 0.2, min_per_second: 10, window: 10s}
      methods:
        GetBalance: {max_attempts: 5, per_attempt_timeout: 2s}

Everything is optional; with no section at all the defaults below apply.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from sidecar.config_section import SectionError, schema_errors, thaw
from sidecar.duration import SCHEMA as DURATION
from sidecar.duration import parse_duration
from sidecar.methods import BY_RPC
from sidecar.policy import sections

CONDITIONS = ("429", "500", "502", "503", "504", "connect", "timeout", "disconnect")
DEFAULT_RETRY_ON = frozenset(CONDITIONS)


@dataclass(frozen=True, slots=True)
class RetryRule:
    """How one RPC is retried."""

    max_attempts: int = 3
    per_attempt_timeout: float | None = None  # None: the sidecar's --request-timeout
    backoff_base: float = 0.05
    backoff_cap: float = 1.0
    retry_after_cap: float = 5.0
    min_attempt_time: float = 0.05
    retry_on: frozenset[str] = DEFAULT_RETRY_ON


@dataclass(frozen=True, slots=True)
class BudgetRule:
    """Retries may add at most `ratio` of the requests plus `min_per_second` (Linkerd's shape)."""

    ratio: float = 0.2
    min_per_second: float = 10.0
    window: float = 10.0

    @property
    def floor(self) -> float:
        """Retries always allowed per window, whatever the traffic."""
        return self.min_per_second * self.window


@dataclass(frozen=True, slots=True)
class RetriesConfig:
    default: RetryRule = RetryRule()
    methods: Mapping[str, RetryRule] = field(default_factory=lambda: MappingProxyType({}))
    budget: BudgetRule = BudgetRule()

    def for_rpc(self, rpc: str) -> RetryRule:
        return self.methods.get(rpc, self.default)


_RULE_PROPERTIES: dict[str, Any] = {
    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
    "per_attempt_timeout": DURATION,
    "backoff": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"base": DURATION, "cap": DURATION},
    },
    "retry_after_cap": DURATION,
    "min_attempt_time": DURATION,
    "retry_on": {
        "type": "array",
        "uniqueItems": True,
        "items": {"enum": [*CONDITIONS, 429, 500, 502, 503, 504]},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **_RULE_PROPERTIES,
        "budget": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ratio": {"type": "number", "minimum": 0, "maximum": 10},
                "min_per_second": {"type": "number", "minimum": 0},
                "window": DURATION,
            },
        },
        "methods": {
            "type": "object",
            "propertyNames": {"enum": sorted(BY_RPC)},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": _RULE_PROPERTIES,
            },
        },
    },
}


@functools.cache
def _validator() -> Any:
    import jsonschema  # slow to import: only when a section is checked

    return jsonschema.Draft202012Validator(SCHEMA)


def problems(section: Any) -> list[SectionError]:
    """Every problem of a `retries` section (paths relative to the section), for `policy lint`."""
    if section is None:
        return []
    section = thaw(section)
    found = schema_errors("retries", _validator(), section)
    if not found:
        try:
            parse(section)
        except SectionError as exc:
            found.append(exc)
    return found


def _rule(raw: Mapping[str, Any], base: RetryRule, at: tuple[str, ...]) -> RetryRule:
    def duration(value: object, *path: str) -> float:
        try:
            return parse_duration(value, "")
        except ValueError as exc:
            raise SectionError("retries", (*at, *path), str(exc).lstrip(": ")) from None

    rule = base
    if "max_attempts" in raw:
        rule = replace(rule, max_attempts=int(raw["max_attempts"]))
    if "per_attempt_timeout" in raw:
        timeout = duration(raw["per_attempt_timeout"], "per_attempt_timeout")
        if timeout <= 0:
            raise SectionError("retries", (*at, "per_attempt_timeout"), "must be greater than 0")
        rule = replace(rule, per_attempt_timeout=timeout)
    backoff = raw.get("backoff") or {}
    if "base" in backoff:
        rule = replace(rule, backoff_base=duration(backoff["base"], "backoff", "base"))
    if "cap" in backoff:
        rule = replace(rule, backoff_cap=duration(backoff["cap"], "backoff", "cap"))
    if rule.backoff_cap < rule.backoff_base:
        raise SectionError("retries", (*at, "backoff"), "cap must not be below base")
    if "retry_after_cap" in raw:
        rule = replace(rule, retry_after_cap=duration(raw["retry_after_cap"], "retry_after_cap"))
    if "min_attempt_time" in raw:
        rule = replace(rule, min_attempt_time=duration(raw["min_attempt_time"], "min_attempt_time"))
    if "retry_on" in raw:
        rule = replace(rule, retry_on=frozenset(str(c) for c in raw["retry_on"]))
    return rule


def parse(section: Any) -> RetriesConfig:
    """The `retries` section as a RetriesConfig; SectionError (a ValueError) names the field."""
    if section is None:
        return RetriesConfig()
    section = thaw(section)
    errors = schema_errors("retries", _validator(), section)
    if errors:
        raise errors[0]
    default = _rule(section, RetryRule(), ())
    methods = {
        rpc: _rule(raw, default, ("methods", rpc))
        for rpc, raw in (section.get("methods") or {}).items()
    }
    raw_budget = section.get("budget") or {}
    defaults = BudgetRule()
    try:
        window = parse_duration(raw_budget.get("window", defaults.window), "")
    except ValueError as exc:
        raise SectionError("retries", ("budget", "window"), str(exc).lstrip(": ")) from None
    if window < 1:
        raise SectionError("retries", ("budget", "window"), "must be at least 1s")
    budget = BudgetRule(
        ratio=float(raw_budget.get("ratio", defaults.ratio)),
        min_per_second=float(raw_budget.get("min_per_second", defaults.min_per_second)),
        window=window,
    )
    return RetriesConfig(default, MappingProxyType(methods), budget)


sections.register(
    "retries",
    validate=problems,
    parse=parse,
    schema=SCHEMA,
    description="retry policy per RPC and the shared retry budget "
    "(docs/retries-and-idempotency.md)",
)
