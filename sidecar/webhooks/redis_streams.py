"""The event log on a Redis Stream: durable, and shared by every replica of the sidecar.

Keys share one hash tag, so every script runs unchanged on Cluster:

    {ns}:events        the stream (ids assigned by Redis: `<ms>-<seq>`)
    {ns}:horizon       the newest id removed by retention (gap detection)
    {ns}:seen:<key>    dedupe records, value = the event id, with a TTL
    {ns}:lock:<name>   leases for periodic jobs
    {ns}:lease:<name>  leases with an owner, renewed by their holder (the webhook relay)
    {ns}:open          invoices created through the sidecar and not yet settled (sorted set,
                       score = when the reconciliation sweep last checked them)

Appends trim the stream themselves (XTRIM MINID in the append script) so that the horizon is
exact: Redis' own `max-deleted-entry-id` only tracks XDEL, not trimming. Blocking reads
(`wait_after`) use a client of their own so they never hold a pooled connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError, ResponseError

from sidecar.redis_connection import Redis, connect, translate_errors
from sidecar.secrets import Secret
from sidecar.store_base import StoreUnavailable
from sidecar.webhooks.events import (
    ZERO,
    Delivery,
    Event,
    EventId,
    EventRecord,
    decode,
    encode,
)
from sidecar.webhooks.log import Appended, Claimed, CursorExpired

# A pending event released by a member is parked under this consumer, idle for a week, so
# that the next XAUTOCLAIM of any member takes it whatever its visibility timeout.
RELEASED_CONSUMER = "~released"
RELEASED_IDLE_MS = 7 * 24 * 3600 * 1000
# Trim at most this many entries per append, so a lowered retention never stalls Redis.
MAX_TRIM = 1000
# An answer to ingest must come fast: retry a dropped connection once, briefly.
_FAST_RETRY = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=1)
# Appends in flight at once on this replica. A burst beyond it waits its turn here instead of
# asking the connection pool for more connections than it has (which fails at once: a 503
# although Redis is fine). Redis runs scripts one at a time anyway, so more would not be faster.
APPEND_SLOTS = 32
# The longest an append waits for a slot: past it the sidecar is saturated (or Redis so slow
# that the slots do not free up), and a 503 makes Crypto Pay deliver again later.
APPEND_QUEUE_SECONDS = 5.0
# The pool holds the append slots and room for the other commands (reads, groups, sweeps).
POOL_CONNECTIONS = APPEND_SLOTS + 32

APPEND = """
local seen = redis.call('GET', KEYS[3])
if seen then return {0, seen} end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('SET', KEYS[3], id, 'PX', ARGV[1])
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2])
if excess >= tonumber(ARGV[3]) then
  local n = math.min(excess, MAX_TRIM)
  local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', n + 1)
  redis.call('XTRIM', KEYS[1], 'MINID', old[n + 1][1])
  redis.call('SET', KEYS[2], old[n][1])
end
return {1, id}
""".replace("MAX_TRIM", str(MAX_TRIM))

READ = """
local horizon = redis.call('GET', KEYS[2]) or '0-0'
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
return {horizon, entries}
"""

# Takes the least recently checked invoices and marks them checked now, atomically, so that
# replicas sweeping at the same time do not check the same invoices.
TAKE_TRACKED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', now, id) end
return ids
"""

REMOVE_CONSUMER = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""

