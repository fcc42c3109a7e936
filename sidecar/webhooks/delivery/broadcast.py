"""A broadcast subscription: every event after a cursor, in order, no gap, no duplicate.

It reads the log from its cursor until it has caught up, then follows the tail's pushes. The
buffer is registered before catching up, so an event appended meanwhile is either read from
the log or pushed (or both: anything at or before the cursor is skipped). On overflow it goes
back to the log. Retention overtaking the cursor raises CursorExpired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from sidecar.store_base import StoreUnavailable
from sidecar.webhooks.buffer import Interrupt
from sidecar.webhooks.events import Event, EventId
from sidecar.webhooks.log import EventLog
from sidecar.webhooks.tail import Tail

log = logging.getLogger(__name__)

PAGE = 100


async def read_after(event_log: EventLog, after: EventId, limit: int) -> list[Event]:
    """read_after that waits out an unavailable log (the stream stays open meanwhile)."""
    delay = 0.1
    while True:
        try:
            return await event_log.read_after(after, limit)
        except StoreUnavailable as exc:
            log.warning("webhook log unavailable; retrying", extra={"error": str(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def subscribe(
    event_log: EventLog, tail: Tail, after: EventId | None, capacity: int
) -> AsyncIterator[Event]:
    """Events after `after` (None: from now on) until the tail closes."""
    buffer = tail.subscribe(capacity)
    try:
        cursor = after if after is not None else await event_log.last_id()
        catching_up = True
        while True:
            if catching_up:
                events = await read_after(event_log, cursor, PAGE)
                if not events:
                    catching_up = False
                for event in events:
                    yield event
                    cursor = event.id
                continue
            pushed = await buffer.get()
            if pushed is Interrupt.CLOSED:
                return
            if pushed is Interrupt.OVERFLOW:
                catching_up = True
                continue
            for event in pushed:
                if event.id > cursor:
                    yield event
                    cursor = event.id
    finally:
        tail.unsubscribe(buffer)
