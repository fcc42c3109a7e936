"""One contract for every spend store: the in-memory store and the Redis store must agree."""

from __future__ import annotations

import asyncio
import random
import uuid
from decimal import Decimal

import pytest

from sidecar.redis_connection import Redis, connect
from sidecar.secrets import Secret
from sidecar.spend.memory import MemorySpendStore
from sidecar.spend.redis import RedisSpendStore, keys
from sidecar.spend.store import (
    EXACT,
    Bucket,
    SpendStore,
    Status,
    from_minor,
    to_minor,
)
from sidecar.store_base import StoreUnavailable
from tests.conftest import RedisServer
from tests.contract.conftest import StoreTime
from tests.helpers import eventually

D = Decimal
DAY_MS = 86_400_000


@pytest.fixture
def store(backend: Redis | None, store_time: StoreTime) -> SpendStore:
    return MemorySpendStore(clock=store_time) if backend is None else RedisSpendStore(backend)


def bucket(window_ms: int = DAY_MS, ttl_ms: int = DAY_MS + 3_600_000) -> Bucket:
    return Bucket(f"app:caller:USDT:{uuid.uuid4().hex}", window_ms, ttl_ms)


async def test_reserve_up_to_the_cap_and_not_one_unit_more(store: SpendStore) -> None:
    b = bucket()
    first = await store.reserve(b, "r1", D("60"), D("100"), force=False)
    assert first.status is Status.RESERVED and first.total == D("60") and first.admitted
    second = await store.reserve(b, "r2", D("40"), D("100"), force=False)
    assert second.status is Status.RESERVED and second.total == D("100")
    over = await store.reserve(b, "r3", D("0.000000000000000001"), D("100"), force=False)
    assert over.status is Status.DENIED and over.total == D("100") and not over.admitted
    assert await store.total(b) == D("100")


async def test_force_records_past_the_cap(store: SpendStore) -> None:
    b = bucket()
    await store.reserve(b, "r1", D("90"), D("100"), force=False)
    forced = await store.reserve(b, "r2", D("20"), D("100"), force=True)
    assert forced.status is Status.FORCED and forced.total == D("110")
    assert (await store.reserve(b, "r3", D("1"), D("100"), force=False)).status is Status.DENIED


async def test_a_reservation_id_counts_once(store: SpendStore) -> None:
    b = bucket()
    await store.reserve(b, "r1", D("10"), D("100"), force=False)
    again = await store.reserve(b, "r1", D("10"), D("100"), force=False)
    assert again.status is Status.DUPLICATE and again.total == D("10")


async def test_a_reserve_sent_again_by_its_owner_counts_once(store: SpendStore) -> None:
    # What a command replayed after a dropped connection looks like: owners are unique per call.
    b = bucket()
    first = await store.reserve(b, "r1", D("10"), D("100"), force=False, owner="call1")
    again = await store.reserve(b, "r1", D("10"), D("100"), force=False, owner="call1")
    assert first.status is again.status is Status.RESERVED
    assert again.total == D("10") and await store.total(b) == D("10")
    other = await store.reserve(b, "r1", D("10"), D("100"), force=False, owner="call2")
    assert other.status is Status.DUPLICATE
    assert await store.commit(b, "r1")
    assert await store.total(b) == D("10")


async def test_commit_keeps_the_amount_and_release_frees_it(store: SpendStore) -> None:
    b = bucket()
    await store.reserve(b, "spent", D("30"), D("100"), force=False)
    await store.reserve(b, "failed", D("50"), D("100"), force=False)
    assert await store.commit(b, "spent") is True
    assert await store.commit(b, "spent") is False  # already committed
    assert await store.release(b, "spent") is False  # committed money stays spent
    assert await store.release(b, "failed") is True
    assert await store.release(b, "failed") is False
    assert await store.total(b) == D("30")
    full = await store.reserve(b, "rest", D("70"), D("100"), force=False)
    assert full.status is Status.RESERVED and full.total == D("100")


async def test_a_release_that_names_an_owner_frees_only_its_own(store: SpendStore) -> None:
    b = bucket()
    await store.reserve(b, "spend_id:x:0", D("30"), D("100"), force=False, owner="first")
    assert await store.release(b, "spend_id:x:0", owner="retry") is False
    assert await store.total(b) == D("30")
    assert await store.release(b, "spend_id:x:0", owner="first") is True
    assert await store.total(b) == D(0)


async def test_unknown_reservations(store: SpendStore) -> None:
    b = bucket()
    assert await store.commit(b, "nope") is False
    assert await store.release(b, "nope") is False
    assert await store.total(b) == D(0)


async def test_buckets_are_independent(store: SpendStore) -> None:
    a, b = bucket(), bucket()
    await store.reserve(a, "r", D("100"), D("100"), force=False)
    assert (await store.reserve(b, "r", D("100"), D("100"), force=False)).status is Status.RESERVED


async def test_rolling_window_forgets_old_spending(
    store: SpendStore, store_time: StoreTime
) -> None:
    b = bucket(window_ms=400, ttl_ms=60_000)
    await store.reserve(b, "old", D("100"), D("100"), force=False)
    await store.commit(b, "old")
    assert (await store.reserve(b, "now", D("1"), D("100"), force=False)).status is Status.DENIED

    async def free() -> bool:
        return await store.total(b) == D(0)

    await store_time.advance(0.45)
    await eventually(free, "the old spending to leave the window")
    assert (
        await store.reserve(b, "new", D("100"), D("100"), force=False)
    ).status is Status.RESERVED


