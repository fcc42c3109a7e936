"""The idempotency store interface: one record per (caller, RPC, key).

A record is in flight (a replica owns it, with a lease) or done (it holds the stored answer).
Every operation is atomic; `claim` creates the in-flight record if, and only if, there is none.
Leases and expiry are measured on the store's clock (Redis: the server's), not the replicas'.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from sidecar.store_base import Store


class ClaimState(enum.Enum):
    CLAIMED = "claimed"  # there was no record: the caller now owns a new in-flight record
    IN_FLIGHT = "in_flight"  # another request owns it and its lease is running
    STALE = "stale"  # in flight, but the lease ran out: its owner is presumed dead
    DONE = "done"  # completed: `payload` holds the stored answer


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    fingerprint: str = ""
    owner: str = ""
    payload: bytes = b""


class IdempotencyStore(Store, Protocol):
    async def claim(
        self, key: str, fingerprint: str, owner: str, lease: float, ttl: float
    ) -> Claim:
        """Creates an in-flight record owned by `owner` (lease and ttl in seconds) if none exists;
        otherwise returns the existing record's state."""

    async def take_over(self, key: str, stale_owner: str, owner: str, lease: float) -> bool:
        """Moves a stale in-flight record to `owner` with a new lease; False if it changed."""

    async def complete(self, key: str, owner: str, payload: bytes, ttl: float) -> bool:
        """Stores the answer of the in-flight record `owner` holds; False if it does not."""

    async def release(self, key: str, owner: str) -> bool:
        """Deletes the in-flight record `owner` holds (nothing worth keeping happened)."""
