"""In-process hand-off between the tail and the subscribers: bounded, never blocking the tail.

A live subscriber gets events pushed into its own bounded buffer. If it falls behind and the
buffer would overflow, the buffer is dropped and the subscriber is told to catch up from the
log instead: a slow subscriber costs memory for at most `capacity` events, and never slows
ingest, the tail or the other subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import deque
from collections.abc import Sequence

from sidecar.webhooks.events import Event


class Signal:
    """Wakes every waiter. A notify between reading `version` and waiting is not lost."""

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def notify(self) -> None:
        self.version += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seen_version: int, seconds: float) -> None:
        """Returns when notified after `seen_version`, or after `seconds`."""
        if self.version != seen_version:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)


class Interrupt(enum.Enum):
    OVERFLOW = "overflow"  # events were dropped: read them from the log
    CLOSED = "closed"  # the sidecar is shutting down


class SubscriberBuffer:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._events: deque[Event] = deque()
        self._overflowed = False
        self._closed = False
        self._ready = asyncio.Event()

    def push(self, events: Sequence[Event]) -> bool:
        """Hands over events; True if this push made the buffer overflow."""
        if self._closed or self._overflowed:
            return False  # the subscriber reads the log anyway
        overflow = len(self._events) + len(events) > self.capacity
        if overflow:
            self._events.clear()
            self._overflowed = True
        else:
            self._events.extend(events)
        self._ready.set()
        return overflow

    def overflow(self) -> None:
        """Forces the subscriber back to the log (e.g. the tail itself fell behind)."""
        if not self._closed:
            self._events.clear()
            self._overflowed = True
            self._ready.set()

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    async def get(self) -> list[Event] | Interrupt:
        await self._ready.wait()
        if self._closed:
            return Interrupt.CLOSED
        self._ready.clear()
        if self._overflowed:
            self._overflowed = False
            return Interrupt.OVERFLOW
        events = list(self._events)
        self._events.clear()
        return events
