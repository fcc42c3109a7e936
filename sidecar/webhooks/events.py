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


@dataclass(frozen=True, slots=True)
class Event:
    id: EventId
    record: EventRecord


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event handed to a consumer-group member; `attempt` counts deliveries to the group."""

    event: Event
    attempt: int


class CorruptRecord(ValueError):
    pass


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


def _text(fields: Mapping[bytes, bytes], key: bytes) -> str:
    try:
        return fields[key].decode("utf-8")
    except (KeyError, UnicodeDecodeError) as exc:
        raise CorruptRecord(f"field {key!r}: {exc}") from None


def _optional_int(text: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise CorruptRecord(f"{text!r} is not an integer") from None


def decode(fields: Mapping[bytes, bytes]) -> EventRecord:
    received = _optional_int(_text(fields, b"r"))
    if received is None or b"b" not in fields:
        raise CorruptRecord("missing received time or body")
    return EventRecord(
        update_type=_text(fields, b"t"),
        update_id=_optional_int(_text(fields, b"u")),
        invoice_id=_optional_int(_text(fields, b"i")),
        asset=_text(fields, b"a"),
        received_at_ms=received,
        body=fields[b"b"],
        signature=_text(fields, b"s"),
        synthetic=fields.get(b"y") == b"1",
        traceparent=fields.get(b"p", b"").decode("ascii", "replace"),
        created_traceparent=fields.get(b"c", b"").decode("ascii", "replace"),
    )
