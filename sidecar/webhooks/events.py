"""Events as the log stores them (pure): ids, records and their encoding as stream fields.

An event id is a Redis Stream id, `<milliseconds>-<sequence>`: stable, totally ordered, and
the same format whichever log (memory or Redis) holds the event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import total_ordering

_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
_U64 = 2**64 - 1
_INT64 = range(-(2**63), 2**63)


def fits_int64(value: int | None) -> bool:
    """Whether an id from an update fits the int64 fields of the API (and of span attributes)."""
    return value is not None and value in _INT64


class BadEventId(ValueError):
    pass


@total_ordering
@dataclass(frozen=True, slots=True)
class EventId:
    ms: int
    seq: int

    @classmethod
    def parse(cls, text: str | bytes) -> EventId:
        if isinstance(text, bytes):
            text = text.decode("ascii", "replace")
        match = _ID.match(text)
        if match is None:
            raise BadEventId(f"{text!r} is not an event id (<milliseconds>-<sequence>)")
        ms, seq = int(match[1]), int(match[2])
        if ms > _U64 or seq > _U64:
            raise BadEventId(f"{text!r} is out of range")
        return cls(ms, seq)

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, EventId):
            return NotImplemented
        return (self.ms, self.seq) < (other.ms, other.seq)


ZERO = EventId(0, 0)


def is_event_id(text: str) -> bool:
    try:
        EventId.parse(text)
    except BadEventId:
        return False
    return True


def next_id(last: EventId, now_ms: int) -> EventId:
    """The id after `last` at time `now_ms` (Redis' rule: never goes backwards)."""
    if now_ms > last.ms:
        return EventId(now_ms, 0)
    return EventId(last.ms, last.seq + 1)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What ingest appends: the verified update, its exact bytes, and how it arrived."""

    update_type: str
    update_id: int | None
    invoice_id: int | None
    asset: str  # the invoice's asset (or paid_asset for fiat invoices), for filters
    received_at_ms: int
    body: bytes
    signature: str  # the header as received ("" for synthetic events)
    synthetic: bool = False  # produced by the reconciliation sweep, not by a webhook
    # W3C traceparents carried across the async gap: the ingest span, and the RPC that created
    # the invoice; delivery spans link to both.
    traceparent: str = ""
    created_traceparent: str = ""
    # WebhookEvent fields this record could not supply (an unreadable log entry); see decode.
    untyped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    id: EventId
    record: EventRecord


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event handed to a consumer-group member; `attempt` counts deliveries to the group."""

    event: Event
    attempt: int


def encode(record: EventRecord) -> dict[str, str | bytes]:
    """Stream fields; short names keep every entry small."""
    return {
        "t": record.update_type,
        "u": "" if record.update_id is None else str(record.update_id),
        "i": "" if record.invoice_id is None else str(record.invoice_id),
        "a": record.asset,
        "r": str(record.received_at_ms),
        "s": record.signature,
        "y": "1" if record.synthetic else "0",
        "p": record.traceparent,
        "c": record.created_traceparent,
        "b": record.body,
    }


class _Decoder:
    """Reads stream fields, noting each one that is missing or unreadable instead of failing:
    one bad entry must never stop a stream, so it is delivered with whatever could be read."""

    def __init__(self, fields: Mapping[bytes, bytes]) -> None:
        self.fields = fields
        self.untyped: list[str] = []

    def text(self, key: bytes, name: str) -> str:
        try:
            return self.fields[key].decode("utf-8")
        except (KeyError, UnicodeDecodeError, AttributeError):
            self.untyped.append(name)
            return ""

    def optional_int(self, key: bytes, name: str) -> int | None:
        raw = self.fields.get(key, b"")
        if not raw:
            return None
        if raw.isdigit() or (raw[:1] == b"-" and raw[1:].isdigit()):
            return int(raw)
        self.untyped.append(name)
        return None


def decode(fields: Mapping[bytes, bytes]) -> EventRecord:
    """The record in a stream entry; what could not be read is named in `untyped` (as the
    WebhookEvent field it feeds) and left empty."""
    reader = _Decoder(fields)
    received = reader.optional_int(b"r", "received_at")
    if received is None and "received_at" not in reader.untyped:
        reader.untyped.append("received_at")
    body = fields.get(b"b")
    if not isinstance(body, bytes):
        reader.untyped.append("raw_body")
        body = b""
    return EventRecord(
        update_type=reader.text(b"t", "update_type"),
        update_id=reader.optional_int(b"u", "update_id"),
        # These two only serve filters, logs and traces; the invoice is typed from the body.
        invoice_id=_Decoder(fields).optional_int(b"i", ""),
        asset=_Decoder(fields).text(b"a", ""),
        received_at_ms=received or 0,
        body=body,
        signature=reader.text(b"s", "signature"),
        synthetic=fields.get(b"y") == b"1",
        traceparent=fields.get(b"p", b"").decode("ascii", "replace"),
        created_traceparent=fields.get(b"c", b"").decode("ascii", "replace"),
        untyped=tuple(dict.fromkeys(reader.untyped)),
    )
