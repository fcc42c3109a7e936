"""The Redis cache store: answers shared by every replica of the app.

Each operation is one Lua script (EVALSHA, reloaded on NOSCRIPT) over the entry key and its lock,
which share a {hash tag} so the scripts run on Cluster. Times come from the server's clock
(`TIME`), in microseconds. The lease is `SET lock token NX PX`-style inside the acquire script,
which also refuses the lease when a newer answer arrived since the caller looked; release is a
compare-and-delete, so a caller never drops a lease that expired and went to someone else.

Waiting callers of one process share one poller per key, so a burst of callers costs a few
Redis reads per poll, not one per caller.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from sidecar.cache.freshness import Contention
from sidecar.cache.store import (
    Acquired,
    Entry,
    Lease,
    Snapshot,
    key_pattern,
    lock_key,
)
from sidecar.redis_connection import Redis, translate_errors
from sidecar.store_base import StoreUnavailable
from sidecar.tasks import stop_task

COOLDOWN = b"!cooldown"
_US = 1_000_000

_GET = """
local t = redis.call('TIME')
local v = redis.call('HMGET', KEYS[1], 't', 'd', 'g')
return {t[1], t[2], v[1], v[2], v[3]}
"""

# KEYS: entry, lock. ARGV: seen (microseconds, '' for none), lease ms, token.
_ACQUIRE = """
local t = redis.call('TIME')
local fetched = tonumber(redis.call('HGET', KEYS[1], 't'))
if fetched and (ARGV[1] == '' or fetched > tonumber(ARGV[1])) then
  return {'changed', t[1], t[2]}
end
local lock = redis.call('GET', KEYS[2])
if lock then
  if lock == '!cooldown' then return {'cooldown', t[1], t[2]} end
  return {'held', t[1], t[2]}
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return {'acquired', t[1], t[2]}
"""

# KEYS: entry, lock. ARGV: fetched_at (us), data, degraded, expires at (us), token or ''.
_PUT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local stored = 0
local current = tonumber(redis.call('HGET', KEYS[1], 't'))
local expires = tonumber(ARGV[4])
if (not current or current <= tonumber(ARGV[1])) and expires > now then
  redis.call('HSET', KEYS[1], 't', ARGV[1], 'd', ARGV[2], 'g', ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], math.floor(expires / 1000))
  stored = 1
end
if ARGV[5] ~= '' and redis.call('GET', KEYS[2]) == ARGV[5] then
  redis.call('DEL', KEYS[2])
end
return stored
"""

# KEYS: lock. ARGV: token, cooldown ms (0: none).
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], '!cooldown', 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""

# KEYS: entry, lock.
_PEEK = """
return {redis.call('HGET', KEYS[1], 't'), redis.call('GET', KEYS[2])}
"""


def _seconds(whole: Any, micros: Any) -> float:
    return int(whole) + int(micros) / _US


def _us(seconds: float) -> int:
    return round(seconds * _US)


class _Watch:
    """One poller of a key's state, shared by the callers of this process waiting on it."""

    def __init__(self) -> None:
        self.changed = asyncio.Condition()
        self.fetched: float | None = None
        self.refreshing = True
        self.failed = False
        self.polls = 0
        self.waiters = 0
        self.task: asyncio.Task[None] | None = None

    def settled(self, seen: float | None) -> bool:
        if self.failed:
            return True  # the caller finds out from its next store call
        if not self.polls:
            return False
        newer = self.fetched is not None and (seen is None or self.fetched > seen)
        return newer or not self.refreshing