async def test_a_calendar_bucket_lives_until_its_ttl(
    store: SpendStore, store_time: StoreTime
) -> None:
    b = bucket(window_ms=0, ttl_ms=400)
    await store.reserve(b, "r", D("5"), D("100"), force=False)
    assert await store.total(b) == D("5")

    async def gone() -> bool:
        return await store.total(b) == D(0)

    await store_time.advance(0.45)
    await eventually(gone, "the bucket to expire")


async def test_a_lease_frees_a_reservation_nobody_settled(
    store: SpendStore, store_time: StoreTime
) -> None:
    # What a process that died mid-call leaves behind: the cap comes back after one lease.
    b = bucket()
    await store.reserve(b, "dead", D("80"), D("100"), force=False, owner="gone", lease=0.3)
    assert (await store.reserve(b, "r2", D("30"), D("100"), force=False)).status is Status.DENIED

    async def freed() -> bool:
        return await store.total(b) == D(0)

    await store_time.advance(0.35)
    await eventually(freed, "the lease to free the reservation")
    assert not await store.release(b, "dead", owner="gone")
    assert (await store.reserve(b, "r3", D("100"), D("100"), force=False)).status is Status.RESERVED


async def test_a_settled_reservation_is_not_touched_by_its_lease(
    store: SpendStore, store_time: StoreTime
) -> None:
    b = bucket()
    await store.reserve(b, "spent", D("30"), D("100"), force=False, lease=0.2)
    assert await store.commit(b, "spent")
    await store.reserve(b, "freed", D("50"), D("100"), force=False, owner="o1", lease=0.2)
    assert await store.release(b, "freed", owner="o1")
    await store_time.advance(0.4)  # both leases are over
    assert await store.total(b) == D("30")
    assert (await store.reserve(b, "more", D("71"), D("100"), force=False)).status is Status.DENIED


async def test_a_late_commit_still_counts(store: SpendStore, store_time: StoreTime) -> None:
    # The money moved; its commit came after the lease (a slow store): it must count, not vanish.
    b = bucket()
    await store.reserve(b, "slow", D("40"), D("100"), force=False, lease=0.2)
    await store_time.advance(0.4)
    assert await store.commit(b, "slow")
    await store_time.advance(0.1)
    assert await store.total(b) == D("40")


async def test_concurrent_reservations_never_pass_the_cap(store: SpendStore) -> None:
    b = bucket()
    results = await asyncio.gather(
        *(
            store.reserve(b, f"r{i}", D("3.000000000000000001"), D("100"), force=False)
            for i in range(60)
        )
    )
    admitted = [r for r in results if r.admitted]
    assert len(admitted) == 33
    assert await store.total(b) == D("99.000000000000000033")


async def test_arithmetic_is_exact_at_every_scale(store: SpendStore) -> None:
    rng = random.Random(42)
    b = bucket()
    cap = D("1" + "0" * 20)
    expected = D(0)
    live: list[tuple[str, Decimal]] = []
    for i in range(120):
        amount = from_minor(rng.randrange(1, 10 ** rng.choice([1, 9, 18, 25, 36])))
        result = await store.reserve(b, f"r{i}", amount, cap, force=False)
        assert result.status is Status.RESERVED
        expected = EXACT.add(expected, amount)
        assert result.total == expected
        live.append((f"r{i}", amount))
        if rng.random() < 0.4:
            rid, released = live.pop(rng.randrange(len(live)))
            assert await store.release(b, rid)
            expected = EXACT.subtract(expected, released)
    assert await store.total(b) == expected


def test_minor_units() -> None:
    assert to_minor(D("0.1")) == 10**17
    assert to_minor(D("100")) == 100 * 10**18
    assert from_minor(1) == D("0.000000000000000001")
    big = D("12345678901234567890.123456789012345678")  # 38 digits: beyond the default context
    assert from_minor(to_minor(big)) == big
    assert to_minor(D("1.000000000000000000000")) == 10**18
    with pytest.raises(ValueError):
        to_minor(D("0.0000000000000000001"))
    with pytest.raises(ValueError):
        to_minor(D("-1"))


# --- Redis specifics ----------------------------------------------------------------------------


async def test_redis_keys_share_one_cluster_slot(redis_server: RedisServer) -> None:
    from redis.crc import key_slot

    b = Bucket("123:payouts:USDT:calendar_day@Europe/Berlin:2025-01-31", 0, 1000)
    slots = {key_slot(k.encode()) for k in keys(b)}
    assert len(slots) == 1
    client = connect(Secret(redis_server.url))
    try:
        store = RedisSpendStore(client)
        await store.reserve(b, "r", D("1"), D("2"), force=False, lease=0.5)
        ttls = [await client.pttl(k) for k in keys(b)]
        assert all(0 < t <= 1000 for t in ttls)
        await client.script_flush()  # after a failover or restart: NOSCRIPT is handled
        assert await store.total(b) == D("1")
    finally:
        await client.aclose()


async def test_redis_down_is_store_unavailable(redis_server: RedisServer) -> None:
    client = connect(Secret(redis_server.url))
    store = RedisSpendStore(client)
    try:
        await store.total(bucket())
        redis_server.stop()
        with pytest.raises(StoreUnavailable):
            await store.reserve(bucket(), "r", D("1"), D("2"), force=False)
    finally:
        await client.aclose()
