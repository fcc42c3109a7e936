"""One contract for every event log: the in-memory ring buffer and the Redis Stream."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest

from sidecar.secrets import Secret
from sidecar.webhooks.events import ZERO, EventId, EventRecord
from sidecar.webhooks.log import CursorExpired, EventLog
from sidecar.webhooks.memory import MemoryEventLog
from sidecar.webhooks.redis_streams import RedisEventLog
from tests.contract.conftest import StoreTime

MakeLog = Callable[[int], EventLog]
TTL = 60_000


def record(n: int, body: bytes | None = None) -> EventRecord:
    return EventRecord(
        update_type="invoice_paid",
        update_id=n,
        invoice_id=n,
        asset="USDT",
        received_at_ms=1_700_000_000_000 + n,
        body=body if body is not None else b'{"n":%d}' % n,
        signature="ab" * 32,
    )


@pytest.fixture
async def make_log(backend_url: Secret | None, store_time: StoreTime) -> AsyncIterator[MakeLog]:
    created: list[EventLog] = []

    def make(retention: int = 1000) -> EventLog:
        log: EventLog
        if backend_url is None:
            log = MemoryEventLog(retention, clock=store_time)
        else:
            # The Redis log opens clients of its own (one for blocking reads).
            namespace = "test:" + secrets.token_hex(4)
            log = RedisEventLog(backend_url, namespace, retention, block_seconds=0.5)
        created.append(log)
        return log

    yield make
    for log in created:
        await log.close()


async def append_n(log: EventLog, start: int, count: int) -> list[EventId]:
    ids = []
    for n in range(start, start + count):
        appended = await log.append(record(n), f"invoice_paid:{n}", TTL)
        assert not appended.duplicate
        ids.append(appended.id)
    return ids


async def test_appends_are_ordered_and_read_back_exactly(make_log: MakeLog) -> None:
    log = make_log(1000)
    assert await log.last_id() == ZERO
    assert await log.read_after(ZERO, 10) == []
    body = "Оплата ₽ #1".encode() + b"\x00\xff"
    first = await log.append(record(1, body), "invoice_paid:1", TTL)
    ids = [first.id, *await append_n(log, 2, 4)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert await log.last_id() == ids[-1]
    events = await log.read_after(ZERO, 100)
    assert [e.id for e in events] == ids
    assert events[0].record == record(1, body)
    assert [e.id for e in await log.read_after(ids[1], 2)] == ids[2:4]
    assert await log.read_after(ids[-1], 10) == []


async def test_duplicates_are_not_appended(make_log: MakeLog) -> None:
    log = make_log(1000)
    first = await log.append(record(1), "invoice_paid:1", TTL)
    again = await log.append(record(1, b"other bytes"), "invoice_paid:1", TTL)
    assert again.duplicate and again.id == first.id
    other = await log.append(record(2), "invoice_paid:2", TTL)
    assert not other.duplicate
    assert [e.id for e in await log.read_after(ZERO, 10)] == [first.id, other.id]


async def test_dedupe_records_expire(make_log: MakeLog, store_time: StoreTime) -> None:
    log = make_log(1000)
    await log.append(record(1), "invoice_paid:1", 50)
    await store_time.advance(0.15)
    assert not (await log.append(record(1), "invoice_paid:1", 50)).duplicate


async def test_retention_keeps_the_newest_and_reports_gaps(make_log: MakeLog) -> None:
    log = make_log(10)
    ids = await append_n(log, 1, 60)
    with pytest.raises(CursorExpired) as info:
        await log.read_after(ZERO, 100)
    horizon = await log.horizon()
    assert info.value.horizon == horizon and ZERO < horizon < ids[-10]
    kept = await log.read_after(horizon, 1000)
    assert len(kept) >= 10 and [e.id for e in kept] == ids[-len(kept) :]
    # A cursor inside the retained range reads on without a gap.
    assert [e.id for e in await log.read_after(ids[-3], 10)] == ids[-2:]


async def test_wait_after_blocks_until_an_event_arrives(make_log: MakeLog) -> None:
    log = make_log(1000)
    assert await log.wait_after(ZERO, 0.05, 10) == []
    waiter = asyncio.create_task(log.wait_after(ZERO, 5.0, 10))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    [appended] = await append_n(log, 1, 1)
    events = await asyncio.wait_for(waiter, 5)
    assert [e.id for e in events] == [appended]
    # Events already there are returned at once.
    assert [e.id for e in await log.wait_after(ZERO, 5.0, 10)] == [appended]


async def test_group_members_share_the_work(make_log: MakeLog) -> None:
    log = make_log(1000)
    await append_n(log, 1, 2)  # before the group: not delivered when it starts at the newest
    assert await log.create_group("billing", None)
    assert not await log.create_group("billing", ZERO)
    ids = await append_n(log, 3, 6)
    a = await log.read_group("billing", "a", 4)
    b = await log.read_group("billing", "b", 10)
    assert [d.event.id for d in a] == ids[:4] and [d.event.id for d in b] == ids[4:]
    assert all(d.attempt == 1 for d in a + b)
    assert await log.read_group("billing", "a", 10) == []
    assert await log.pending("billing", "a", 10) == ids[:4]
    assert await log.ack("billing", [ids[0], ids[1], ids[1]]) == 2
    assert await log.ack("billing", [ids[0]]) == 0
    assert await log.pending("billing", "a", 10) == ids[2:4]


async def test_group_from_the_beginning_sees_retained_events(make_log: MakeLog) -> None:
    log = make_log(1000)
    ids = await append_n(log, 1, 3)
    assert await log.create_group("audit", ZERO)
    assert [d.event.id for d in await log.read_group("audit", "x", 10)] == ids
    assert await log.create_group("late", ids[1])
    assert [d.event.id for d in await log.read_group("late", "x", 10)] == ids[2:]


async def test_unacknowledged_events_are_claimed_after_the_visibility_timeout(
    make_log: MakeLog, store_time: StoreTime
) -> None:
    log = make_log(1000)
    await log.create_group("g", ZERO)
    ids = await append_n(log, 1, 3)
    await log.read_group("g", "dead", 10)
    await log.ack("g", [ids[1]])
    assert (await log.claim_expired("g", "alive", 5_000, 10)).deliveries == []
    await store_time.advance(0.12)
    claimed = await log.claim_expired("g", "alive", 100, 10)
    assert [(d.event.id, d.attempt) for d in claimed.deliveries] == [(ids[0], 2), (ids[2], 2)]
    assert claimed.lost == []
    assert await log.pending("g", "dead", 10) == []
    assert await log.pending("g", "alive", 10) == [ids[0], ids[2]]
    # Claimed again later, the attempt count keeps growing.
    await store_time.advance(0.12)
    again = await log.claim_expired("g", "other", 100, 1)
    assert [(d.event.id, d.attempt) for d in again.deliveries] == [(ids[0], 3)]


async def test_released_events_are_claimable_at_once(make_log: MakeLog) -> None:
    log = make_log(1000)
    await log.create_group("g", ZERO)
    ids = await append_n(log, 1, 2)
    await log.read_group("g", "a", 10)
    assert await log.release("g", [ids[1]]) == 1
    assert await log.release("g", [EventId(1, 1)]) == 0
    claimed = await log.claim_expired("g", "b", 3_600_000, 10)
    assert [d.event.id for d in claimed.deliveries] == [ids[1]]
    await log.remove_consumer("g", "a")  # a still owns ids[0]: kept
    assert await log.pending("g", "a", 10) == [ids[0]]


async def test_pending_events_removed_by_retention_are_reported_lost(
    make_log: MakeLog, store_time: StoreTime
) -> None:
    log = make_log(5)
    await log.create_group("g", ZERO)
    [first] = await append_n(log, 1, 1)
    await log.read_group("g", "a", 1)
    await append_n(log, 2, 40)
    await store_time.advance(0.02)
    claimed = await log.claim_expired("g", "b", 0, 10)
    assert first in claimed.lost
    assert first not in [d.event.id for d in claimed.deliveries]


async def test_unknown_groups_acknowledge_nothing(make_log: MakeLog) -> None:
    log = make_log(1000)
    await append_n(log, 1, 1)
    assert await log.ack("nope", [EventId(1, 0)]) == 0
    assert await log.pending("nope", "a", 10) == []


async def test_locks_are_leases(make_log: MakeLog, store_time: StoreTime) -> None:
    log = make_log(1000)
    assert await log.try_lock("sweep", 100)
    assert not await log.try_lock("sweep", 100)
    await store_time.advance(0.15)
    assert await log.try_lock("sweep", 100)


async def test_owned_leases_have_one_holder_who_renews_and_drops_them(
    make_log: MakeLog, store_time: StoreTime
) -> None:
    log = make_log(1000)
    assert await log.hold_lease("relay:shop", "a", 150)
    assert not await log.hold_lease("relay:shop", "b", 150)
    assert await log.hold_lease("relay:other", "b", 150)  # leases are independent
    await store_time.advance(0.1)
    assert await log.hold_lease("relay:shop", "a", 150)  # renewed: still a's after 0.2 s
    await store_time.advance(0.1)
    assert not await log.hold_lease("relay:shop", "b", 150)
    await log.drop_lease("relay:shop", "b")  # not b's to drop
    assert not await log.hold_lease("relay:shop", "b", 150)
    await log.drop_lease("relay:shop", "a")
    assert await log.hold_lease("relay:shop", "b", 150)  # dropped: free at once
    await store_time.advance(0.2)
    assert await log.hold_lease("relay:shop", "a", 150)  # expired: free for anyone


async def test_a_member_takes_over_every_pending_event_oldest_first(make_log: MakeLog) -> None:
    # The relay's hand-over: whatever another member left pending, from the oldest, at once.
    log = make_log(1000)
    await log.create_group("relay:shop", ZERO)
    ids = await append_n(log, 1, 3)
    await log.read_group("relay:shop", "gone", 2)
    first = await log.claim_expired("relay:shop", "next", 0, 1)
    assert [d.event.id for d in first.deliveries] == [ids[0]]
    await log.ack("relay:shop", [ids[0]])
    second = await log.claim_expired("relay:shop", "next", 0, 1)
    assert [d.event.id for d in second.deliveries] == [ids[1]]
    await log.ack("relay:shop", [ids[1]])
    assert (await log.claim_expired("relay:shop", "next", 0, 1)).deliveries == []
    assert [d.event.id for d in await log.read_group("relay:shop", "next", 1)] == [ids[2]]


async def test_tracked_invoices_are_walked_round_robin(
    make_log: MakeLog, store_time: StoreTime
) -> None:
    log = make_log(1000)
    await log.track([5, 3, 9])
    first = await log.tracked(2)
    assert sorted(first) == sorted(set(first)) and len(first) == 2
    await store_time.advance(0.01)
    second = await log.tracked(2)
    assert set(first) | set(second) == {3, 5, 9}  # the unchecked one comes next
    await log.track([3])  # tracking again keeps its place
    await log.untrack([3, 9, 42])
    assert await log.tracked(10) == [5]
