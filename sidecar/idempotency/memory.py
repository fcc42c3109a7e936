"""The in-memory idempotency store: one replica, no Redis (demo mode, single-instance use)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sidecar.idempotency.store import Claim, ClaimState
from sidecar.store_base import Clock


@dataclass(slots=True)
class _Record:
    fingerprint: str
    owner: str
    lease_until: float
    expires: float
    payload: bytes | None = None  # None while in flight


class MemoryIdempotencyStore:
    # Expired records are swept when the store has grown by this factor since the last sweep.
    SWEEP_GROWTH = 2

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._sweep_at = 1024

    def __len__(self) -> int:
        return len(self._records)

    def _get(self, key: str) -> _Record | None:
        record = self._records.get(key)
        if record is not None and record.expires <= self._clock():
            del self._records[key]
            return None
        return record

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, r in self._records.items() if r.expires <= now]:
            del self._records[key]
        self._sweep_at = max(1024, len(self._records) * self.SWEEP_GROWTH)

    async def claim(
        self, key: str, fingerprint: str, owner: str, lease: float, ttl: float
    ) -> Claim:
        now = self._clock()
        record = self._get(key)
        if record is None:
            if len(self._records) >= self._sweep_at:
                self._sweep()
            self._records[key] = _Record(fingerprint, owner, now + lease, now + ttl)
            return Claim(ClaimState.CLAIMED)
        if record.payload is not None:
            return Claim(ClaimState.DONE, record.fingerprint, record.owner, record.payload)
        if record.owner == owner:  # owners are unique per call: this claim sent again
            return Claim(ClaimState.CLAIMED)
        state = ClaimState.STALE if record.lease_until <= now else ClaimState.IN_FLIGHT
        return Claim(state, record.fingerprint, record.owner)

    async def take_over(self, key: str, stale_owner: str, owner: str, lease: float) -> bool:
        now = self._clock()
        record = self._get(key)
        if record is not None and record.payload is None and record.owner == owner:
            return True  # ours already: sent again
        if (
            record is None
            or record.payload is not None
            or record.owner != stale_owner
            or record.lease_until > now
        ):
            return False
        record.owner = owner
        record.lease_until = now + lease
        return True

    async def complete(self, key: str, owner: str, payload: bytes, ttl: float) -> bool:
        record = self._get(key)
        if record is None or record.payload is not None or record.owner != owner:
            return False
        record.payload = payload
        record.expires = self._clock() + ttl
        return True

    async def release(self, key: str, owner: str) -> bool:
        record = self._get(key)
        if record is None or record.payload is not None or record.owner != owner:
            return False
        del self._records[key]
        return True

    async def close(self) -> None:
        return None
