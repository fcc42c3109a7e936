"""An event as the gRPC API shows it (pure): typed invoice, raw body, times, marks."""

from __future__ import annotations

from functools import lru_cache

from google.protobuf.timestamp_pb2 import Timestamp

from sidecar import mapping
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as pb
from sidecar.webhooks.events import Event
from sidecar.webhooks.verify import INVOICE_PAID, parse_date


def _timestamp_ms(ms: int) -> Timestamp:
    ts = Timestamp()
    ts.FromMilliseconds(ms)
    return ts


# Every subscriber of a replica gets the same event: convert it once. The cached message is
# never mutated (a response copies it).
@lru_cache(maxsize=4096)
def to_proto(event: Event, attempt: int = 0) -> pb.WebhookEvent:
    record = event.record
    message = pb.WebhookEvent(
        event_id=str(event.id),
        update_type=record.update_type,
        update_id=record.update_id or 0,
        raw_body=record.body,
        signature=record.signature,
        received_at=_timestamp_ms(record.received_at_ms),
        synthetic=record.synthetic,
        delivery_attempt=attempt,
    )
    # The body was verified and parsed at ingest; parsing again keeps the log format minimal.
    try:
        update = mapping.loads(record.body)
    except (ValueError, RecursionError):
        return message
    if not isinstance(update, dict):
        return message
    request_date = update.get("request_date")
    moment = parse_date(request_date) if isinstance(request_date, str) else None
    if moment is not None:
        message.request_date.FromDatetime(moment)
    payload = update.get("payload")
    if record.update_type == INVOICE_PAID and isinstance(payload, dict):
        message.invoice.CopyFrom(mapping.from_json(payload, types.Invoice))
    return message
