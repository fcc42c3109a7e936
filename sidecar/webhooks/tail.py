"""The tail: one blocking reader of the event log per process.

It follows the log (a Redis Stream shared by every replica, so it sees events that any
replica received) and hands each batch to the live subscribers' buffers, then wakes the
consumer-group members. One tail per process keeps one blocking Redis connection per process,
however many subscribers are connected.
"""

from __future__ import annotations

import asyncio
import logging

from sidecar.store_base import StoreUnavailable
from sidecar.tasks import stop_task
from sidecar.telemetry import tracing
from sidecar.webhooks.buffer import Signal, SubscriberBuffer
from sidecar.webhooks.events import ZERO, EventId
from sidecar.webhooks.log import EventLog

log = logging.getLogger(__name__)

BATCH = 500


class Tail:
    def __init__(self, event_log: EventLog, wait_seconds: float = 2.0) -> None:
        self._log = event_log
        self._wait = wait_seconds
        self._buffers: set[SubscriberBuffer] = set()
        self._task: asyncio.Task[None] | None = None
        self.position = ZERO
        # Notified after every batch, and on shutdown: group members wait on it.
        self.signal = Signal()
        self.closed = False
        # Subscribers sent back to the log because they fell behind (for metrics and tests).
        self.overflows = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-tail")

    def subscribe(self, capacity: int) -> SubscriberBuffer:
        buffer = SubscriberBuffer(capacity)
        if self.closed:
            buffer.close()
        self._buffers.add(buffer)
        return buffer

    def unsubscribe(self, buffer: SubscriberBuffer) -> None:
        self._buffers.discard(buffer)

    async def _start_position(self) -> EventId:
        delay = 0.1
        while True:
            try:
                return await self._log.last_id()
            except StoreUnavailable as exc:
                log.warning("webhook log unavailable; retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _run(self) -> None:
        with tracing.untraced():  # a blocking read every few seconds is not a trace
            await self._follow()

    async def _follow(self) -> None:
        self.position = await self._start_position()
        delay = 0.1
        while True:
            try:
                events = await self._log.wait_after(self.position, self._wait, BATCH)
                if events and await self._log.horizon() > self.position:
                    # The tail itself fell behind retention: let every subscriber find out
                    # from the log exactly what it missed.
                    for buffer in self._buffers:
                        buffer.overflow()
            except StoreUnavailable as exc:
                log.warning("webhook log unavailable; retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            except Exception:
                # Every live subscriber depends on this loop: never let it die.
                log.exception("webhook tail failed; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            if not events:
                continue
            self.position = events[-1].id
            for buffer in list(self._buffers):
                self.overflows += buffer.push(events)
            self.signal.notify()

    async def stop(self) -> None:
        self.closed = True
        for buffer in self._buffers:
            buffer.close()
        self.signal.notify()
        await stop_task(self._task)
