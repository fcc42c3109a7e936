"""JSON Schema (2020-12) of the `rate_limits` policy section, for editors and `policy lint`.

The schema checks shapes; `parse_rate_limits` also checks what a schema cannot (a cost larger
than a bucket's burst) and is the authority. Both accept and refuse the same table of
examples in tests/ratelimit/test_config.py.
"""

from __future__ import annotations

from typing import Any

from sidecar.duration import SCHEMA as DURATION
from sidecar.methods import METHODS

_RATE = r"^\s*[1-9][0-9]*\s*/\s*([1-9][0-9]*)?\s*(s|sec|second|min|minute|h|hour|d|day)s?\s*$"
_POSITIVE_DURATION = {
    "oneOf": [{"type": "number", "exclusiveMinimum": 0}, DURATION["oneOf"][1]],
}
_RPC_NAMES = [m.rpc for m in METHODS] + [m.api for m in METHODS]

_BUCKET: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "pattern": _RATE},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["rate"],
            "properties": {
                "rate": {"type": "string", "pattern": _RATE, "description": "e.g. 30/s, 1000/min"},
                "burst": {"type": "integer", "minimum": 1},
                "when_empty": {"enum": ["wait", "refuse"]},
            },
        },
    ]
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "rate_limits",
    "description": "Rate limits shared by every replica of the sidecar (docs/rate-limits.md).",
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "app": {**_BUCKET, "description": "the Crypto Pay app's budget: all callers, replicas"},
        "callers": {
            "type": "object",
            "description": "a bucket per caller; '*' for every caller without its own entry",
            "propertyNames": {"minLength": 1},
            "additionalProperties": _BUCKET,
        },
        "rpcs": {
            "type": "object",
            "propertyNames": {"enum": _RPC_NAMES},
            "additionalProperties": _BUCKET,
        },
        "costs": {
            "type": "object",
            "propertyNames": {"enum": _RPC_NAMES},
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "when_empty": {"enum": ["wait", "refuse"]},
        "max_wait": DURATION,
        "max_queue": {"type": "integer", "minimum": 0},
        "replicas": {"type": "integer", "minimum": 1},
        "cooldown": DURATION,
        "max_cooldown": _POSITIVE_DURATION,
        "redis_timeout": _POSITIVE_DURATION,
    },
}
