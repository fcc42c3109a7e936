"""Across the async gap: an invoice's creation trace, remembered by invoice id, so that the
webhook that reports it paid (minutes or days later, maybe on another replica) and its delivery
to subscribers carry a span link back to it. One trace view then shows create -> paid ->
delivered.

    await links.remember_invoice(store, invoice_id)     # in the CreateInvoice request
    link = await links.invoice_link(store, invoice_id)  # in the webhook ingest
    with tracing.span("webhook ingest", links=[link] if link else None): ...

The store keeps W3C traceparent strings: in memory (one replica), or in Redis (shared by the
replicas) when Redis is configured. Remembering and looking up are best effort: a failure is
logged and counted, never passed to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Protocol

from opentelemetry.trace import Link

from sidecar.redis_connection import translate_errors
from sidecar.store_base import Clock, Store, StoreUnavailable
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

# Invoices live at most 31 days (the API's longest expires_in); a link is worthless after.
DEFAULT_TTL = 31 * 24 * 3600.0
DEFAULT_MAX_ENTRIES = 100_000
# Never make an RPC or a webhook wait long for telemetry.
STORE_TIMEOUT = 0.25
LINK_INVOICE_CREATED = "invoice.created"


class TraceContextStore(Store, Protocol):
    async def put(self, invoice_id: int, traceparent: str) -> None:
        """Remembers the traceparent unless one is already remembered for this invoice
        (the first, creating, call wins over replays)."""

    async def get(self, invoice_id: int) -> str | None: ...


class MemoryTraceContextStore:
    """Bounded by entry count (oldest first out) and by age."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[int, tuple[float, str]] = OrderedDict()

    async def put(self, invoice_id: int, traceparent: str) -> None:
        now = self._clock()
        current = self._items.get(invoice_id)
        if current is not None and current[0] > now:
            return
        self._items[invoice_id] = (now + self._ttl, traceparent)
        self._items.move_to_end(invoice_id)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def get(self, invoice_id: int) -> str | None:
        item = self._items.get(invoice_id)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[invoice_id]
            return None
        return item[1]

    async def close(self) -> None:
        return None


class RedisTraceContextStore:
    """One key per invoice with a TTL; SET NX keeps the creating call's trace."""

    def __init__(self, client: Any, ttl: float = DEFAULT_TTL, prefix: str = "cps:trace") -> None:
        self._client = client
        self._ttl = max(int(ttl), 1)
        self._prefix = prefix

    def key(self, invoice_id: int) -> str:
        # A single-key command: the hash tag only keeps the key layout uniform on Cluster.
        return f"{self._prefix}:{{{invoice_id}}}"

    async def put(self, invoice_id: int, traceparent: str) -> None:
        with translate_errors():
            await self._client.set(self.key(invoice_id), traceparent, ex=self._ttl, nx=True)

    async def get(self, invoice_id: int) -> str | None:
        with translate_errors():
            value = await self._client.get(self.key(invoice_id))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def close(self) -> None:
        """The client belongs to the process (other stores share it); its owner closes it."""


async def remember_invoice(store: TraceContextStore, invoice_id: int) -> None:
    """Remembers the current trace as the creation trace of `invoice_id` (best effort)."""
    traceparent = tracing.current_traceparent()
    if traceparent is None or invoice_id <= 0:
        return
    try:
        await asyncio.wait_for(store.put(invoice_id, traceparent), STORE_TIMEOUT)
    except Exception as exc:
        log.warning(
            "could not remember the invoice's trace context",
            extra={"invoice_id": invoice_id, "error": _error(exc)},
        )


async def invoice_link(store: TraceContextStore, invoice_id: int) -> Link | None:
    """A span link to the trace that created `invoice_id`, or None if unknown (best effort)."""
    try:
        traceparent = await asyncio.wait_for(store.get(invoice_id), STORE_TIMEOUT)
    except Exception as exc:
        metrics.trace_context_lookup("error")
        log.warning(
            "could not look up the invoice's trace context",
            extra={"invoice_id": invoice_id, "error": _error(exc)},
        )
        return None
    found = tracing.link(traceparent, LINK_INVOICE_CREATED)
    metrics.trace_context_lookup("found" if found is not None else "missing")
    return found


def _error(exc: Exception) -> str:
    """An unavailable store says which error it met; anything else is named by its type."""
    return str(exc) if isinstance(exc, StoreUnavailable) else type(exc).__name__
