"""An event as the gRPC API shows it (pure): typed invoice, raw body, times, marks.

Converting never fails. A stored update is genuine (its signature was checked), so whatever it
holds must reach the subscribers: a value the typed message cannot hold (an id beyond int64,
text that is not valid Unicode, a date out of range) is left unset and named in
`untyped_fields`, and the exact bytes stay in `raw_body`. One such event must never end a
stream, or no later event would ever be delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sidecar import mapping
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as pb
from sidecar.telemetry import metrics
from sidecar.webhooks.events import Event, fits_int64
from sidecar.webhooks.verify import INVOICE_PAID, parse_date

log = logging.getLogger(__name__)


def _path(key: str) -> str:
    """`payload.<key>`, printable even when the key itself is not valid Unicode."""
    return "payload." + key.encode("utf-8", "backslashreplace").decode("utf-8")


def _invoice(payload: Mapping[str, Any]) -> tuple[types.Invoice, list[str]]:
    """The typed invoice and the payload keys that could not be typed."""
    try:
        return mapping.from_json(payload, types.Invoice), []
    except Exception:  # any failure: fall back to one key at a time
        pass
    invoice = types.Invoice()
    bad: list[str] = []
    for key, value in payload.items():
        try:
            invoice.MergeFrom(mapping.from_json({key: value}, types.Invoice))
        except Exception:  # this key stays untyped, the others go through
            bad.append(_path(str(key)))
    return invoice, bad


def _typed(event: Event, message: pb.WebhookEvent) -> list[str]:
    """Fills every typed field it can; returns the names of those it could not."""
    record = event.record
    untyped = list(record.untyped)
    if record.update_id is not None:
        if fits_int64(record.update_id):
            message.update_id = record.update_id
        else:
            untyped.append("update_id")
    if "received_at" not in untyped:
        try:
            message.received_at.FromMilliseconds(record.received_at_ms)
        except (ValueError, OverflowError):
            untyped.append("received_at")
    # The body was verified and parsed at ingest; parsing again keeps the log format minimal.
    try:
        update = mapping.loads(record.body)
    except (ValueError, RecursionError):
        update = None
    if not isinstance(update, dict):
        untyped.append("request_date")
        if record.update_type == INVOICE_PAID:
            untyped.append("invoice")
        return untyped
    request_date = update.get("request_date")
    if request_date is not None:
        moment = parse_date(request_date) if isinstance(request_date, str) else None
        try:
            if moment is None:
                raise ValueError("not a date")
            message.request_date.FromDatetime(moment)
        except (ValueError, OverflowError):
            message.ClearField("request_date")
            untyped.append("request_date")
    payload = update.get("payload")
    if record.update_type == INVOICE_PAID:
        if isinstance(payload, dict):
            invoice, bad = _invoice(payload)
            message.invoice.CopyFrom(invoice)
            untyped.extend(bad)
        else:
            untyped.append("invoice")
    return untyped


# Every subscriber of a replica gets the same event: convert it (and report what could not be
# typed) once. The cached message is never mutated (a response copies it).
@lru_cache(maxsize=4096)
def _convert(event: Event) -> pb.WebhookEvent:
    record = event.record
    message = pb.WebhookEvent(
        event_id=str(event.id),
        update_type=record.update_type,
        raw_body=record.body,
        signature=record.signature,
        synthetic=record.synthetic,
    )
    try:
        untyped = _typed(event, message)
    except Exception:  # the last resort: the raw body still goes out
        log.exception("webhook event conversion failed", extra={"event_id": str(event.id)})
        message = pb.WebhookEvent(
            event_id=str(event.id),
            update_type=record.update_type,
            raw_body=record.body,
            signature=record.signature,
            synthetic=record.synthetic,
        )
        untyped = ["update_id", "received_at", "request_date", "invoice"]
    if untyped:
        untyped = list(dict.fromkeys(untyped))
        message.untyped_fields.extend(untyped)
        metrics.webhook_untyped(record.update_type)
        # The names only: values are payment data, and raw_body carries them to subscribers.
        log.warning(
            "webhook event delivered with fields that could not be typed",
            extra={
                "event_id": str(event.id),
                "update_type": record.update_type,
                "untyped_fields": untyped,
            },
        )
    return message


@lru_cache(maxsize=4096)
def to_proto(event: Event, attempt: int = 0) -> pb.WebhookEvent:
    message = _convert(event)
    if attempt:
        message = pb.WebhookEvent(delivery_attempt=attempt)
        message.MergeFrom(_convert(event))
    return message
