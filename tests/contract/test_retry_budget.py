"""The retry budget contract, for the in-memory and the Redis (shared) budget alike."""

from __future__ import annotations

import pytest

from sidecar.redis_connection import Redis
from sidecar.retry.budget import MemoryRetryBudget, RedisRetryBudget, RetryBudget, allows
from sidecar.retry.settings import BudgetRule

RULE = BudgetRule(ratio=0.2, min_per_second=0.5, window=10)  # floor: 5 retries per window


@pytest.fixture
def budget(backend: Redis | None) -> RetryBudget:
    return MemoryRetryBudget() if backend is None else RedisRetryBudget(backend, "test")


async def spend_all(budget: RetryBudget, limit: int = 1000) -> int:
    spent = 0
    while spent < limit and await budget.try_spend(RULE):
        spent += 1
    return spent


async def test_the_floor_allows_retries_without_traffic(budget: RetryBudget) -> None:
    assert await spend_all(budget) == 5


async def test_retries_grow_with_requests(budget: RetryBudget) -> None:
    for _ in range(100):
        await budget.note_request(RULE)
    assert await spend_all(budget) == 5 + 20
    for _ in range(10):
        await budget.note_request(RULE)
    assert await spend_all(budget) == 2


async def test_replicas_share_a_redis_budget(redis_client: Redis) -> None:
    a, b = RedisRetryBudget(redis_client, "shared"), RedisRetryBudget(redis_client, "shared")
    assert await spend_all(a) == 5
    assert await spend_all(b) == 0
    other_app = RedisRetryBudget(redis_client, "other")
    assert await spend_all(other_app) == 5


def test_window_slides_in_memory() -> None:
    now = [1000.0]
    budget = MemoryRetryBudget(clock=lambda: now[0])
    budget.add_requests(RULE, 50)
    assert budget.totals(RULE) == (50, 0)
    now[0] += 9
    assert budget.totals(RULE) == (50, 0)
    now[0] += 1
    assert budget.totals(RULE) == (0, 0)


@pytest.mark.parametrize(
    ("requests", "retries", "allowed"),
    [(0, 4, True), (0, 5, False), (100, 24, True), (100, 25, False)],
)
def test_allows(requests: int, retries: int, allowed: bool) -> None:
    assert allows(requests, retries, RULE) is allowed


async def test_redis_outage_falls_back_to_the_local_budget() -> None:
    from sidecar.redis_connection import connect
    from sidecar.secrets import Secret
    from tests.helpers import free_port

    client = connect(Secret(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        budget = RedisRetryBudget(client, "down")
        assert await spend_all(budget) == 5
    finally:
        await client.aclose()
