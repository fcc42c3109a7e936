"""The trace-context stores: one contract, run against memory and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sidecar.redis_connection import Redis
from sidecar.telemetry import links, tracing
from sidecar.telemetry.links import (
    MemoryTraceContextStore,
    RedisTraceContextStore,
    TraceContextStore,
)
from tests.conftest import SpanRecorder
from tests.contract.conftest import StoreTime

TP1 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TP2 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
async def store(backend: Redis | None, store_time: StoreTime) -> AsyncIterator[TraceContextStore]:
    made: TraceContextStore = (
        MemoryTraceContextStore(clock=store_time)
        if backend is None
        else RedisTraceContextStore(backend)
    )
    yield made
    await made.close()


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


async def test_memory_store_forgets_by_age_and_count() -> None:
    clock = StoreTime(real=False)
    store = MemoryTraceContextStore(ttl=10, max_entries=2, clock=clock)
    await store.put(1, TP1)
    await clock.advance(11)
    assert await store.get(1) is None
    await store.put(1, TP2)  # an expired entry may be replaced
    await store.put(2, TP1)
    await store.put(3, TP1)
    assert await store.get(1) is None  # the oldest went out
    assert await store.get(3) == TP1


async def test_redis_store_sets_a_ttl(redis_client: Redis) -> None:
    store = RedisTraceContextStore(redis_client, ttl=60)
    await store.put(9, TP1)
    assert 0 < await redis_client.ttl(store.key(9)) <= 60
    assert store.key(9) == "cps:trace:{9}"
