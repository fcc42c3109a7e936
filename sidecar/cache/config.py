"""The `cache` section of the policy file: which reads are cached, for how long (pure).

    cache:
      enabled: true
      lock_ttl: 10s            # single-flight lease of the one caller refreshing a key
      failure_cooldown: 2s     # after a failed refresh, serve stale data without retrying
      allow_bypass: true       # callers may send `cache-control: no-cache`
      key_prefix: cryptopay:cache
      methods:
        GetExchangeRates: {ttl: 1m, stale_while_revalidate: 30s, max_stale: 5m, invalid_ttl: 5s}
        GetCurrencies: {ttl: 1h}
        GetMe: {enabled: false}

Every key is optional; a method's settings are merged over its defaults. Durations are seconds
(a number) or a string with a unit: 500ms, 30s, 5m, 1h, 1d. Only reference data can be cached:
methods that change money or state, and reads of the app's money or state, are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from sidecar import duration
from sidecar.config_section import SectionError, thaw
from sidecar.duration import SCHEMA as DURATION
from sidecar.methods import BY_RPC
from sidecar.policy import sections

SECTION = "cache"

# Reference data: the same for every caller of the app, and it changes slowly. Anything else
# (balances, invoices, checks, transfers, stats) reflects money or state and is never cached.
CACHEABLE = ("GetExchangeRates", "GetCurrencies", "GetMe")

_DURATION_SCHEMA: dict[str, Any] = {
    "description": "seconds, or a string such as 500ms, 30s, 5m, 1h, 1d",
    **DURATION,
}

# The JSON Schema of the section, for `policy lint` and editors.
SCHEMA: dict[str, Any] = {
    "title": "cache",
    "description": "Shared cache of reference data (exchange rates, currencies, app info).",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean"},
        "lock_ttl": _DURATION_SCHEMA,
        "failure_cooldown": _DURATION_SCHEMA,
        "allow_bypass": {"type": "boolean"},
        "key_prefix": {"type": "string", "pattern": r"^[A-Za-z0-9:_.-]{1,64}$"},
        "methods": {
            "type": "object",
            "propertyNames": {"enum": sorted(BY_RPC)},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "ttl": _DURATION_SCHEMA,
                    "stale_while_revalidate": _DURATION_SCHEMA,
                    "max_stale": _DURATION_SCHEMA,
                    "invalid_ttl": _DURATION_SCHEMA,
                },
            },
        },
    },
}


class CacheConfigError(ValueError):
    """The cache section is wrong; the message names the setting and says how to fix it."""


@dataclass(frozen=True, slots=True)
class MethodRule:
    """How long one method's answers are used, in seconds of the store's clock."""

    ttl: float  # fresh: served without asking the upstream
    stale_while_revalidate: float = 0.0  # then served at once while one caller refreshes
    max_stale: float = 0.0  # never served older than this, even when the upstream fails
    # Freshness of an answer in which the upstream marked some rate invalid: short, so a rate
    # that becomes valid again is seen soon. Such rates are always served as invalid.
    invalid_ttl: float | None = None


DEFAULT_RULES: Mapping[str, MethodRule] = MappingProxyType(
    {
        "GetExchangeRates": MethodRule(
            ttl=60.0, stale_while_revalidate=30.0, max_stale=300.0, invalid_ttl=5.0
        ),
        "GetCurrencies": MethodRule(ttl=3600.0, stale_while_revalidate=600.0, max_stale=86400.0),
        "GetMe": MethodRule(ttl=3600.0, stale_while_revalidate=600.0, max_stale=86400.0),
    }
)


@dataclass(frozen=True, slots=True)
class CacheConfig:
    enabled: bool = True
    methods: Mapping[str, MethodRule] = field(default_factory=lambda: DEFAULT_RULES)
    lock_ttl: float = 10.0
    failure_cooldown: float = 2.0
    allow_bypass: bool = True
    key_prefix: str = "cryptopay:cache"

    def rule(self, rpc: str) -> MethodRule | None:
        """The rule for an RPC, or None when its answers are not cached."""
        if not self.enabled:
            return None
        return self.methods.get(rpc)


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as "500ms", "30s", "5m", "1h", "1d"."""
    try:
        return duration.parse_duration(value, "")
    except ValueError as exc:
        raise CacheConfigError(str(exc).lstrip(": ")) from None


