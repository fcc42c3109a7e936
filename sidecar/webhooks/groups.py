"""A consumer-group member: takes a share of the group's events, at most `max_in_flight`
unacknowledged at a time, and claims events other members left unacknowledged for longer
than the visibility timeout.

Whatever the log: Redis (members on any replica) or memory. The member polls for expired
events every `claim_interval`, and wakes at once when the tail sees new events or a local Ack
frees room.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import tracing
from sidecar.webhooks.buffer import Signal
from sidecar.webhooks.events import Delivery, EventId
from sidecar.webhooks.log import EventLog

log = logging.getLogger(__name__)


def default_consumer() -> str:
    return f"{socket.gethostname()}-{secrets.token_hex(4)}"


def claim_interval(visibility_ms: int) -> float:
    """How often a member looks for expired events: a quarter of the timeout, 50 ms .. 1 s."""
    return min(1.0, max(0.05, visibility_ms / 4000))


@dataclass
class GroupMember:
    event_log: EventLog
    signal: Signal
    group: str
    consumer: str
    visibility_ms: int
    max_in_flight: int
    # Events that are not for this member's filters: acknowledged on its behalf.
    wanted: Callable[[Delivery], bool] = lambda _d: True
    closed: Callable[[], bool] = lambda: False
    in_flight: set[EventId] = field(default_factory=set)

    async def join(self, start: EventId | None) -> None:
        created = await self.event_log.create_group(self.group, start)
        if created:
            log.info("consumer group created", extra={"group": self.group, "start": str(start)})
            return
        # A member reconnecting under its old name: what it had not acknowledged before the
        # disconnect goes back to the group now rather than after the visibility timeout.
        pending = await self.event_log.pending(self.group, self.consumer, 10_000)
        if pending:
            await self.event_log.release(self.group, pending)

    def acknowledged(self, ids: list[EventId]) -> None:
        self.in_flight.difference_update(ids)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        delay = 0.1
        while not self.closed():
            version = self.signal.version
            try:
                # Polling every second would fill the stream's trace with Redis spans.
                with tracing.untraced():
                    batch = await self._take()
                    skipped = {d.event.id for d in batch if not self.wanted(d)}
                    if skipped:
                        await self.event_log.ack(self.group, list(skipped))
            except StoreUnavailable as exc:
                log.warning("webhook log unavailable; retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            if not batch:
                await self.signal.wait(version, claim_interval(self.visibility_ms))
                continue
            for delivery in batch:
                if delivery.event.id in skipped:
                    continue
                self.in_flight.add(delivery.event.id)
                yield delivery

    async def _take(self) -> list[Delivery]:
        budget = self.max_in_flight - len(self.in_flight)
        if budget <= 0:
            # Acks may have reached another replica: the log knows what is still pending.
            self.in_flight = set(
                await self.event_log.pending(self.group, self.consumer, self.max_in_flight)
            )
            budget = self.max_in_flight - len(self.in_flight)
            if budget <= 0:
                return []
        claimed = await self.event_log.claim_expired(
            self.group, self.consumer, self.visibility_ms, budget
        )
        if claimed.lost:
            log.warning(
                "events removed by retention before the group acknowledged them",
                extra={"group": self.group, "lost": [str(i) for i in claimed.lost]},
            )
        batch = list(claimed.deliveries)
        if len(batch) < budget:
            batch += await self.event_log.read_group(self.group, self.consumer, budget - len(batch))
        return batch

    async def leave(self) -> None:
        """Hands this member's unacknowledged events back to the group at once."""
        try:
            pending = await self.event_log.pending(self.group, self.consumer, 10_000)
            if pending:
                await self.event_log.release(self.group, pending)
            await self.event_log.remove_consumer(self.group, self.consumer)
        except StoreUnavailable:
            pass  # they return to the group after the visibility timeout anyway
        self.signal.notify()
