"""Fault injection rules: which request misbehaves, and how.

Decisions are pure given the rule's own seeded ``random.Random``, so a seeded run fires on the
same requests every time, independently of traffic to other rules.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from .errors import ApiError


class FaultKind(StrEnum):
    STATUS = "status"  # answer an error without performing the operation
    LATENCY = "latency"  # delay, then process normally
    DROP = "drop"  # close the connection without an answer; nothing performed
    COMMIT_THEN_FAIL = "commit_then_fail"  # perform the operation, then error or drop


Then = Literal["status", "drop"]

_DEFAULT_NAMES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "APP_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def default_error_name(status: int) -> str:
    return _DEFAULT_NAMES.get(status, "APP_ERROR")


@dataclass(slots=True)
class FaultRule:
    rule_id: int
    method: str  # an API method name or "*"
    kind: FaultKind
    status: int = 500
    name: str | None = None
    retry_after: float | None = None
    latency_ms: int = 0
    then: Then = "status"
    remaining: int | None = None  # None: unlimited
    probability: float | None = None  # None: every matching request
    seed: int | None = None
    token: str | None = None  # only requests carrying this token; None: every request
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def error_name(self) -> str:
        return self.name or default_error_name(self.status)

    def matches(self, method: str, token: str | None = None) -> bool:
        return (
            self.method in ("*", method)
            and self.remaining != 0
            and (self.token is None or self.token == token)
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.rule_id,
            "method": self.method,
            "kind": self.kind.value,
            "fired": self.fired,
            "remaining": self.remaining,
        }
        if self.kind in (FaultKind.STATUS, FaultKind.COMMIT_THEN_FAIL):
            out["status"] = self.status
            out["name"] = self.error_name
        if self.kind is FaultKind.COMMIT_THEN_FAIL:
            out["then"] = self.then
        if self.kind is FaultKind.LATENCY:
            out["latency_ms"] = self.latency_ms
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        if self.probability is not None:
            out["probability"] = self.probability
        if self.seed is not None:
            out["seed"] = self.seed
        if self.token is not None:
            out["app_scoped"] = True
        return out


def should_fire(rule: FaultRule, method: str, rng: random.Random, token: str | None = None) -> bool:
    """Whether ``rule`` fires for one request. Draws from ``rng`` only on a match."""
    if not rule.matches(method, token):
        return False
    return rule.probability is None or rng.random() < rule.probability


def parse_rule(
    body: Mapping[str, object],
    rule_id: int,
    global_seed: int | None,
    token: str | None = None,
) -> FaultRule:
    """Build a rule from the control API's JSON; raises ApiError(400) with a readable detail."""
    method = _str(body, "method") or "*"
    try:
        kind = FaultKind(_str(body, "kind") or "status")
    except ValueError as exc:
        raise _bad(f"kind must be one of {[k.value for k in FaultKind]}") from exc
    status = _int(body, "status") or 500
    if not 400 <= status <= 599:
        raise _bad("status must be 400..599")
    then = _str(body, "then") or "status"
    if then not in ("status", "drop"):
        raise _bad("then must be 'status' or 'drop'")
    count = _int(body, "count")
    if count is not None and count < 1:
        raise _bad("count must be >= 1")
    probability = _float(body, "probability")
    if probability is not None and not 0 <= probability <= 1:
        raise _bad("probability must be within 0..1")
    seed = _int(body, "seed")
    latency_ms = _int(body, "latency_ms") or 0
    if latency_ms < 0:
        raise _bad("latency_ms must be >= 0")
    retry_after = _float(body, "retry_after")
    if retry_after is not None and retry_after < 0:
        raise _bad("retry_after must be >= 0")
    return FaultRule(
        rule_id=rule_id,
        method=method,
        kind=kind,
        status=status,
        name=_str(body, "name"),
        retry_after=retry_after,
        latency_ms=latency_ms,
        then="drop" if then == "drop" else "status",
        remaining=count,
        probability=probability,
        seed=seed,
        token=token,
        rng=_rule_rng(rule_id, seed, global_seed),
    )


def _rule_rng(rule_id: int, seed: int | None, global_seed: int | None) -> random.Random:
    if seed is not None:
        return random.Random(seed)
    if global_seed is not None:
        # String seeds hash with SHA-512, so this is stable across processes.
        return random.Random(f"{global_seed}:fault:{rule_id}")
    return random.Random()


class FaultBook:
    """The active rules, in the order they were added; the first rule that fires wins."""

    def __init__(self, global_seed: int | None = None) -> None:
        self.global_seed = global_seed
        self._rules: list[FaultRule] = []
        self._last_id = 0

    def add(self, body: Mapping[str, object], token: str | None = None) -> FaultRule:
        """Add a rule; with ``token`` it only applies to requests carrying that token."""
        rule = parse_rule(body, self._last_id + 1, self.global_seed, token)
        self._last_id += 1
        self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.rule_id != rule_id]
        return len(self._rules) != before

    def clear(self, token: str | None = None) -> int:
        """Remove every rule, or only the rules scoped to ``token``; returns how many."""
        kept = [r for r in self._rules if token is not None and r.token != token]
        removed = len(self._rules) - len(kept)
        self._rules = kept
        return removed

    def rules(self, token: str | None = None) -> list[FaultRule]:
        """Every rule, or only the rules scoped to ``token``."""
        return [r for r in self._rules if token is None or r.token == token]

    def match(self, method: str, token: str | None = None) -> FaultRule | None:
        """The rule that fires for this request, with its counters updated, or None."""
        for rule in self._rules:
            if should_fire(rule, method, rule.rng, token):
                rule.fired += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule
        return None


def _bad(detail: str) -> ApiError:
    return ApiError(400, "FAULT_INVALID", detail)


def _str(body: Mapping[str, object], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _bad(f"{key} must be a string")


def _int(body: Mapping[str, object], key: str) -> int | None:
    value = body.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _bad(f"{key} must be an integer")


def _float(body: Mapping[str, object], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    # Control bodies are parsed with Decimal floats, like API bodies.
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    raise _bad(f"{key} must be a number")