def _schema_problems(raw: Any) -> list[SectionError]:
    import jsonschema  # slow to import; only needed when there is a section to check

    validator = jsonschema.Draft202012Validator(SCHEMA)
    found = []
    for error in sorted(
        validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        if "propertyNames" in error.schema_path:
            message = (
                f"unknown method {error.instance!r}; "
                f"methods that can be cached: {', '.join(CACHEABLE)}"
            )
        elif error.validator == "oneOf":
            message = f"{_DURATION_SCHEMA['description']}, got {error.instance!r}"
        else:
            message = error.message
        found.append(SectionError(SECTION, tuple(error.absolute_path), message))
    return found


def _turned_off(settings: Mapping[str, Any]) -> bool:
    return settings.get("enabled") is False or (
        "ttl" in settings and parse_duration(settings["ttl"]) == 0
    )


def _method_problems(methods: Mapping[str, Any]) -> list[SectionError]:
    problems: list[SectionError] = []
    for rpc, settings in methods.items():
        if rpc in CACHEABLE or _turned_off(settings):
            continue  # turning a method off is always allowed
        why = (
            "changes money or state"
            if BY_RPC[rpc].mutating
            else "reads the app's money or state, which must always be current"
        )
        problems.append(
            SectionError(
                SECTION,
                ("methods", rpc),
                f"{rpc} {why} and is never cached; only {', '.join(CACHEABLE)} can be",
            )
        )
    return problems


def _rule(rpc: str, settings: Mapping[str, Any]) -> tuple[MethodRule | None, list[SectionError]]:
    if _turned_off(settings):
        return None, []
    rule = DEFAULT_RULES[rpc]
    for name in ("ttl", "stale_while_revalidate", "max_stale", "invalid_ttl"):
        if name in settings:
            rule = replace(rule, **{name: parse_duration(settings[name])})
    problems: list[SectionError] = []
    window = rule.ttl + rule.stale_while_revalidate
    if "max_stale" not in settings and rule.max_stale < window:
        # A longer ttl or window than the default max_stale: stretch it rather than refuse.
        rule = replace(rule, max_stale=window)
    if rule.max_stale < window:
        problems.append(
            SectionError(
                SECTION,
                ("methods", rpc, "max_stale"),
                f"must be at least ttl + stale_while_revalidate ({window:g}s), "
                f"got {rule.max_stale:g}s",
            )
        )
    if rule.invalid_ttl is not None and rule.invalid_ttl > rule.ttl:
        rule = replace(rule, invalid_ttl=rule.ttl)
    return rule, problems


def problems(raw: Any) -> list[SectionError]:
    """Every problem of a raw `cache` section (paths relative to it), for `policy lint`."""
    if raw is None:
        return []
    raw = thaw(raw)
    found = _schema_problems(raw)
    if found:
        return found
    found = _method_problems(raw.get("methods", {}))
    if "lock_ttl" in raw and parse_duration(raw["lock_ttl"]) <= 0:
        found.append(
            SectionError(SECTION, ("lock_ttl",), f"must be greater than 0, got {raw['lock_ttl']!r}")
        )
    for rpc, settings in raw.get("methods", {}).items():
        if rpc in CACHEABLE:
            found.extend(_rule(rpc, settings)[1])
    return found


def lint(raw: Any) -> list[str]:
    """Every problem with a raw `cache` section, as `cache.<path>: <what is wrong>` lines."""
    return [str(problem) for problem in problems(raw)]


def parse_cache_config(raw: Any) -> CacheConfig:
    """The cache settings from a raw `cache` section; None or {} gives the defaults."""
    errors = lint(raw)
    if errors:
        raise CacheConfigError("; ".join(errors))
    if not raw:
        return CacheConfig()
    raw = thaw(raw)
    methods: dict[str, MethodRule] = {}
    overrides: Mapping[str, Any] = raw.get("methods", {})
    for rpc in CACHEABLE:
        rule, _ = _rule(rpc, overrides.get(rpc, {}))
        if rule is not None:
            methods[rpc] = rule
    defaults = CacheConfig()
    return CacheConfig(
        enabled=raw.get("enabled", True),
        methods=MappingProxyType(methods),
        lock_ttl=parse_duration(raw.get("lock_ttl", defaults.lock_ttl)),
        failure_cooldown=parse_duration(raw.get("failure_cooldown", defaults.failure_cooldown)),
        allow_bypass=raw.get("allow_bypass", True),
        key_prefix=raw.get("key_prefix", defaults.key_prefix),
    )


sections.register(
    SECTION,
    validate=problems,
    parse=parse_cache_config,
    schema=SCHEMA,
    description="shared cache of reference data: TTLs, stale-while-revalidate, maximum "
    "staleness, bypass (docs/cache.md)",
)
