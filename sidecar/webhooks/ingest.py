"""The webhook endpoint (aiohttp): read within the limit, verify, dedupe + append, answer.

200 means the event is in the log (or was already). Every refusal is a 4xx and publishes
nothing; 503 means the log could not be written and Crypto Pay should deliver again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from opentelemetry.trace import Link

from sidecar.signature import HEADER
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import links, metrics, tracing
from sidecar.webhooks.dedupe import dedupe_key
from sidecar.webhooks.events import EventRecord, fits_int64
from sidecar.webhooks.hub import Webhooks
from sidecar.webhooks.verify import Freshness, Reason, Refused, evaluate

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _answer(status: int, **body: object) -> web.Response:
    return web.json_response(body, status=status)


def _traceparent(link: Link | None) -> str:
    """A span link's target as a W3C traceparent, to carry with the event."""
    if link is None:
        return ""
    context = link.context
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def _refuse(refused: Refused) -> web.Response:
    metrics.webhook_rejected(refused.reason.name.lower())
    return _answer(
        refused.reason.status, ok=False, error=refused.reason.name, message=refused.detail
    )


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None if it is larger than `limit` bytes (nothing more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def handler(hub: Webhooks, clock: Clock = _now, body_timeout: float = 10.0) -> Handler:
    settings = hub.settings
    window = Freshness(
        timedelta(seconds=settings.freshness), timedelta(seconds=settings.clock_skew)
    )
    ttl_ms = int(settings.dedupe_seconds * 1000)

    async def ingest(request: web.Request) -> web.StreamResponse:
        try:
            # A sender that trickles its body must not hold the connection (slowloris).
            async with asyncio.timeout(body_timeout):
                body = await read_limited(request, settings.body_limit)
        except TimeoutError:
            log.info("webhook refused", extra={"reason": Reason.BODY_TIMEOUT.name})
            response = _refuse(
                Refused(Reason.BODY_TIMEOUT, f"the body did not arrive within {body_timeout:g} s")
            )
            response.force_close()
            return response
        if body is None:
            log.info("webhook refused", extra={"reason": Reason.BODY_TOO_LARGE.name})
            return _refuse(
                Refused(Reason.BODY_TOO_LARGE, f"the body exceeds {settings.body_limit} bytes")
            )
        signature = request.headers.get(HEADER)
        tokens = [t.reveal() for t in hub.tokens]
        verdict = evaluate(
            body, signature, request.headers.get("Content-Type"), tokens, clock(), window
        )
        if isinstance(verdict, Refused):
            # A bad signature is usually a wrong or rotated token: worth an operator's eye.
            level = logging.WARNING if verdict.reason is Reason.BAD_SIGNATURE else logging.INFO
            log.log(
                level,
                "webhook refused",
                extra={"reason": verdict.reason.name, "detail": verdict.detail},
            )
            return _refuse(verdict)
        metrics.webhook_received(verdict.update_type)
        created = None
        if hub.trace_links is not None and verdict.invoice_id is not None:
            created = await links.invoice_link(hub.trace_links, verdict.invoice_id)
        with tracing.span(
            "webhook ingest",
            {
                tracing.UPDATE_TYPE: verdict.update_type,
                # An exporter cannot encode an id beyond int64; the update is stored anyway.
                tracing.INVOICE_ID: verdict.invoice_id if fits_int64(verdict.invoice_id) else None,
            },
            links=[created] if created is not None else None,
        ):
            record = EventRecord(
                update_type=verdict.update_type,
                update_id=verdict.update_id,
                invoice_id=verdict.invoice_id,
                asset=verdict.asset,
                received_at_ms=time.time_ns() // 1_000_000,
                body=body,
                signature=signature or "",
                traceparent=tracing.current_traceparent() or "",
                created_traceparent=_traceparent(created),
            )
            try:
                appended = await hub.event_log.append(record, dedupe_key(verdict), ttl_ms)
            except StoreUnavailable as exc:
                tracing.fail(f"the event log is unavailable: {exc}")
                metrics.webhook_rejected("event_log_unavailable")
                log.warning(
                    "webhook not stored: the event log is unavailable; "
                    "Crypto Pay will deliver again",
                    extra={"invoice_id": verdict.invoice_id, "error": str(exc)},
                )
                response = _answer(503, ok=False, error="EVENT_LOG_UNAVAILABLE")
                response.headers["Retry-After"] = "1"
                return response
        if appended.duplicate:
            metrics.webhook_rejected("duplicate")
        else:
            metrics.webhook_published(verdict.update_type)
        log.info(
            "webhook duplicate" if appended.duplicate else "webhook stored",
            extra={
                "event_id": str(appended.id),
                "update_type": verdict.update_type,
                "invoice_id": verdict.invoice_id,
            },
        )
        return _answer(200, ok=True, event_id=str(appended.id), duplicate=appended.duplicate)

    return ingest
