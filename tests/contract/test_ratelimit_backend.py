"""One contract, two backends: the in-process one and the one shared through a real Redis.

Rates are slow (a token every 30 s) so that the few milliseconds between two decisions never
matter; only the refill tests let time pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sidecar.ratelimit.backend import COOLDOWN, Backend, Pause, Request
from sidecar.ratelimit.config import BucketConfig, parse_rate
from sidecar.ratelimit.gcra import Limit
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.ratelimit.plan import Bucket
from sidecar.ratelimit.redis import RedisBackend
from sidecar.redis_connection import Redis
from tests.contract.conftest import StoreTime

SLOW = 30.0  # seconds per token


def bucket(name: str, burst: int = 3, rate: str = "2/min") -> Bucket:
    parsed = parse_rate(rate)
    limit = Limit.per(parsed.count, parsed.period, burst)
    return Bucket(name, name, limit, limit, BucketConfig(parsed, burst))


def request(*buckets: Bucket, cost: int = 1, max_wait: float = 0.0, scope: str = "s") -> Request:
    return Request(scope, buckets, cost, max_wait, timeout=5.0)


@pytest.fixture
async def store(backend: Redis | None, store_time: StoreTime) -> AsyncIterator[Backend]:
    made: Backend = MemoryBackend(clock=store_time) if backend is None else RedisBackend(backend)
    yield made
    await made.close()


async def test_a_burst_then_a_refusal_saying_when(store: Backend) -> None:
    app = bucket("app")
    lefts = []
    for _ in range(3):
        decision = await store.decide(request(app))
        assert decision.allowed and decision.wait == 0 and decision.limited_by is None
        lefts.append(decision.statuses[0].remaining)
    assert lefts == [
        pytest.approx(2, abs=0.01),
        pytest.approx(1, abs=0.01),
        pytest.approx(0, abs=0.01),
    ]
    refused = await store.decide(request(app))
    assert not refused.allowed and refused.limited_by == "app"
    assert refused.retry_after == pytest.approx(SLOW, abs=0.5)
    assert refused.statuses[0].reset == pytest.approx(3 * SLOW, abs=0.5)


async def test_waiting_calls_reserve_slots_in_arrival_order(store: Backend) -> None:
    app = bucket("app", burst=1)
    waits = [(await store.decide(request(app, max_wait=100))).wait for _ in range(4)]
    assert waits == [
        0,
        pytest.approx(SLOW, abs=0.5),
        pytest.approx(2 * SLOW, abs=0.5),
        pytest.approx(3 * SLOW, abs=0.5),
    ]
    # A reservation is never made past max_wait, and a refusal reserves nothing.
    refused = await store.decide(request(app, max_wait=3 * SLOW))
    assert not refused.allowed and refused.retry_after == pytest.approx(4 * SLOW, abs=0.5)
    assert (await store.decide(request(app, max_wait=5 * SLOW))).wait == pytest.approx(
        4 * SLOW, abs=0.5
    )


async def test_a_refused_call_takes_nothing_from_the_other_buckets(store: Backend) -> None:
    app, caller = bucket("app", burst=5), bucket("caller:a", burst=1)
    assert (await store.decide(request(app, caller))).allowed
    refused = await store.decide(request(app, caller))
    assert not refused.allowed and refused.limited_by == "caller:a"
    assert refused.statuses[0].remaining == pytest.approx(4, abs=0.01)
    for _ in range(4):
        assert (await store.decide(request(app))).allowed
    assert not (await store.decide(request(app))).allowed


async def test_cost_and_free_calls(store: Backend) -> None:
    app = bucket("app", burst=3)
    assert (await store.decide(request(app, cost=3))).allowed
    assert not (await store.decide(request(app, cost=1))).allowed
    free = await store.decide(request(app, cost=0))
    assert free.allowed and free.wait == 0


async def test_scopes_do_not_share_buckets(store: Backend) -> None:
    app = bucket("app", burst=1)
    assert (await store.decide(request(app, scope="one"))).allowed
    assert (await store.decide(request(app, scope="two"))).allowed
    assert not (await store.decide(request(app, scope="one"))).allowed


async def test_concurrent_decisions_never_over_admit(store: Backend) -> None:
    app = bucket("app", burst=10)
    decisions = await asyncio.gather(*(store.decide(request(app)) for _ in range(60)))
    assert sum(d.allowed for d in decisions) == 10


async def test_a_cooldown_pauses_every_call_then_resumes_without_a_burst(store: Backend) -> None:
    app = bucket("app", burst=3)
    assert await store.cooldown(Pause("s", 40.0, app, 5.0)) == pytest.approx(40, abs=0.5)
    # A shorter pause does not cut a longer one short.
    assert await store.cooldown(Pause("s", 1.0, None, 5.0)) == pytest.approx(40, abs=0.5)
    refused = await store.decide(request(app, cost=0))
    assert not refused.allowed and refused.limited_by == COOLDOWN
    assert refused.retry_after == pytest.approx(40, abs=0.5)
    # Waiting calls get the end of the pause, then one slot per token.
    first = await store.decide(request(app, max_wait=100))
    second = await store.decide(request(app, max_wait=100))
    assert first.wait == pytest.approx(40, abs=0.5) and first.limited_by == COOLDOWN
    assert second.wait == pytest.approx(40 + SLOW, abs=0.5) and second.limited_by == "app"


async def test_a_cooldown_pauses_calls_without_buckets(store: Backend) -> None:
    await store.cooldown(Pause("s", 20.0, None, 5.0))
    refused = await store.decide(request())
    assert not refused.allowed and refused.limited_by == COOLDOWN
    assert (await store.decide(request(scope="other"))).allowed


async def test_an_idle_bucket_fills_up_again(store: Backend, store_time: StoreTime) -> None:
    fast = bucket("app", burst=2, rate="50/s")  # a token every 20 ms
    for _ in range(2):
        assert (await store.decide(request(fast))).allowed
    refused = await store.decide(request(fast))
    assert not refused.allowed
    await store_time.advance(0.1)
    decision = await store.decide(request(fast))
    assert decision.allowed and decision.statuses[0].remaining == pytest.approx(1, abs=0.01)


async def test_a_new_rate_carries_the_tokens_owed_and_repays_them_at_that_rate(
    store: Backend, store_time: StoreTime
) -> None:
    assert (await store.decide(request(bucket("app", burst=1, rate="1/min")))).allowed
    faster = bucket("app", burst=1, rate="100/s")  # the same bucket, after a policy reload
    refused = await store.decide(request(faster))
    assert not refused.allowed and refused.retry_after == pytest.approx(0.01, abs=0.005)
    await store_time.advance(0.05)
    assert (await store.decide(request(faster))).allowed
