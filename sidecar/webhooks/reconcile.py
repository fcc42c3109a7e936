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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sidecar import mapping
from sidecar.errors import RpcError
from sidecar.methods import BY_RPC
from sidecar.pipeline import Next, new_call
from sidecar.policy.model import PolicySnapshot
from sidecar.store_base import StoreUnavailable
from sidecar.tasks import stop_task
from sidecar.telemetry import tracing
from sidecar.webhooks.dedupe import invoice_key
from sidecar.webhooks.events import EventRecord
from sidecar.webhooks.log import EventLog
from sidecar.webhooks.verify import INVOICE_PAID, parse_date

log = logging.getLogger(__name__)

BATCH = 1000  # getInvoices' largest page
GET_INVOICES = BY_RPC["GetInvoices"]
SWEEP_CALLER = "sidecar"  # the sweep's rate-limit bucket name, as a caller's
SWEEP_TIMEOUT = 30.0


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


def parse_items(body: bytes) -> list[Any] | None:
    try:
        data = mapping.loads(body)
    except (ValueError, RecursionError):
        return None
    result = data.get("result") if isinstance(data, dict) and data.get("ok") is True else None
    items = result.get("items") if isinstance(result, dict) else None
    return items if isinstance(items, list) else None


class Reconciler:
    def __init__(
        self,
        event_log: EventLog,
        send: Next,
        policy: Callable[[], PolicySnapshot | None],
        interval: float,
        grace: float,
        dedupe_ttl_ms: int,
    ) -> None:
        self._log = event_log
        self._send = send  # the rate-limited upstream every request of the sidecar goes through
        self._policy = policy
        self._interval = interval
        self._grace = timedelta(seconds=grace)
        self._ttl_ms = dedupe_ttl_ms
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-sweep")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def _run(self) -> None:
        while True:
            # Jitter keeps replicas from asking for the lease at the same instant.
            await asyncio.sleep(self._interval * random.uniform(0.8, 1.0))
            try:
                with tracing.untraced():  # a periodic job, not a caller's trace
                    await self.sweep()
            except StoreUnavailable as exc:
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
        call = new_call(GET_INVOICES, GET_INVOICES.request_type(), {}, SWEEP_TIMEOUT)
        call.caller = SWEEP_CALLER
        call.policy = self._policy()
        call.params = {"invoice_ids": ",".join(map(str, tracked)), "count": BATCH}
        try:
            outcome = await self._send(call)
        except RpcError as exc:  # refused by the rate limiter: the next sweep asks again
            log.warning("reconciliation sweep: getInvoices refused", extra={"error": str(exc)})
            return 0
        items = None if outcome.body is None else parse_items(outcome.body)
        if items is None:
            log.warning(
                "reconciliation sweep: getInvoices failed",
                extra={"error_name": outcome.error_name, "http_status": outcome.http_status},
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
