"""The `rate_limits` section of the policy file, parsed and checked (pure).

    rate_limits:
      replicas: 3              # optional: pins each one's outage share (default: live count)
      when_empty: wait         # wait (within the caller's deadline) | refuse
      max_wait: 10s            # never wait longer, whatever the deadline
      max_queue: 100           # calls waiting at once in one sidecar
      cooldown: 1s             # pause after a 429 that has no Retry-After
      app: {rate: 30/s, burst: 10}          # the Crypto Pay app: all callers, all replicas
      callers:
        "*": 10/s                           # every caller without its own entry
        billing: {rate: 20/s, burst: 5, when_empty: refuse}
      rpcs:
        CreateInvoice: {rate: 5/s}
      costs: {GetStats: 3}                  # tokens per call; default 1, 0 = not counted

Every problem is reported with its path (`rate_limits.callers.billing.rate`), all at once.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sidecar.config_section import SectionError
from sidecar.duration import parse_duration
from sidecar.methods import BY_API, BY_RPC

SECTION = "rate_limits"
DEFAULT_CALLER = "*"

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


class WhenEmpty(enum.StrEnum):
    WAIT = "wait"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: int  # seconds
    text: str  # as the user wrote it, normalised: "30/s", "1000/min", "10/5s"

    @property
    def per_second(self) -> float:
        return self.count / self.period


@dataclass(frozen=True, slots=True)
class BucketConfig:
    rate: Rate
    burst: int
    when_empty: WhenEmpty | None = None  # None: the section's default

    def describe(self) -> str:
        return f"{self.rate.text}, burst {self.burst}"


@dataclass(frozen=True)
class RateLimitConfig:
    app: BucketConfig | None = None
    callers: Mapping[str, BucketConfig] = field(default_factory=dict)
    rpcs: Mapping[str, BucketConfig] = field(default_factory=dict)  # keyed by gRPC method name
    costs: Mapping[str, int] = field(default_factory=dict)  # keyed by gRPC method name
    when_empty: WhenEmpty = WhenEmpty.WAIT
    max_wait: float = 10.0
    max_queue: int = 100
    replicas: int = 1
    replicas_set: bool = False  # `replicas` given in the policy: it overrides the live count
    cooldown: float = 1.0
    max_cooldown: float = 300.0
    redis_timeout: float = 0.1

    def cost(self, rpc: str) -> int:
        return self.costs.get(rpc, 1)

    @property
    def max_cost(self) -> int:
        return max([1, *self.costs.values()])


class RateLimitConfigError(ValueError):
    """The section is invalid; `problems` names every bad path (relative to the section)."""

    def __init__(self, problems: list[SectionError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse_rate(text: str) -> Rate:
    """`30/s`, `1000/min`, `10/5s`, `5/hour`, `100/day`; raises ValueError."""
    match = _RATE.match(text)
    unit = match and _UNITS.get(match.group(3))
    if not match or not unit:
        raise ValueError(
            f"{text!r} is not a rate: write <count>/<unit> with unit s, min, h or day "
            "(e.g. 30/s, 1000/min, 10/5s)"
        )
    count, multiple = int(match.group(1)), int(match.group(2) or 1)
    if count < 1 or multiple < 1:
        raise ValueError(f"{text!r}: the count and the period must be at least 1")
    unit_name = next(name for name in ("s", "min", "h", "day") if _UNITS[name] == unit)
    normal = f"{count}/{multiple if multiple > 1 else ''}{unit_name}"
    return Rate(count, multiple * unit, normal)


def rpc_name(name: str) -> str | None:
    """The gRPC method name for `CreateInvoice` or `createInvoice`; None if unknown."""
    if name in BY_RPC:
        return name
    spec = BY_API.get(name)
    return spec.rpc if spec else None


Path = tuple[str, ...]


class _Parser:
    def __init__(self) -> None:
        self.problems: list[SectionError] = []

    def fail(self, path: Path, message: str) -> None:
        self.problems.append(SectionError(SECTION, path, message))

    def mapping(self, value: Any, path: Path) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            return value
        self.fail(path, "must be a mapping")
        return None

    def unknown(self, raw: Mapping[str, Any], known: set[str], path: Path) -> None:
        for key in raw:
            if key not in known:
                expected = ", ".join(sorted(known))
                self.fail((*path, key), f"unknown key; expected one of {expected}")

    def integer(self, value: Any, path: Path, minimum: int) -> int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # YAML `5.0`; JSON Schema counts it as an integer too
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be an integer >= {minimum}")
            return None
        if value < minimum:
            self.fail(path, f"must be >= {minimum}, got {value}")
            return None
        return value

    def duration(self, value: Any, path: Path, positive: bool = False) -> float | None:
        try:
            seconds = parse_duration(value, "")
        except ValueError as exc:
            self.fail(path, str(exc).lstrip(": "))
            return None
        if not math.isfinite(seconds):
            self.fail(path, "must be finite")
            return None
        if positive and seconds <= 0:
            self.fail(path, "must be longer than 0")
            return None
        return seconds

    def when_empty(self, value: Any, path: Path) -> WhenEmpty | None:
        try:
            return WhenEmpty(value)
        except ValueError:
            self.fail(path, f"must be 'wait' or 'refuse', got {value!r}")
            return None

    def bucket(self, value: Any, path: Path) -> BucketConfig | None:
        if isinstance(value, str):
            value = {"rate": value}
        raw = self.mapping(value, path)
        if raw is None:
            return None
        self.unknown(raw, {"rate", "burst", "when_empty"}, path)
        if "rate" not in raw:
            self.fail((*path, "rate"), "is required (e.g. 30/s)")
            return None
        if not isinstance(raw["rate"], str):
            self.fail((*path, "rate"), "must be a string such as 30/s or 1000/min")
            return None
        try:
            rate = parse_rate(raw["rate"])
        except ValueError as exc:
            self.fail((*path, "rate"), str(exc))
            return None
        burst = rate.count
        if "burst" in raw:
            parsed = self.integer(raw["burst"], (*path, "burst"), 1)
            if parsed is None:
                return None
            burst = parsed
        mode = None
        if "when_empty" in raw:
            mode = self.when_empty(raw["when_empty"], (*path, "when_empty"))
        return BucketConfig(rate, burst, mode)

    def by_rpc(self, value: Any, path: Path) -> dict[str, tuple[Path, Any]]:
        """Entries keyed by gRPC method name, each with the path the user wrote."""
        raw = self.mapping(value, path)
        out: dict[str, tuple[Path, Any]] = {}
        for key, item in (raw or {}).items():
            name = rpc_name(key)
            if name is None:
                self.fail(
                    (*path, key),
                    f"unknown RPC; expected one of {', '.join(BY_RPC)} "
                    "(or the Crypto Pay method name, e.g. createInvoice)",
                )
            elif name in out:
                self.fail((*path, key), f"{name} is listed twice")
            else:
                out[name] = ((*path, key), item)
        return out


_KEYS = {
    "app",
    "callers",
    "rpcs",
    "costs",
    "when_empty",
    "max_wait",
    "max_queue",
    "replicas",
    "cooldown",
    "max_cooldown",
    "redis_timeout",
}


def parse_rate_limits(raw: Any) -> RateLimitConfig:
    """Parses the raw `rate_limits` section (as loaded from YAML, or a frozen policy snapshot);
    raises RateLimitConfigError naming every problem."""
    p = _Parser()
    section = p.mapping({} if raw is None else raw, ())
    if section is None:
        raise RateLimitConfigError(p.problems)
    p.unknown(section, _KEYS, ())
    values = {**_buckets(p, section), **_settings(p, section)}
    if p.problems:
        raise RateLimitConfigError(p.problems)
    config = RateLimitConfig(**{k: v for k, v in values.items() if v is not None})
    _check_costs(p, config)
    if config.cooldown > config.max_cooldown:
        p.fail(("cooldown",), f"must not exceed max_cooldown ({config.max_cooldown:g}s)")
    if p.problems:
        raise RateLimitConfigError(p.problems)
    return config


def _buckets(p: _Parser, section: Mapping[str, Any]) -> dict[str, Any]:
    """The buckets (app, per caller, per RPC) and the per-RPC costs."""
    values: dict[str, Any] = {}
    if "app" in section:
        values["app"] = p.bucket(section["app"], ("app",))
    if "callers" in section:
        callers = p.mapping(section["callers"], ("callers",)) or {}
        parsed_callers: dict[str, BucketConfig] = {}
        for name, item in callers.items():
            if not name:
                p.fail(("callers",), "a caller name must not be empty")
                continue
            bucket = p.bucket(item, ("callers", name))
            if bucket is not None:
                parsed_callers[name] = bucket
        values["callers"] = parsed_callers
    if "rpcs" in section:
        by_rpc = p.by_rpc(section["rpcs"], ("rpcs",)).items()
        buckets = {name: p.bucket(item, where) for name, (where, item) in by_rpc}
        values["rpcs"] = {name: b for name, b in buckets.items() if b is not None}
    if "costs" in section:
        by_rpc = p.by_rpc(section["costs"], ("costs",)).items()
        costs = {name: p.integer(item, where, 0) for name, (where, item) in by_rpc}
        values["costs"] = {name: c for name, c in costs.items() if c is not None}
    return values


# The section's single settings, each with its parser.
_SETTINGS: dict[str, Callable[[_Parser, Any, Path], Any]] = {
    "when_empty": lambda p, value, where: p.when_empty(value, where),
    "max_wait": lambda p, value, where: p.duration(value, where),
    "cooldown": lambda p, value, where: p.duration(value, where),
    "max_cooldown": lambda p, value, where: p.duration(value, where, positive=True),
    "redis_timeout": lambda p, value, where: p.duration(value, where, positive=True),
    "max_queue": lambda p, value, where: p.integer(value, where, 0),
    "replicas": lambda p, value, where: p.integer(value, where, 1),
}


def _settings(p: _Parser, section: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        key: parse(p, section[key], (key,)) for key, parse in _SETTINGS.items() if key in section
    }
    if "replicas" in section:
        values["replicas_set"] = True
    return values


def problems(section: Any) -> list[SectionError]:
    """Every problem of a `rate_limits` section (paths relative to it), for `policy lint`."""
    if section is None:
        return []
    try:
        parse_rate_limits(section)
    except RateLimitConfigError as exc:
        return list(exc.problems)
    return []


def _check_costs(p: _Parser, config: RateLimitConfig) -> None:
    """A call costing more than a bucket's burst could never be admitted: refuse the config."""
    shared: list[tuple[str, BucketConfig]] = []
    if config.app:
        shared.append((f"{SECTION}.app", config.app))
    shared += [(f"{SECTION}.callers.{name}", b) for name, b in config.callers.items()]
    for rpc, cost in config.costs.items():
        buckets = [*shared]
        if rpc in config.rpcs:
            buckets.append((f"{SECTION}.rpcs.{rpc}", config.rpcs[rpc]))
        for where, bucket in buckets:
            if cost > bucket.burst:
                p.fail(
                    ("costs", rpc),
                    f"cost {cost} exceeds the burst {bucket.burst} of {where}: "
                    "such a call could never be admitted",
                )


def _register() -> None:
    # Joins `policy lint`, the load-time checks and policies/schema.json.
    from sidecar.policy import sections
    from sidecar.ratelimit.schema import SCHEMA

    sections.register(
        SECTION,
        validate=problems,
        parse=parse_rate_limits,
        schema=SCHEMA,
        description="rate limits shared by every replica: buckets, costs, waiting or refusing, "
        "the pause after a 429 (docs/rate-limits.md)",
    )


_register()