class RedisStore:
    def __init__(
        self,
        client: Redis,
        *,
        poll_min: float = 0.002,
        poll_max: float = 0.05,
        owns_client: bool = True,
    ) -> None:
        self._client = client
        self._owns_client = owns_client  # a client shared with other steps is closed by them
        self._poll_min = poll_min
        self._poll_max = poll_max
        self._get = client.register_script(_GET)
        self._acquire = client.register_script(_ACQUIRE)
        self._put = client.register_script(_PUT)
        self._release = client.register_script(_RELEASE)
        self._peek = client.register_script(_PEEK)
        self._watches: dict[str, _Watch] = {}

    async def _run(self, script: Callable[..., Any], keys: list[str], args: list[Any]) -> Any:
        with translate_errors():
            return await script(keys=keys, args=args)

    async def get(self, key: str) -> Snapshot:
        reply = await self._run(self._get, [key], [])
        now = _seconds(reply[0], reply[1])
        fetched, data, degraded = reply[2], reply[3], reply[4]
        if fetched is None or data is None:
            return Snapshot(None, now)
        entry = Entry(bytes(data), int(fetched) / _US, degraded == b"1")
        return Snapshot(entry, now)

    async def acquire(self, key: str, seen: float | None, ttl: float) -> Acquired:
        token = secrets.token_hex(16)
        seen_arg = "" if seen is None else str(_us(seen))
        reply = await self._run(
            self._acquire,
            [key, lock_key(key)],
            [seen_arg, max(1, round(ttl * 1000)), token],
        )
        outcome = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if outcome == "acquired":
            return Acquired(Lease(token, _seconds(reply[1], reply[2])))
        return Acquired(None, Contention(outcome))

    async def put(self, key: str, entry: Entry, keep_for: float, lease: Lease | None) -> bool:
        fetched = _us(entry.fetched_at)
        stored = await self._run(
            self._put,
            [key, lock_key(key)],
            [
                fetched,
                entry.data,
                "1" if entry.degraded else "0",
                fetched + _us(keep_for),
                "" if lease is None else lease.token,
            ],
        )
        return bool(stored)

    async def release(self, key: str, lease: Lease, cooldown: float = 0.0) -> None:
        await self._run(
            self._release, [lock_key(key)], [lease.token, max(0, round(cooldown * 1000))]
        )

    async def wait(self, key: str, seen: float | None, within: float) -> None:
        if within <= 0:
            return
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch()
            watch.task = asyncio.create_task(self._poll(key, watch))
        watch.waiters += 1
        try:
            async with watch.changed:
                await asyncio.wait_for(watch.changed.wait_for(lambda: watch.settled(seen)), within)
        except TimeoutError:
            pass
        finally:
            watch.waiters -= 1
            if watch.waiters == 0 and self._watches.get(key) is watch:
                del self._watches[key]
                if watch.task is not None:
                    watch.task.cancel()

    async def _poll(self, key: str, watch: _Watch) -> None:
        delay = self._poll_min
        while True:
            try:
                with translate_errors():
                    fetched, lock = await self._peek(keys=[key, lock_key(key)])
            except StoreUnavailable:
                watch.failed = True
            else:
                watch.fetched = None if fetched is None else int(fetched) / _US
                watch.refreshing = lock is not None and bytes(lock) != COOLDOWN
            watch.polls += 1
            async with watch.changed:
                watch.changed.notify_all()
            if watch.failed:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._poll_max)

    async def now(self) -> float:
        with translate_errors():
            whole, micros = await self._client.time()
        return _seconds(whole, micros)

    async def flush(self, prefix: str, scope: str | None = None, rpc: str | None = None) -> int:
        deleted = 0
        batch: list[bytes] = []
        with translate_errors():
            async for key in self._client.scan_iter(
                match=key_pattern(prefix, scope, rpc), count=500
            ):
                batch.append(key)
                if not key.endswith(b":lock"):
                    deleted += 1
                if len(batch) >= 500:
                    await self._unlink(batch)
                    batch = []
            if batch:
                await self._unlink(batch)
        return deleted

    async def _unlink(self, keys: list[bytes]) -> None:
        # One key at a time on Cluster would be slow; UNLINK splits across slots there.
        await self._client.unlink(*keys)

    async def close(self) -> None:
        for watch in list(self._watches.values()):
            await stop_task(watch.task)
        self._watches.clear()
        if self._owns_client:
            await self._client.aclose()
