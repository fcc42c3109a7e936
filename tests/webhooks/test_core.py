"""Pure pieces of delivery: event ids, record encoding, buffers, request rules, conversion."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.webhooks.buffer import Interrupt, Signal, SubscriberBuffer
from sidecar.webhooks.delivery import requests
from sidecar.webhooks.delivery.convert import to_proto
from sidecar.webhooks.events import (
    ZERO,
    BadEventId,
    Event,
    EventId,
    EventRecord,
    decode,
    encode,
    next_id,
)
from sidecar.webhooks.groups import claim_interval
from tests.helpers import fixture_path

RECORD = EventRecord(
    update_type="invoice_paid",
    update_id=70399871,
    invoice_id=51870044,
    asset="USDT",
    received_at_ms=1_755_941_791_900,
    body=fixture_path("webhook-invoice-paid.crypto-mainnet.json").read_bytes(),
    signature="0f" * 32,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("0-0", ZERO), ("1755941791900-3", EventId(1755941791900, 3)), (b"5-1", EventId(5, 1))],
)
def test_event_ids_parse(text: str | bytes, parsed: EventId) -> None:
    assert EventId.parse(text) == parsed
    assert str(parsed) == (text.decode() if isinstance(text, bytes) else text)


@pytest.mark.parametrize("text", ["", "1", "-1-0", "1-", "a-b", "1-0-0", "99999999999999999999-0"])
def test_bad_event_ids(text: str) -> None:
    with pytest.raises(BadEventId):
        EventId.parse(text)


def test_event_ids_order_numerically() -> None:
    assert EventId(9, 0) < EventId(10, 0) < EventId(10, 1) and EventId(0, 1) > ZERO
    assert next_id(EventId(10, 4), 12) == EventId(12, 0)
    assert next_id(EventId(10, 4), 10) == EventId(10, 5)
    assert next_id(EventId(10, 4), 3) == EventId(10, 5)  # the clock went back


def as_stream_fields(record: EventRecord) -> dict[bytes, bytes]:
    fields = encode(record).items()
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields}


def test_records_round_trip_through_stream_fields() -> None:
    assert decode(as_stream_fields(RECORD)) == RECORD
    synthetic = EventRecord("x", None, None, "", 1, b"{}", "", synthetic=True)
    fields = as_stream_fields(synthetic)
    assert decode(fields) == synthetic


def test_unreadable_stream_entries_are_decoded_as_far_as_they_go() -> None:
    """An entry not written by this version (or damaged) is still delivered, never dropped."""
    fields = as_stream_fields(RECORD)
    assert decode({**fields, b"u": b"one"}) == replace(
        RECORD, update_id=None, untyped=("update_id",)
    )
    bare = decode({b"t": b"x", b"s": b"\xff"})
    assert bare.update_type == "x" and bare.body == b"" and bare.signature == ""
    assert bare.untyped == ("received_at", "raw_body", "signature")
    message = to_proto(Event(EventId(3, 0), bare))
    assert message.event_id == "3-0" and message.update_type == "x"
    assert list(message.untyped_fields) == [*bare.untyped, "request_date"]
    assert not message.HasField("received_at")


def event(n: int) -> Event:
    return Event(EventId(n, 0), RECORD)


async def test_buffer_hands_over_in_order_and_overflows_to_the_log() -> None:
    buffer = SubscriberBuffer(3)
    assert not buffer.push([event(1), event(2)])
    assert await buffer.get() == [event(1), event(2)]
    assert not buffer.push([event(3)])
    assert buffer.push([event(4), event(5), event(6)])  # 4 > capacity: overflow
    assert not buffer.push([event(7)])  # ignored: the subscriber rereads the log
    assert await buffer.get() is Interrupt.OVERFLOW
    assert not buffer.push([event(8)])
    assert await buffer.get() == [event(8)]
    buffer.close()
    assert await buffer.get() is Interrupt.CLOSED


async def test_signal_does_not_lose_a_notify_before_the_wait() -> None:
    signal = Signal()
    seen = signal.version
    signal.notify()
    await asyncio.wait_for(signal.wait(seen, 10), 1)  # returns at once
    waiter = asyncio.create_task(signal.wait(signal.version, 10))
    await asyncio.sleep(0)  # one turn of the loop: the waiter is waiting (no timing involved)
    signal.notify()
    await asyncio.wait_for(waiter, 1)
    await signal.wait(signal.version, 0.01)  # times out quietly


@pytest.mark.parametrize(
    ("request_fields", "bad"),
    [
        ({}, set()),
        ({"after_event_id": "1-0"}, set()),
        ({"after_event_id": "1"}, {"after_event_id"}),
        ({"after_event_id": "1-0", "start": wpb.START_POSITION_EARLIEST}, {"start"}),
        ({"group": "billing", "consumer": "pod-1", "max_in_flight": 5}, set()),
        ({"group": "bad group"}, {"group"}),
        ({"group": "g" * 65}, {"group"}),
        ({"consumer": "c"}, {"consumer"}),
        ({"max_in_flight": 3}, {"max_in_flight"}),
        ({"group": "g", "max_in_flight": 1001}, {"max_in_flight"}),
        ({"visibility_timeout": Duration(seconds=5)}, {"visibility_timeout"}),
        ({"group": "g", "visibility_timeout": Duration(nanos=500_000_000)}, {"visibility_timeout"}),
        ({"group": "g", "visibility_timeout": Duration(seconds=13 * 3600)}, {"visibility_timeout"}),
        ({"group": "g", "visibility_timeout": Duration(seconds=5)}, set()),
        ({"update_types": ["invoice_paid", ""]}, {"update_types"}),
        ({"assets": ["USDT", "US DT"]}, {"assets"}),
    ],
)
def test_subscribe_validation(request_fields: dict[str, object], bad: set[str]) -> None:
    violations = requests.validate_subscribe(wpb.SubscribeRequest(**request_fields))  # type: ignore[arg-type]
    assert {v.field for v in violations} == bad


def test_ack_validation() -> None:
    assert requests.validate_ids(wpb.AckRequest(group="g", event_ids=["1-0"])) == []
    fields = {v.field for v in requests.validate_ids(wpb.NackRequest(event_ids=["x"]))}
    assert fields == {"group", "event_ids"}
    too_many = wpb.AckRequest(group="g", event_ids=["1-0"] * 1001)
    assert [v.field for v in requests.validate_ids(too_many)] == ["event_ids"]


def test_request_interpretation() -> None:
    assert requests.start_of(wpb.SubscribeRequest()) == requests.Start(None)
    assert requests.start_of(wpb.SubscribeRequest(after_event_id="4-2")).after == EventId(4, 2)
    assert requests.start_of(wpb.SubscribeRequest(start=wpb.START_POSITION_EARLIEST)).earliest
    wanted = requests.filter_of(wpb.SubscribeRequest(assets=["ton"]))
    assert wanted.matches("invoice_paid", "TON") and not wanted.matches("invoice_paid", "USDT")
    everything = requests.filter_of(wpb.SubscribeRequest())
    assert everything.matches("anything", "")
    assert requests.visibility_ms(wpb.SubscribeRequest(), 30) == 30_000
    custom = wpb.SubscribeRequest(group="g", visibility_timeout=Duration(seconds=2))
    assert requests.visibility_ms(custom, 30) == 2_000
    assert requests.in_flight(wpb.SubscribeRequest()) == requests.DEFAULT_IN_FLIGHT
    assert claim_interval(1_000) == 0.25 and claim_interval(100) == 0.05
    assert claim_interval(30_000) == 1.0


def test_conversion_to_the_api_event() -> None:
    message = to_proto(Event(EventId(1755941791900, 0), RECORD), attempt=2)
    assert message.event_id == "1755941791900-0" and message.delivery_attempt == 2
    assert message.update_id == 70399871 and message.raw_body == RECORD.body
    assert message.invoice.invoice_id == 51870044
    assert message.invoice.status == types.INVOICE_STATUS_PAID
    assert message.invoice.description == "Заказ №5512"
    assert message.request_date.ToJsonString() == "2026-01-14T18:41:33.745Z"
    assert message.received_at.ToMilliseconds() == RECORD.received_at_ms
    odd = EventRecord("other", None, None, "", 1, b"not json", "")
    assert not to_proto(Event(ZERO, odd)).HasField("invoice")


def test_ids_beyond_int64_are_delivered_untyped() -> None:
    body = json.loads(RECORD.body)
    body["update_id"] = 2**64
    body["payload"]["invoice_id"] = -(2**63) - 1
    raw = json.dumps(body).encode()
    record = replace(RECORD, update_id=2**64, invoice_id=-(2**63) - 1, body=raw)
    message = to_proto(Event(EventId(5, 0), record), attempt=3)
    assert list(message.untyped_fields) == ["update_id", "payload.invoice_id"]
    assert message.update_id == 0 and message.invoice.invoice_id == 0
    assert message.invoice.description == "Заказ №5512"
    assert message.delivery_attempt == 3 and message.raw_body == raw
    assert to_proto(Event(EventId(5, 0), record)).delivery_attempt == 0  # the cache is intact


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(),  # includes lone surrogates
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
INVOICE_KEYS = st.sampled_from(
    ["invoice_id", "amount", "status", "paid_at", "created_at", "asset", "hash", "currency_type"]
)


@settings(max_examples=200, deadline=None)
@given(
    payload=st.dictionaries(INVOICE_KEYS | st.text(max_size=5), JSON, max_size=6),
    update_id=JSON,
    request_date=JSON | st.sampled_from(["0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59Z"]),
)
def test_conversion_never_fails_and_always_serializes(
    payload: dict[str, Any], update_id: Any, request_date: Any
) -> None:
    update = {"update_type": "invoice_paid", "update_id": update_id, "request_date": request_date}
    raw = json.dumps({**update, "payload": payload}).encode()
    big = update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None
    record = replace(RECORD, update_id=big, body=raw)
    message = to_proto(Event(EventId(7, 0), record))
    assert message.raw_body == raw
    assert wpb.WebhookEvent.FromString(message.SerializeToString()) == message
    for name in message.untyped_fields:
        assert name in wpb.WebhookEvent.DESCRIPTOR.fields_by_name or name.startswith("payload.")
