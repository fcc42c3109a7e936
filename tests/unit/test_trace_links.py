"""The trace-context stores: one contract, run against memory and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from sidecar.telemetry import links, metrics, tracing
from sidecar.telemetry.links import (
    MemoryTraceContextStore,
    RedisTraceContextStore,
    TraceContextStore,
)
from tests.conftest import RedisServer, SpanRecorder

TP1 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TP2 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[TraceContextStore]:
    if request.param == "memory":
        yield MemoryTraceContextStore()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    yield RedisTraceContextStore(client)
    await client.aclose()


async def test_remembers_by_invoice_id(store: TraceContextStore) -> None:
    assert await store.get(1) is None
    await store.put(1, TP1)
    await store.put(2, TP2)
    assert await store.get(1) == TP1
    assert await store.get(2) == TP2


async def test_the_first_trace_wins(store: TraceContextStore) -> None:
    await store.put(3, TP1)
    await store.put(3, TP2)  # a replay of the creating call must not take the link over
    assert await store.get(3) == TP1


async def test_link_helpers_round_trip(store: TraceContextStore, spans: SpanRecorder) -> None:
    with tracing.span("create invoice") as created:
        await links.remember_invoice(store, 42)
    link = await links.invoice_link(store, 42)
    assert link is not None
    assert link.context.span_id == created.get_span_context().span_id
    assert await links.invoice_link(store, 43) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_forgets_by_age_and_count() -> None:
    clock = Clock()
    store = MemoryTraceContextStore(ttl=10, max_entries=2, clock=clock)
    await store.put(1, TP1)
    clock.now += 11
    assert await store.get(1) is None
    await store.put(1, TP2)  # an expired entry may be replaced
    await store.put(2, TP1)
    await store.put(3, TP1)
    assert await store.get(1) is None  # the oldest went out
    assert await store.get(3) == TP1


async def test_redis_store_sets_a_ttl(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        store = RedisTraceContextStore(client, ttl=60)
        await store.put(9, TP1)
        assert 0 < await client.ttl(store.key(9)) <= 60
        assert store.key(9) == "cps:trace:{9}"
    finally:
        await client.aclose()


class Broken:
    async def put(self, invoice_id: int, traceparent: str) -> None:
        raise ConnectionError("redis is gone")

    async def get(self, invoice_id: int) -> Any:
        raise ConnectionError("redis is gone")

    async def close(self) -> None:
        return None


async def test_store_failures_never_reach_the_caller(spans: SpanRecorder) -> None:
    before = metrics.REGISTRY.get_sample_value(
        "cryptopay_sidecar_trace_context_lookups_total", {"result": "error"}
    )
    with tracing.span("create invoice"):
        await links.remember_invoice(Broken(), 5)
    assert await links.invoice_link(Broken(), 5) is None
    after = metrics.REGISTRY.get_sample_value(
        "cryptopay_sidecar_trace_context_lookups_total", {"result": "error"}
    )
    assert (after or 0) - (before or 0) == 1
