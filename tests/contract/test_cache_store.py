"""One contract for both cache stores: in memory, and Redis (a real, private redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from sidecar.cache.freshness import Contention
from sidecar.cache.memory import MemoryStore
from sidecar.cache.redis import RedisStore
from sidecar.cache.store import CacheStore, Entry, cache_key
from sidecar.redis_connection import Redis
from tests.contract.conftest import StoreTime

PREFIX = "test:cache"
KEY = cache_key(PREFIX, "app1", "GetExchangeRates", {})
DATA = b"\x00\x01binary\xffpayload"


@pytest.fixture
async def store(backend: Redis | None, store_time: StoreTime) -> AsyncIterator[CacheStore]:
    made: CacheStore = (
        MemoryStore(clock=store_time) if backend is None else RedisStore(backend, owns_client=False)
    )
    yield made
    await made.close()


async def until(condition: object, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_empty_key_and_the_clock(store: CacheStore) -> None:
    snapshot = await store.get(KEY)
    assert snapshot.entry is None and snapshot.age is None
    assert abs(snapshot.now - time.time()) < 5  # the store's clock is wall-clock time
    assert await store.now() >= snapshot.now


async def test_put_and_get_round_trip(store: CacheStore) -> None:
    now = await store.now()
    assert await store.put(KEY, Entry(DATA, now, degraded=True), 60, None)
    snapshot = await store.get(KEY)
    assert snapshot.entry == Entry(DATA, now, degraded=True)
    assert snapshot.age is not None and 0 <= snapshot.age < 5


async def test_an_older_fetch_never_replaces_a_newer_answer(store: CacheStore) -> None:
    now = await store.now()
    assert await store.put(KEY, Entry(b"new", now), 60, None)
    assert not await store.put(KEY, Entry(b"old", now - 1), 60, None)
    assert (await store.get(KEY)).entry == Entry(b"new", now)
    assert await store.put(KEY, Entry(b"newer", now + 0.5), 60, None)
    assert (await store.get(KEY)).entry == Entry(b"newer", now + 0.5)


async def test_entries_expire_after_keep_for(store: CacheStore, store_time: StoreTime) -> None:
    now = await store.now()
    assert not await store.put(KEY, Entry(b"x", now - 10), 5, None)  # already past keep_for
    assert (await store.get(KEY)).entry is None
    assert await store.put(KEY, Entry(b"x", now), 0.2, None)
    assert (await store.get(KEY)).entry is not None
    await store_time.advance(0.3)
    assert (await store.get(KEY)).entry is None


async def test_one_lease_at_a_time(store: CacheStore) -> None:
    first = await store.acquire(KEY, None, 10)
    assert first.lease is not None and first.contention is None
    assert abs(first.lease.started_at - await store.now()) < 5
    second = await store.acquire(KEY, None, 10)
    assert second.lease is None and second.contention is Contention.HELD
    await store.release(KEY, first.lease)
    third = await store.acquire(KEY, None, 10)
    assert third.lease is not None and third.lease.token != first.lease.token


async def test_no_lease_once_a_newer_answer_arrived(store: CacheStore) -> None:
    now = await store.now()
    await store.put(KEY, Entry(b"x", now), 60, None)
    assert (await store.acquire(KEY, None, 10)).contention is Contention.CHANGED
    assert (await store.acquire(KEY, now - 1, 10)).contention is Contention.CHANGED
    assert (await store.acquire(KEY, now, 10)).lease is not None


async def test_storing_releases_the_lease(store: CacheStore) -> None:
    acquired = await store.acquire(KEY, None, 10)
    assert acquired.lease is not None
    assert await store.put(KEY, Entry(b"x", acquired.lease.started_at), 60, acquired.lease)
    seen = acquired.lease.started_at
    assert (await store.acquire(KEY, seen, 10)).lease is not None


async def test_an_expired_lease_goes_to_another_caller(
    store: CacheStore, store_time: StoreTime
) -> None:
    old = (await store.acquire(KEY, None, 0.1)).lease
    assert old is not None
    await store_time.advance(0.2)
    new = (await store.acquire(KEY, None, 10)).lease
    assert new is not None
    # The first holder comes back late: its answer is stored, but it cannot drop the new lease.
    await store.put(KEY, Entry(b"late", old.started_at), 60, old)
    await store.release(KEY, old)
    seen = old.started_at
    assert (await store.acquire(KEY, seen, 10)).contention is Contention.HELD


async def test_cooldown_after_a_failed_refresh(store: CacheStore, store_time: StoreTime) -> None:
    lease = (await store.acquire(KEY, None, 10)).lease
    assert lease is not None
    await store.release(KEY, lease, cooldown=0.2)
    assert (await store.acquire(KEY, None, 10)).contention is Contention.COOLDOWN
    await store_time.advance(0.3)
    assert (await store.acquire(KEY, None, 10)).lease is not None


async def test_wait_returns_when_an_answer_arrives(store: CacheStore) -> None:
    lease = (await store.acquire(KEY, None, 10)).lease
    assert lease is not None
    waiters = [asyncio.create_task(store.wait(KEY, None, 10)) for _ in range(20)]
    await asyncio.sleep(0.05)
    assert not any(w.done() for w in waiters)
    started = time.monotonic()
    await store.put(KEY, Entry(b"x", lease.started_at), 60, lease)
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert time.monotonic() - started < 5


async def test_wait_returns_when_the_refresh_gives_up(store: CacheStore) -> None:
    lease = (await store.acquire(KEY, None, 10)).lease
    assert lease is not None
    waiter = asyncio.create_task(store.wait(KEY, None, 10))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await store.release(KEY, lease, cooldown=5)  # a cooldown is not a refresh under way
    await asyncio.wait_for(waiter, 5)


async def test_wait_gives_up_after_within(store: CacheStore) -> None:
    assert (await store.acquire(KEY, None, 10)).lease is not None
    started = time.monotonic()
    await store.wait(KEY, None, 0.2)
    assert time.monotonic() - started >= 0.15


async def test_wait_returns_at_once_when_nothing_is_refreshing(store: CacheStore) -> None:
    await asyncio.wait_for(store.wait(KEY, None, 10), 2)


async def test_flush_by_scope_and_method(store: CacheStore) -> None:
    now = await store.now()
    keys = {
        (scope, rpc): cache_key(PREFIX, scope, rpc, {})
        for scope in ("app1", "app2")
        for rpc in ("GetExchangeRates", "GetMe")
    }
    for key in keys.values():
        await store.put(key, Entry(b"x", now), 60, None)
    other = cache_key("other:prefix", "app1", "GetMe", {})
    await store.put(other, Entry(b"x", now), 60, None)
    held = (await store.acquire(keys[("app1", "GetMe")], now, 10)).lease
    assert held is not None

    assert await store.flush(PREFIX, "app1", "GetMe") == 1
    assert (await store.get(keys[("app1", "GetMe")])).entry is None
    assert (await store.acquire(keys[("app1", "GetMe")], None, 10)).lease is not None  # lock gone
    assert await store.flush(PREFIX, "app1") == 1
    assert (await store.get(keys[("app2", "GetMe")])).entry is not None
    assert await store.flush(PREFIX) == 2
    assert all([(await store.get(key)).entry is None for key in keys.values()])
    assert (await store.get(other)).entry is not None


async def test_flush_of_an_empty_store(store: CacheStore) -> None:
    assert await store.flush(PREFIX) == 0
