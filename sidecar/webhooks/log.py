"""The event log: where verified events are appended durably and read back in order.

Two implementations pass one contract suite (tests/contract/test_event_log.py): a ring
buffer in memory (demo mode, one process) and a Redis Stream (durable, shared by replicas).

Broadcast readers use `read_after` (catch-up) and `wait_after` (the one blocking tail per
process). Consumer groups share the work: each event goes to one member, stays pending until
acknowledged, and is claimed again by any member once it has been pending longer than the
visibility timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sidecar.store_base import Store
from sidecar.webhooks.events import Delivery, Event, EventId, EventRecord


class CursorExpired(Exception):
    """Events after the cursor were removed by retention: reading on would skip them."""

    def __init__(self, after: EventId, horizon: EventId) -> None:
        super().__init__(f"events after {after} up to {horizon} are no longer retained")
        self.after = after
        self.horizon = horizon


@dataclass(frozen=True, slots=True)
class Appended:
    id: EventId
    duplicate: bool  # the dedupe key was already known: nothing was appended


@dataclass(frozen=True, slots=True)
class Claimed:
    deliveries: list[Delivery]
    # Pending events that retention removed before anyone acknowledged them.
    lost: list[EventId]


class EventLog(Store, Protocol):
    async def append(self, record: EventRecord, dedupe_key: str, dedupe_ttl_ms: int) -> Appended:
        """Appends unless `dedupe_key` was seen within its ttl; atomic, one round trip."""

    async def read_after(self, after: EventId, limit: int) -> list[Event]:
        """Up to `limit` events with ids > `after`, oldest first.

        Raises CursorExpired when retention removed events after `after`."""

    async def horizon(self) -> EventId:
        """The newest event removed by retention (ZERO if none): reading after it is gapless."""

    async def last_id(self) -> EventId:
        """The newest id ever appended (ZERO if none)."""

    async def wait_after(self, after: EventId, wait_seconds: float, limit: int) -> list[Event]:
        """Like read_after without the retention check, but waits up to `wait_seconds`
        for an event to arrive. Only the tail calls it (on a connection of its own)."""

    async def create_group(self, group: str, start: EventId | None) -> bool:
        """Creates the group positioned after `start` (None: after the newest event);
        False if it already exists."""

    async def read_group(self, group: str, consumer: str, count: int) -> list[Delivery]:
        """Up to `count` events never delivered to the group, now pending for `consumer`.

        A group that vanished (the log was wiped) is created again from the beginning."""

    async def claim_expired(
        self, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> Claimed:
        """Moves up to `count` events pending longer than `min_idle_ms` to `consumer`."""

    async def pending(self, group: str, consumer: str, limit: int) -> list[EventId]:
        """Events pending for `consumer` (delivered, not yet acknowledged)."""

    async def ack(self, group: str, ids: Sequence[EventId]) -> int:
        """Acknowledges events; returns how many were pending."""

    async def release(self, group: str, ids: Sequence[EventId]) -> int:
        """Makes pending events claimable by any member at once (a negative acknowledgement)."""

    async def remove_consumer(self, group: str, consumer: str) -> None:
        """Forgets a member that has nothing pending."""

    async def track(self, invoice_ids: Sequence[int]) -> None:
        """Remembers invoices created through the sidecar, for the reconciliation sweep."""

    async def tracked(self, limit: int) -> list[int]:
        """Up to `limit` tracked invoices, those checked least recently first; each returned
        invoice counts as checked now, so a long list is walked round-robin."""

    async def untrack(self, invoice_ids: Sequence[int]) -> None:
        """Forgets invoices that can no longer be paid, or whose event is in the log."""

    async def try_lock(self, name: str, ttl_ms: int) -> bool:
        """A best-effort lease so that one replica at a time runs a periodic job."""

    async def hold_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        """Takes the lease `name` for `owner` if it is free, or extends it if `owner` holds it;
        False while another owner holds it. One holder at a time, as long as each renews
        before its ttl ends."""

    async def drop_lease(self, name: str, owner: str) -> None:
        """Frees the lease at once if `owner` holds it (another owner's lease is left alone)."""
