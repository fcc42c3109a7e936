"""Trailing metadata telling the caller its budget, after the IETF RateLimit header fields (pure).

    ratelimit-policy: "app";q=30;w=1;burst=10, "caller:billing";q=20;w=1;burst=5
    ratelimit: "app";r=7;t=1, "caller:billing";r=4;t=1
    ratelimit-remaining: 4        (the tightest bucket; for clients that read one number)
    ratelimit-reset: 1

`q`/`w` are the configured rate (q tokens per w seconds), `r` the tokens left after this call,
`t` the seconds until that bucket is full again (rounded up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sidecar.ratelimit.backend import BucketStatus

KEYS = ("ratelimit-policy", "ratelimit", "ratelimit-remaining", "ratelimit-reset")


def _sf_string(value: str) -> str:
    """A Structured Field string: printable ASCII, with quotes and backslashes escaped."""
    text = "".join(c if " " <= c <= "~" else "?" for c in value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def trailing(statuses: Sequence[BucketStatus]) -> list[tuple[str, str]]:
    if not statuses:
        return []
    policies = ", ".join(
        f"{_sf_string(s.bucket.name)};q={s.bucket.config.rate.count};"
        f"w={s.bucket.config.rate.period};burst={s.bucket.config.burst}"
        for s in statuses
    )
    left = [(max(0, math.floor(s.remaining)), max(0, math.ceil(s.reset))) for s in statuses]
    limits = ", ".join(
        f"{_sf_string(s.bucket.name)};r={r};t={t}" for s, (r, t) in zip(statuses, left, strict=True)
    )
    tightest = min(left)
    return [
        ("ratelimit-policy", policies),
        ("ratelimit", limits),
        ("ratelimit-remaining", str(tightest[0])),
        ("ratelimit-reset", str(tightest[1])),
    ]
