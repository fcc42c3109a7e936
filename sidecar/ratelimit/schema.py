"""JSON Schema (2020-12) of the `rate_limits` policy section, for editors and `policy lint`.

The schema checks shapes, and leaves the rest to `parse_rate_limits` (the section's validator
in `policy lint`), whose messages say how to write a rate, and which also checks what a schema
cannot (a cost larger than a bucket's burst). tests/ratelimit/test_config.py holds both to one
table of examples.
"""

from __future__ import annotations

from typing import Any

from sidecar.duration import SCHEMA as DURATION
from sidecar.methods import METHODS

_RATE = {"type": "string", "description": "<count>/<period>: 30/s, 1000/min, 10/5s, 100/day"}
_POSITIVE_DURATION = {
    "oneOf": [{"type": "number", "exclusiveMinimum": 0}, DURATION["oneOf"][1]],
}
_RPC_NAMES = [m.rpc for m in METHODS] + [m.api for m in METHODS]

# A rate ("30/s") or {rate, burst, when_empty}; the object keywords only apply to objects.
_BUCKET: dict[str, Any] = {
    "type": ["string", "object"],
    "additionalProperties": False,
    "required": ["rate"],
    "properties": {
        "rate": _RATE,
        "burst": {"type": "integer", "minimum": 1, "description": "tokens held; default: count"},
        "when_empty": {"enum": ["wait", "refuse"]},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
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
