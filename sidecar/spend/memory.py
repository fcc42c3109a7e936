"""In-memory spend counters: one process only (demo mode, tests). Same semantics as the Redis
store, checked by the same contract tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from sidecar.spend.store import Bucket, Reservation, Status, from_minor, lease_ms, to_minor
from sidecar.store_base import Clock

SWEEP_EVERY = 1000  # operations between sweeps of expired buckets


@dataclass
class _Entry:
    at_ms: int
    units: int
    owner: str = ""
    committed: bool = False


@dataclass
class _BucketState:
    expires_at_ms: int = 0
    total: int = 0
    entries: dict[str, _Entry] = field(default_factory=dict)
    # Unsettled reservations with a lease -> its end (ms): only calls in flight, a few.
    leased: dict[str, int] = field(default_factory=dict)


class MemorySpendStore:
    def __init__(self, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._buckets: dict[str, _BucketState] = {}
        self._ops = 0

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _state(self, bucket: Bucket, now: int, *, leases: bool = True) -> _BucketState:
        """`leases`: free unsettled reservations whose lease has ended (every operation but a
        commit: money that moved counts, however late its commit)."""
        self._ops += 1
        if self._ops % SWEEP_EVERY == 0:
            for key in [k for k, s in self._buckets.items() if s.expires_at_ms <= now]:
                del self._buckets[key]
        state = self._buckets.get(bucket.key)
        if state is None or state.expires_at_ms <= now:
            state = self._buckets[bucket.key] = _BucketState(expires_at_ms=now + bucket.ttl_ms)
        if bucket.window_ms > 0:
            # Entries are kept in insertion (time) order: drop from the front until one is
            # still inside the window. A clock step back only delays a drop (conservative).
            horizon = now - bucket.window_ms
            expired = []
            for rid, entry in state.entries.items():
                if entry.at_ms > horizon:
                    break
                expired.append(rid)
            for rid in expired:
                state.total -= state.entries.pop(rid).units
                state.leased.pop(rid, None)
        if leases and state.leased:
            for rid in [r for r, until in state.leased.items() if until <= now]:
                del state.leased[rid]
                gone = state.entries.pop(rid, None)
                if gone is not None:
                    state.total -= gone.units
        return state

    async def reserve(
        self,
        bucket: Bucket,
        reservation_id: str,
        amount: Decimal,
        cap: Decimal,
        *,
        force: bool,
        owner: str = "",
        lease: float = 0.0,
    ) -> Reservation:
        until = lease_ms(lease)
        now = self._now_ms()
        state = self._state(bucket, now)
        existing = state.entries.get(reservation_id)
        if existing is not None:
            # Owners are unique per call: the same owner is the same reserve sent again.
            if owner and existing.owner == owner and not existing.committed:
                return Reservation(Status.RESERVED, from_minor(state.total))
            return Reservation(Status.DUPLICATE, from_minor(state.total))
        units = to_minor(amount)
        after = state.total + units
        over = after > to_minor(cap)
        if over and not force:
            return Reservation(Status.DENIED, from_minor(state.total))
        state.entries[reservation_id] = _Entry(now, units, owner)
        if until:
            state.leased[reservation_id] = now + until
        state.total = after
        state.expires_at_ms = now + bucket.ttl_ms
        return Reservation(Status.FORCED if over else Status.RESERVED, from_minor(after))

    async def commit(self, bucket: Bucket, reservation_id: str) -> bool:
        state = self._state(bucket, self._now_ms(), leases=False)
        entry = state.entries.get(reservation_id)
        if entry is None or entry.committed:
            return False
        entry.committed = True
        state.leased.pop(reservation_id, None)
        return True

    async def release(self, bucket: Bucket, reservation_id: str, *, owner: str = "") -> bool:
        state = self._state(bucket, self._now_ms())
        entry = state.entries.get(reservation_id)
        if entry is None or entry.committed or (owner and owner != entry.owner):
            return False
        del state.entries[reservation_id]
        state.leased.pop(reservation_id, None)
        state.total -= entry.units
        return True

    async def total(self, bucket: Bucket) -> Decimal:
        return from_minor(self._state(bucket, self._now_ms()).total)

    async def close(self) -> None:
        self._buckets.clear()
