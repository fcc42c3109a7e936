"""The in-memory cache store: one process (demo mode, or no Redis configured)."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import secrets
import time
from dataclasses import dataclass

from sidecar.cache.freshness import Contention
from sidecar.cache.store import Acquired, Entry, Lease, Snapshot, key_pattern
from sidecar.store_base import Clock

COOLDOWN = "!cooldown"


@dataclass(slots=True)
class _Lock:
    token: str
    expires_at: float


class MemoryStore:
    def __init__(self, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[Entry, float]] = {}  # key -> (entry, expires_at)
        self._locks: dict[str, _Lock] = {}
        self._changed = asyncio.Condition()

    def _entry(self, key: str, now: float) -> Entry | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[1] <= now:
            del self._entries[key]
            return None
        return found[0]

    def _lock(self, key: str, now: float) -> _Lock | None:
        lock = self._locks.get(key)
        if lock is not None and lock.expires_at <= now:
            del self._locks[key]
            return None
        return lock

    async def get(self, key: str) -> Snapshot:
        now = self._clock()
        return Snapshot(self._entry(key, now), now)

    async def acquire(self, key: str, seen: float | None, ttl: float) -> Acquired:
        now = self._clock()
        entry = self._entry(key, now)
        if entry is not None and (seen is None or entry.fetched_at > seen):
            return Acquired(None, Contention.CHANGED)
        lock = self._lock(key, now)
        if lock is not None:
            held = Contention.COOLDOWN if lock.token == COOLDOWN else Contention.HELD
            return Acquired(None, held)
        token = secrets.token_hex(16)
        self._locks[key] = _Lock(token, now + ttl)
        return Acquired(Lease(token, now))

    async def put(self, key: str, entry: Entry, keep_for: float, lease: Lease | None) -> bool:
        now = self._clock()
        current = self._entry(key, now)
        stored = False
        expires_at = entry.fetched_at + keep_for
        if (current is None or current.fetched_at <= entry.fetched_at) and expires_at > now:
            self._entries[key] = (entry, expires_at)
            stored = True
        if lease is not None:
            self._drop_lock(key, lease, now, 0.0)
        await self._notify()
        return stored

    async def release(self, key: str, lease: Lease, cooldown: float = 0.0) -> None:
        self._drop_lock(key, lease, self._clock(), cooldown)
        await self._notify()

    def _drop_lock(self, key: str, lease: Lease, now: float, cooldown: float) -> None:
        lock = self._lock(key, now)
        if lock is None or lock.token != lease.token:
            return  # expired, or taken over by another caller since
        if cooldown > 0:
            self._locks[key] = _Lock(COOLDOWN, now + cooldown)
        else:
            del self._locks[key]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _settled(self, key: str, seen: float | None) -> bool:
        now = self._clock()
        entry = self._entry(key, now)
        if entry is not None and (seen is None or entry.fetched_at > seen):
            return True
        lock = self._lock(key, now)
        return lock is None or lock.token == COOLDOWN

    async def wait(self, key: str, seen: float | None, within: float) -> None:
        if within <= 0:
            return
        # Locks also end by expiring, which notifies nobody: wake up at least every 50 ms.
        deadline = time.monotonic() + within
        async with self._changed:
            while not self._settled(key, seen):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    async def now(self) -> float:
        return self._clock()

    async def flush(self, prefix: str, scope: str | None = None, rpc: str | None = None) -> int:
        pattern = key_pattern(prefix, scope, rpc)
        now = self._clock()
        doomed = [k for k in self._entries if fnmatch.fnmatchcase(k, pattern)]
        deleted = sum(1 for k in doomed if self._entry(k, now) is not None)
        for key in doomed:
            self._entries.pop(key, None)
        for key in [k for k in self._locks if fnmatch.fnmatchcase(k, pattern)]:
            del self._locks[key]
        await self._notify()
        return deleted

    async def close(self) -> None:
        return None