# Take a free lease, or extend one's own; the value is the owner.
HOLD_LEASE = """
local owner = redis.call('GET', KEYS[1])
if owner == false or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

DROP_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _id(value: Any) -> EventId:
    return EventId.parse(value if isinstance(value, bytes | str) else str(value))


def _events(entries: Any) -> list[Event]:
    out = []
    for raw_id, fields in entries or ():
        if fields is None:  # an entry deleted while pending (XREADGROUP with an old id)
            continue
        if isinstance(fields, list):  # replies from scripts are flat lists
            fields = dict(zip(fields[::2], fields[1::2], strict=True))
        # An entry that cannot be read in full is still delivered, saying what is missing
        # (decode never fails): skipping it would lose it, failing would stop the stream.
        out.append(Event(_id(raw_id), decode(fields)))
    return out


class RedisEventLog:
    def __init__(self, url: Secret, namespace: str, retention: int, block_seconds: float = 2.0):
        if retention < 1:
            raise ValueError("retention must be at least 1 event")
        self._client: Redis = connect(url, retry=_FAST_RETRY, max_connections=POOL_CONNECTIONS)
        self._append_slots = asyncio.Semaphore(APPEND_SLOTS)
        # Blocking reads wait up to block_seconds; the socket must outlive them.
        self._blocking: Redis = connect(url, traced=False, socket_timeout=block_seconds + 5.0)
        self._block_seconds = block_seconds
        tag = "{" + namespace + "}"
        self.stream = f"{tag}:events"
        self._horizon_key = f"{tag}:horizon"
        self._seen_prefix = f"{tag}:seen:"
        self._lock_prefix = f"{tag}:lock:"
        self._lease_prefix = f"{tag}:lease:"
        self._open_key = f"{tag}:open"
        self._retention = retention
        self._slack = max(1, min(MAX_TRIM, retention // 100))
        self._append = self._client.register_script(APPEND)
        self._read = self._client.register_script(READ)
        self._remove_consumer = self._client.register_script(REMOVE_CONSUMER)
        self._take_tracked = self._client.register_script(TAKE_TRACKED)
        self._hold_lease = self._client.register_script(HOLD_LEASE)
        self._drop_lease = self._client.register_script(DROP_LEASE)

    async def append(self, record: EventRecord, dedupe_key: str, dedupe_ttl_ms: int) -> Appended:
        args: list[Any] = [max(1, dedupe_ttl_ms), self._retention, self._slack]
        for name, value in encode(record).items():
            args.extend((name, value))
        keys = [self.stream, self._horizon_key, self._seen_prefix + dedupe_key]
        try:
            async with asyncio.timeout(APPEND_QUEUE_SECONDS):
                await self._append_slots.acquire()
        except TimeoutError:
            raise StoreUnavailable(
                f"no append slot free within {APPEND_QUEUE_SECONDS:g} s (saturated)"
            ) from None
        try:
            with translate_errors():
                added, event_id = await self._append(keys=keys, args=args)
        finally:
            self._append_slots.release()
        return Appended(_id(event_id), duplicate=not added)

    async def read_after(self, after: EventId, limit: int) -> list[Event]:
        with translate_errors():
            horizon, entries = await self._read(
                keys=[self.stream, self._horizon_key], args=[str(after), limit]
            )
        horizon_id = _id(horizon)
        if horizon_id > after:
            raise CursorExpired(after, horizon_id)
        return _events(entries)

    async def horizon(self) -> EventId:
        with translate_errors():
            value = await self._client.get(self._horizon_key)
        return ZERO if value is None else _id(value)

    async def last_id(self) -> EventId:
        with translate_errors():
            entries = await self._client.xrevrange(self.stream, count=1)
        return _id(entries[0][0]) if entries else ZERO

    async def wait_after(self, after: EventId, wait_seconds: float, limit: int) -> list[Event]:
        block_ms = max(1, int(min(wait_seconds, self._block_seconds) * 1000))
        with translate_errors():
            reply: Any = await self._blocking.xread(
                {self.stream: str(after)}, count=limit, block=block_ms
            )
        if not reply:
            return []
        if isinstance(reply, dict):  # RESP3
            return _events(next(iter(reply.values()), [[]])[0])
        return _events(reply[0][1])

    # --- consumer groups ------------------------------------------------------------------
    # Redis refusing a group command says why (NOGROUP: the group or the stream is gone,
    # BUSYGROUP: it exists); those are answers, any other refusal is passed on as it reads.

    async def create_group(self, group: str, start: EventId | None) -> bool:
        with translate_errors():
            try:
                await self._client.xgroup_create(
                    self.stream, group, "$" if start is None else str(start), mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" in str(exc):
                    return False
                raise _refused(exc) from exc
        return True

    async def read_group(self, group: str, consumer: str, count: int) -> list[Delivery]:
        with translate_errors():
            for _ in range(2):
                try:
                    reply = await self._client.xreadgroup(
                        group, consumer, {self.stream: ">"}, count=count
                    )
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise _refused(exc) from exc
                    # The stream was wiped (Redis restarted without persistence): every event
                    # in it now is new to the group.
                    await self.create_group(group, ZERO)
                    continue
                if not reply:
                    return []
                entries = next(iter(reply.values()))[0] if isinstance(reply, dict) else reply[0][1]
                return [Delivery(event, 1) for event in _events(entries)]
        return []

    async def claim_expired(
        self, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> Claimed:
        deliveries: list[Delivery] = []
        lost: list[EventId] = []
        cursor = "0-0"
        with translate_errors():
            try:
                # XAUTOCLAIM scans at most 10 * count pending entries per call; a few calls
                # cover a long pending list without one unbounded call.
                for _ in range(8):
                    reply = await self._client.xautoclaim(
                        self.stream,
                        group,
                        consumer,
                        min_idle_ms,
                        cursor,
                        count=count - len(deliveries),
                    )
                    cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
                    claimed = _events(reply[1])
                    lost.extend(_id(i) for i in (reply[2] if len(reply) > 2 else ()))
                    if claimed:
                        attempts = await self._attempts(group, consumer, claimed)
                        deliveries.extend(Delivery(e, attempts.get(e.id, 2)) for e in claimed)
                    if cursor == "0-0" or len(deliveries) >= count:
                        break
                if lost:
                    await self._client.xack(self.stream, group, *(str(i) for i in lost))
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    return Claimed([], [])
                raise _refused(exc) from exc
        return Claimed(deliveries, lost)

    async def _attempts(self, group: str, consumer: str, events: list[Event]) -> dict[EventId, int]:
        rows = await self._client.xpending_range(
            self.stream,
            group,
            min=str(events[0].id),
            max=str(events[-1].id),
            count=len(events) * 2,
            consumername=consumer,
        )
        return {_id(row["message_id"]): int(row["times_delivered"]) for row in rows}

    async def pending(self, group: str, consumer: str, limit: int) -> list[EventId]:
        with translate_errors():
            try:
                rows = await self._client.xpending_range(
                    self.stream, group, min="-", max="+", count=limit, consumername=consumer
                )
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    return []
                raise _refused(exc) from exc
        return [_id(row["message_id"]) for row in rows]

    async def ack(self, group: str, ids: Sequence[EventId]) -> int:
        if not ids:
            return 0
        with translate_errors():
            try:
                return int(await self._client.xack(self.stream, group, *(str(i) for i in set(ids))))
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    return 0
                raise _refused(exc) from exc

    async def release(self, group: str, ids: Sequence[EventId]) -> int:
        if not ids:
            return 0
        with translate_errors():
            try:
                claimed = await self._client.xclaim(
                    self.stream,
                    group,
                    RELEASED_CONSUMER,
                    min_idle_time=0,
                    message_ids=[str(i) for i in set(ids)],
                    idle=RELEASED_IDLE_MS,
                    justid=True,
                )
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    return 0
                raise _refused(exc) from exc
        return len(claimed)

    async def remove_consumer(self, group: str, consumer: str) -> None:
        # Best effort: an idle member with nothing pending costs nothing.
        with contextlib.suppress(StoreUnavailable), translate_errors():
            await self._remove_consumer(keys=[self.stream], args=[group, consumer])

    async def track(self, invoice_ids: Sequence[int]) -> None:
        if not invoice_ids:
            return
        with translate_errors():
            # Score 0: a new invoice is checked before the ones already checked.
            await self._client.zadd(
                self._open_key, dict.fromkeys(map(str, invoice_ids), 0), nx=True
            )

    async def tracked(self, limit: int) -> list[int]:
        with translate_errors():
            ids = await self._take_tracked(keys=[self._open_key], args=[limit])
        return [int(i) for i in ids]

    async def untrack(self, invoice_ids: Sequence[int]) -> None:
        if not invoice_ids:
            return
        with translate_errors():
            await self._client.zrem(self._open_key, *map(str, invoice_ids))

    async def try_lock(self, name: str, ttl_ms: int) -> bool:
        with translate_errors():
            return bool(await self._client.set(self._lock_prefix + name, b"1", nx=True, px=ttl_ms))

    async def hold_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        with translate_errors():
            held = await self._hold_lease(
                keys=[self._lease_prefix + name], args=[owner, max(1, ttl_ms)]
            )
        return bool(held)

    async def drop_lease(self, name: str, owner: str) -> None:
        with translate_errors():
            await self._drop_lease(keys=[self._lease_prefix + name], args=[owner])

    async def close(self) -> None:
        for client in (self._blocking, self._client):
            with contextlib.suppress(RedisError):
                await client.aclose()


def _refused(exc: ResponseError) -> StoreUnavailable:
    """A command Redis refused, passed on with the server's reply: it says why."""
    return StoreUnavailable(f"redis: {exc}")
