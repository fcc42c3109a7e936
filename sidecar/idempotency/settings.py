"""The `idempotency` section of the policy file (pure): defaults, JSON Schema, parser.

idempotency:
  ttl: 24h                  # how long a completed answer is replayed
  lease: 5m                 # longest a call may hold its key when it has no deadline
  in_use_retry_after: 250ms # RetryInfo on IDEMPOTENCY_KEY_IN_USE
  require_key: [Transfer, CreateCheck]   # or "mutating", or "none" (the default)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sidecar.config_section import SectionError, schema_errors, thaw
from sidecar.duration import SCHEMA as DURATION
from sidecar.duration import parse_duration
from sidecar.methods import BY_RPC, METHODS
from sidecar.policy import sections

MUTATING = frozenset(m.rpc for m in METHODS if m.mutating)


@dataclass(frozen=True, slots=True)
class IdempotencyConfig:
    ttl: float = 24 * 3600.0
    lease: float = 300.0
    in_use_retry_after: float = 0.25
    require_key: frozenset[str] = frozenset()


SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ttl": DURATION,
        "lease": DURATION,
        "in_use_retry_after": DURATION,
        "require_key": {
            "oneOf": [
                {"enum": ["mutating", "none"]},
                {"type": "array", "uniqueItems": True, "items": {"enum": sorted(MUTATING)}},
            ]
        },
    },
}


@functools.cache
def _validator() -> Any:
    import jsonschema  # slow to import: only when a section is checked

    return jsonschema.Draft202012Validator(SCHEMA)


def problems(section: Any) -> list[SectionError]:
    """Every problem of an `idempotency` section (paths relative to it), for `policy lint`."""
    if section is None:
        return []
    section = thaw(section)
    found = schema_errors("idempotency", _validator(), section)
    if not found:
        try:
            parse(section)
        except SectionError as exc:
            found.append(exc)
    return [_explained(e) for e in found]


def _explained(error: SectionError) -> SectionError:
    if error.path[:1] == ("require_key",):
        return SectionError(
            "idempotency",
            ("require_key", *error.path[1:]),
            "must be 'mutating', 'none' or a list of mutating RPCs "
            f"({', '.join(sorted(MUTATING))})",
        )
    return error


def _duration(section: dict[str, Any], name: str, default: float) -> float:
    try:
        seconds = parse_duration(section.get(name, default), "")
    except ValueError as exc:
        raise SectionError("idempotency", (name,), str(exc).lstrip(": ")) from None
    if name != "in_use_retry_after" and seconds < 1:
        raise SectionError("idempotency", (name,), "must be at least 1s")
    return seconds


def parse(section: Any) -> IdempotencyConfig:
    """The `idempotency` section as an IdempotencyConfig; SectionError names the field."""
    if section is None:
        return IdempotencyConfig()
    section = thaw(section)
    errors = schema_errors("idempotency", _validator(), section)
    if errors:
        raise _explained(errors[0])
    defaults = IdempotencyConfig()
    require = section.get("require_key", "none")
    if require == "mutating":
        required = MUTATING
    elif require == "none":
        required = frozenset()
    else:
        required = frozenset(r for r in require if r in BY_RPC)
    return IdempotencyConfig(
        ttl=_duration(section, "ttl", defaults.ttl),
        lease=_duration(section, "lease", defaults.lease),
        in_use_retry_after=_duration(section, "in_use_retry_after", defaults.in_use_retry_after),
        require_key=required,
    )


sections.register(
    "idempotency",
    validate=problems,
    parse=parse,
    schema=SCHEMA,
    description="idempotency keys: which RPCs require one, and how long answers are kept "
    "(docs/retries-and-idempotency.md)",
)
