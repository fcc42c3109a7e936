"""The `idempotency` section of the policy file (pure): defaults, JSON Schema, parser.

idempotency:
  ttl: 24h                  # how long a completed answer is replayed
  lease: 5m                 # longest a call may hold its key when it has no deadline
  in_use_retry_after: 250ms # RetryInfo on IDEMPOTENCY_KEY_IN_USE
  require_key: [Transfer, CreateCheck]   # or "mutating", or "none" (the default)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema

from sidecar.duration import SCHEMA as DURATION
from sidecar.duration import parse_duration
from sidecar.methods import BY_RPC, METHODS

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

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def problems(section: Any) -> list[str]:
    """Every problem in an `idempotency` section, as 'idempotency.<path>: <message>'."""
    if section is None:
        return []
    out = [
        ".".join(str(p) for p in ("idempotency", *e.absolute_path)) + f": {e.message}"
        for e in _VALIDATOR.iter_errors(section)
    ]
    if not out:
        try:
            parse(section)
        except ValueError as exc:
            out.append(str(exc))
    return out


def parse(section: Any) -> IdempotencyConfig:
    if section is None:
        return IdempotencyConfig()
    for error in _VALIDATOR.iter_errors(section):
        path = ".".join(str(p) for p in ("idempotency", *error.absolute_path))
        if error.validator == "oneOf" and "require_key" in error.absolute_path:
            raise ValueError(
                f"{path}: must be 'mutating', 'none' or a list of mutating RPCs "
                f"({', '.join(sorted(MUTATING))})"
            )
        raise ValueError(f"{path}: {error.message}")
    defaults = IdempotencyConfig()
    require = section.get("require_key", "none")
    if require == "mutating":
        required = MUTATING
    elif require == "none":
        required = frozenset()
    else:
        required = frozenset(r for r in require if r in BY_RPC)
    config = IdempotencyConfig(
        ttl=parse_duration(section.get("ttl", defaults.ttl), "idempotency.ttl"),
        lease=parse_duration(section.get("lease", defaults.lease), "idempotency.lease"),
        in_use_retry_after=parse_duration(
            section.get("in_use_retry_after", defaults.in_use_retry_after),
            "idempotency.in_use_retry_after",
        ),
        require_key=required,
    )
    if config.ttl < 1:
        raise ValueError("idempotency.ttl: must be at least 1s")
    if config.lease < 1:
        raise ValueError("idempotency.lease: must be at least 1s")
    return config
