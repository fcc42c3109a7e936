"""The trace-link helpers are best effort: a failing store never reaches the caller (the
stores' own contract is tests/contract/test_trace_link_store.py)."""

from __future__ import annotations

from typing import Any

from sidecar.telemetry import links, metrics, tracing
from tests.conftest import SpanRecorder


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
