"""The reconciliation sweep: webhooks are best-effort, getInvoices is not.

Invoices created through the sidecar are tracked in the event log's store. Every interval one
replica (a lease in the store) asks getInvoices about up to 1000 of them, least recently
checked first. A paid invoice whose webhook has not arrived `grace` seconds after `paid_at`
gets a synthetic `invoice_paid` event, marked as such, appended under the same dedupe key as
the webhook, so whichever comes second is a duplicate and is never published twice. Settled
invoices (paid, expired, deleted) are forgotten.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.message import Message

from sidecar import mapping
from sidecar.gateway import Gateway
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.outcome import HttpAnswer
from sidecar.service import CryptoPayService
from sidecar.telemetry import tracing
from sidecar.upstream import Upstream
from sidecar.webhooks.dedupe import invoice_key
from sidecar.webhooks.events import EventRecord
from sidecar.webhooks.log import EventLog, LogUnavailable
from sidecar.webhooks.verify import INVOICE_PAID, parse_date

log = logging.getLogger(__name__)

BATCH = 1000  # getInvoices' largest page


@dataclass(frozen=True, slots=True)
class Decision:
    publish: list[Mapping[str, Any]]  # paid, webhook overdue
    forget: list[int]  # settled: stop tracking (after publishing the paid ones)


def decide(
    tracked: Sequence[int], items: Sequence[Any], now: datetime, grace: timedelta
) -> Decision:
    """What to do with the tracked invoices given getInvoices' answer about them (pure)."""
    by_id = {
        item["invoice_id"]: item
        for item in items
        if isinstance(item, Mapping) and isinstance(item.get("invoice_id"), int)
    }
    publish: list[Mapping[str, Any]] = []
    forget: list[int] = []
    for invoice_id in tracked:
        item = by_id.get(invoice_id)
        if item is None:  # deleted (getInvoices never lists deleted invoices)
            forget.append(invoice_id)
            continue
        status = item.get("status")
        if status == "paid":
            raw = item.get("paid_at")
            paid_at = parse_date(raw) if isinstance(raw, str) else None
            if paid_at is None or now - paid_at >= grace:
                publish.append(item)
                forget.append(invoice_id)
        elif status == "expired":
            forget.append(invoice_id)
    return Decision(publish, forget)


def synthetic_update(invoice: Mapping[str, Any], now: datetime) -> bytes:
    """An update shaped like Crypto Pay's, marked `"synthetic": true`, unsigned."""
    update = {
        "update_id": 0,
        "update_type": INVOICE_PAID,
        "request_date": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "synthetic": True,
        "payload": invoice,
    }
    return json.dumps(update, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def synthetic_record(invoice: Mapping[str, Any], now: datetime) -> EventRecord:
    asset = invoice.get("asset") or invoice.get("paid_asset")
    return EventRecord(
        update_type=INVOICE_PAID,
        update_id=None,
        invoice_id=int(invoice["invoice_id"]),
        asset=asset if isinstance(asset, str) else "",
        received_at_ms=time.time_ns() // 1_000_000,
        body=synthetic_update(invoice, now),
        signature="",
        synthetic=True,
    )


def parse_items(answer: HttpAnswer) -> list[Any] | None:
    if answer.status != 200:
        return None
    try:
        data = mapping.loads(answer.body)
    except (ValueError, RecursionError):
        return None
    result = data.get("result") if isinstance(data, dict) and data.get("ok") is True else None
    items = result.get("items") if isinstance(result, dict) else None
    return items if isinstance(items, list) else None


class Reconciler:
    def __init__(
        self,
        event_log: EventLog,
        upstream: Upstream,
        interval: float,
        grace: float,
        dedupe_ttl_ms: int,
    ) -> None:
        self._log = event_log
        self._upstream = upstream
        self._interval = interval
        self._grace = timedelta(seconds=grace)
        self._ttl_ms = dedupe_ttl_ms
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            # Jitter keeps replicas from asking for the lease at the same instant.
            await asyncio.sleep(self._interval * random.uniform(0.8, 1.0))
            try:
                with tracing.untraced():  # a periodic job, not a caller's trace
                    await self.sweep()
            except LogUnavailable as exc:
                log.warning("reconciliation sweep skipped", extra={"error": str(exc)})
            except Exception:
                log.exception("reconciliation sweep failed")

    async def sweep(self) -> int:
        """One sweep; returns how many synthetic events were published."""
        if not await self._log.try_lock("reconcile", max(1, int(self._interval * 900))):
            return 0
        tracked = await self._log.tracked(BATCH)
        if not tracked:
            return 0
        params = {"invoice_ids": ",".join(map(str, tracked)), "count": BATCH}
        answer = await self._upstream.call("getInvoices", params, 30.0)
        items = parse_items(answer) if isinstance(answer, HttpAnswer) else None
        if items is None:
            log.warning(
                "reconciliation sweep: getInvoices failed", extra={"answer": str(answer)[:200]}
            )
            return 0
        now = datetime.now(UTC)
        decision = decide(tracked, items, now, self._grace)
        published = 0
        for invoice in decision.publish:
            record = synthetic_record(invoice, now)
            assert record.invoice_id is not None
            appended = await self._log.append(
                record, invoice_key(INVOICE_PAID, record.invoice_id), self._ttl_ms
            )
            if not appended.duplicate:
                published += 1
                log.warning(
                    "no webhook arrived for a paid invoice: published a synthetic event",
                    extra={"invoice_id": record.invoice_id, "event_id": str(appended.id)},
                )
        await self._log.untrack(decision.forget)
        return published


class InvoiceTrackingService(CryptoPayService):
    """CryptoPayService that tracks every invoice it creates for the sweep."""

    def __init__(self, gateway: Gateway, event_log: EventLog) -> None:
        super().__init__(gateway)
        self._log = event_log

    async def CreateInvoice(  # type: ignore[override]
        self, request: pb.CreateInvoiceRequest, context: grpc.aio.ServicerContext[Message, Message]
    ) -> pb.CreateInvoiceResponse:
        response = await super().CreateInvoice(request, context)
        if response.invoice.invoice_id:
            try:
                await self._log.track([response.invoice.invoice_id])
            except LogUnavailable as exc:
                log.warning(
                    "invoice not tracked for reconciliation",
                    extra={"invoice_id": response.invoice.invoice_id, "error": str(exc)},
                )
        return response
