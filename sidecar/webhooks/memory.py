"""The in-memory event log: a ring buffer for demo mode and single-process use.

Same semantics as the Redis Stream log (one contract suite tests both), but nothing survives
a restart and other processes cannot see it.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sidecar.store_base import Clock
from sidecar.webhooks.events import ZERO, Delivery, Event, EventId, EventRecord, next_id
from sidecar.webhooks.log import Appended, Claimed, CursorExpired


@dataclass(slots=True)
class _Pending:
    consumer: str
    delivered_ms: int
    count: int


@dataclass(slots=True)
class _Group:
    last_delivered: EventId
    pending: dict[EventId, _Pending] = field(default_factory=dict)
    consumers: set[str] = field(default_factory=set)


class MemoryEventLog:
    def __init__(self, retention: int, *, clock: Clock = time.time) -> None:
        if retention < 1:
            raise ValueError("retention must be at least 1 event")
        self._retention = retention
        # Trim in chunks so an append is O(1) amortized, like Redis' `MAXLEN ~`.
        self._slack = max(1, min(1000, retention // 100))
        self._clock = clock
        self._events: list[Event] = []
        self._last = ZERO
        self._horizon = ZERO
        self._seen: dict[str, tuple[EventId, int]] = {}
        self._expiry: list[tuple[int, str]] = []
        self._groups: dict[str, _Group] = {}
        self._locks: dict[str, int] = {}
        self._leases: dict[str, tuple[str, int]] = {}  # name -> (owner, expires ms)
        self._tracked: dict[int, int] = {}  # invoice id -> when last checked (ms)
        self._changed = asyncio.Event()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # --- appending ------------------------------------------------------------------------

    async def append(self, record: EventRecord, dedupe_key: str, dedupe_ttl_ms: int) -> Appended:
        now = self._now_ms()
        self._forget_expired(now)
        seen = self._seen.get(dedupe_key)
        if seen is not None:
            return Appended(seen[0], duplicate=True)
        event_id = next_id(self._last, now)
        self._last = event_id
        self._events.append(Event(event_id, record))
        self._seen[dedupe_key] = (event_id, now + dedupe_ttl_ms)
        heapq.heappush(self._expiry, (now + dedupe_ttl_ms, dedupe_key))
        if len(self._events) >= self._retention + self._slack:
            cut = len(self._events) - self._retention
            self._horizon = self._events[cut - 1].id
            del self._events[:cut]
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        return Appended(event_id, duplicate=False)

    def _forget_expired(self, now: int) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            expires, key = heapq.heappop(self._expiry)
            if key in self._seen and self._seen[key][1] == expires:
                del self._seen[key]

    # --- reading --------------------------------------------------------------------------

    def _index_after(self, after: EventId) -> int:
        return bisect.bisect_right(self._events, after, key=lambda e: e.id)

    def _find(self, event_id: EventId) -> Event | None:
        i = bisect.bisect_left(self._events, event_id, key=lambda e: e.id)
        if i < len(self._events) and self._events[i].id == event_id:
            return self._events[i]
        return None

    async def read_after(self, after: EventId, limit: int) -> list[Event]:
        if self._horizon > after:
            raise CursorExpired(after, self._horizon)
        start = self._index_after(after)
        return self._events[start : start + limit]

    async def horizon(self) -> EventId:
        return self._horizon

    async def last_id(self) -> EventId:
        return self._last

    async def wait_after(self, after: EventId, wait_seconds: float, limit: int) -> list[Event]:
        if self._last <= after:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), wait_seconds)
            except TimeoutError:
                return []
        start = self._index_after(after)
        return self._events[start : start + limit]

    # --- consumer groups ------------------------------------------------------------------

    async def create_group(self, group: str, start: EventId | None) -> bool:
        if group in self._groups:
            return False
        self._groups[group] = _Group(self._last if start is None else start)
        return True

    def _group(self, group: str) -> _Group:
        state = self._groups.get(group)
        if state is None:  # vanished (never happens in memory, kept for parity with Redis)
            state = self._groups[group] = _Group(ZERO)
        return state

    async def read_group(self, group: str, consumer: str, count: int) -> list[Delivery]:
        state = self._group(group)
        state.consumers.add(consumer)
        start = self._index_after(state.last_delivered)
        batch = self._events[start : start + count]
        now = self._now_ms()
        for event in batch:
            state.pending[event.id] = _Pending(consumer, now, 1)
        if batch:
            state.last_delivered = batch[-1].id
        return [Delivery(event, 1) for event in batch]

    async def claim_expired(
        self, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> Claimed:
        state = self._group(group)
        state.consumers.add(consumer)
        now = self._now_ms()
        deliveries: list[Delivery] = []
        lost: list[EventId] = []
        for event_id in sorted(state.pending):
            if len(deliveries) >= count:
                break
            entry = state.pending[event_id]
            if now - entry.delivered_ms < min_idle_ms:
                continue
            event = self._find(event_id)
            if event is None:
                del state.pending[event_id]
                lost.append(event_id)
                continue
            entry.consumer, entry.delivered_ms, entry.count = consumer, now, entry.count + 1
            deliveries.append(Delivery(event, entry.count))
        return Claimed(deliveries, lost)

    async def pending(self, group: str, consumer: str, limit: int) -> list[EventId]:
        state = self._groups.get(group)
        if state is None:
            return []
        mine = [i for i, p in sorted(state.pending.items()) if p.consumer == consumer]
        return mine[:limit]

    async def ack(self, group: str, ids: Sequence[EventId]) -> int:
        state = self._groups.get(group)
        if state is None:
            return 0
        return sum(state.pending.pop(i, None) is not None for i in set(ids))

    async def release(self, group: str, ids: Sequence[EventId]) -> int:
        state = self._groups.get(group)
        if state is None:
            return 0
        released = 0
        for event_id in set(ids):
            entry = state.pending.get(event_id)
            if entry is not None:
                entry.delivered_ms = -(2**62)  # idle "forever": claimable by any member
                released += 1
        return released

    async def remove_consumer(self, group: str, consumer: str) -> None:
        state = self._groups.get(group)
        if state is not None and not any(p.consumer == consumer for p in state.pending.values()):
            state.consumers.discard(consumer)

    async def track(self, invoice_ids: Sequence[int]) -> None:
        for invoice_id in invoice_ids:
            self._tracked.setdefault(invoice_id, 0)  # never checked: first in line

    async def tracked(self, limit: int) -> list[int]:
        now = self._now_ms()
        oldest = sorted(self._tracked, key=lambda i: (self._tracked[i], i))[:limit]
        for invoice_id in oldest:
            self._tracked[invoice_id] = now
        return oldest

    async def untrack(self, invoice_ids: Sequence[int]) -> None:
        for invoice_id in invoice_ids:
            self._tracked.pop(invoice_id, None)

    async def try_lock(self, name: str, ttl_ms: int) -> bool:
        now = self._now_ms()
        if self._locks.get(name, 0) > now:
            return False
        self._locks[name] = now + ttl_ms
        return True

    async def hold_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        now = self._now_ms()
        holder = self._leases.get(name)
        if holder is not None and holder[0] != owner and holder[1] > now:
            return False
        self._leases[name] = (owner, now + ttl_ms)
        return True

    async def drop_lease(self, name: str, owner: str) -> None:
        holder = self._leases.get(name)
        if holder is not None and holder[0] == owner:
            del self._leases[name]

    async def close(self) -> None:
        return None
