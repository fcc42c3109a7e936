"""What a limiter backend does: decide one call against a set of buckets, and record a cooldown.

Three implementations: `memory` (one process), `redis` (shared by every replica) and
`fallback` (Redis, or the replica's share in memory while Redis is unreachable). The first two
pass one contract suite (tests/contract/test_ratelimit_backend.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sidecar.ratelimit import gcra
from sidecar.ratelimit.plan import Bucket
from sidecar.store_base import Store

COOLDOWN = "cooldown"  # `Decision.limited_by` when an upstream 429 pause decided


@dataclass(frozen=True, slots=True)
class Request:
    scope: str  # whose budget: one Crypto Pay app at one upstream
    buckets: tuple[Bucket, ...]
    cost: int
    max_wait: float  # seconds the caller may wait for a slot; 0: decide now
    timeout: float  # seconds the backend may take to answer (a shared store's budget)


@dataclass(frozen=True, slots=True)
class Pause:
    scope: str
    seconds: float  # how long every call of the scope pauses
    app: Bucket | None  # the app bucket, drained so the pause does not end in a burst
    timeout: float  # seconds the backend may take to record it


@dataclass(frozen=True, slots=True)
class BucketStatus:
    bucket: Bucket
    remaining: float  # tokens left (negative while reservations are queued)
    reset: float  # seconds until the bucket is full again


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    wait: float  # allowed: seconds to wait before sending (the reserved slot)
    retry_after: float  # refused: seconds until the call could be admitted
    limited_by: str | None  # the bucket name or COOLDOWN that decided the delay; None: none
    statuses: tuple[BucketStatus, ...]
    shared: bool = True  # False when decided by a replica-local fallback


class Backend(Store, Protocol):
    async def decide(self, request: Request) -> Decision:
        """Admits the call (reserving its slot, perhaps in the future) or refuses it."""

    async def cooldown(self, pause: Pause) -> float:
        """Pauses every call of the scope (a longer pause already recorded wins) and drains the
        app bucket. Returns the pause left, in seconds."""


def limited_by_name(index: int, buckets: tuple[Bucket, ...]) -> str | None:
    """A gcra `limited_by` index as the name callers see."""
    if index == gcra.COOLDOWN:
        return COOLDOWN
    if index == gcra.NOT_LIMITED:
        return None
    return buckets[index].name
