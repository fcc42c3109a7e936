"""Genuine updates whose values the typed API cannot hold (ids beyond int64, text that is not
valid Unicode, values of unexpected JSON types) are stored, and every kind of stream delivers
them with raw_body and untyped_fields, then goes on: over real gRPC, on two sidecars sharing a
real Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from google.protobuf.struct_pb2 import Struct

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.secrets import Secret
from sidecar.signature import sign
from tests.conftest import LogCapture, RedisServer, RunningSidecar, sample, scrape, start_sidecar
from tests.webhooks.conftest import WebhookStub, ingest_url, iso, post, subscribe, update_body

UTF8_JSON = "application/json;charset=utf-8"
UNTYPED = "cryptopay_sidecar_webhooks_untyped_total"


def beyond_int64() -> bytes:
    """invoice_id and update_id that do not fit int64 (Python's JSON reads them exactly)."""
    update = json.loads(update_body(1))
    update["update_id"] = 2**64 + 5
    update["payload"]["invoice_id"] = 2**63
    return json.dumps(update, ensure_ascii=False).encode()


def odd_types() -> bytes:
    """Values of unexpected JSON types, and escapes that are not valid Unicode text."""
    now = iso(datetime.now(UTC))
    return (
        '{"update_id":7,"update_type":"invoice_paid","request_date":"' + now + '",'
        '"payload":{"invoice_id":9002,"asset":"USDT","amount":{"value":"1.5"},'
        '"description":"\\ud800 lone surrogate","\\udc00key":1,"paid_at":"not a date",'
        '"status":7,"created_at":5,"surcharge":1' + "0" * 400 + ',"hash":["IV"]}}'
    ).encode()


@pytest.fixture
async def replicas(
    emulator: RunningEmulator, token: str, redis_server: RedisServer
) -> AsyncIterator[tuple[RunningSidecar, RunningSidecar]]:
    a = await start_sidecar(emulator, token, redis_url=Secret(redis_server.url))
    b = await start_sidecar(emulator, token, redis_url=Secret(redis_server.url))
    yield a, b
    for running in (a, b):
        await running.channel.close(None)
        await running.sidecar.stop()


async def test_untypable_events_are_delivered_and_every_stream_goes_on(
    replicas: tuple[RunningSidecar, RunningSidecar],
    http_session: aiohttp.ClientSession,
    token: str,
    captured_logs: LogCapture,
) -> None:
    a, b = replicas
    stub_a, stub_b = WebhookStub(a.channel), WebhookStub(b.channel)
    live_a = subscribe(stub_a)
    live_b = subscribe(stub_b)
    group = subscribe(stub_b, group="billing", consumer="one", start=wpb.START_POSITION_EARLIEST)
    await live_a.none_within(0.5)
    before = sample(
        await scrape(http_session, a.sidecar.http_port), UNTYPED, update_type="invoice_paid"
    )

    bodies = [update_body(9001), beyond_int64(), odd_types(), update_body(9003)]
    for body in bodies:
        status, answer = await post(http_session, ingest_url(a), body, sign(token, body), UTF8_JSON)
        assert (status, answer["duplicate"]) == (200, False), answer

    def check(events: list[wpb.WebhookEvent]) -> None:
        assert [e.raw_body for e in events] == bodies
        first, big, odd, last = events
        assert first.invoice.invoice_id == 9001 and not first.untyped_fields
        assert last.invoice.invoice_id == 9003 and not last.untyped_fields
        assert list(big.untyped_fields) == ["update_id", "payload.invoice_id"]
        assert big.update_id == 0 and big.invoice.invoice_id == 0
        assert big.invoice.asset == "USDT" and big.invoice.amount == "1.5"  # the rest is typed
        assert big.request_date.seconds > 0 and big.received_at.seconds > 0
        assert sorted(odd.untyped_fields) == sorted(
            ["payload.description", "payload.\\udc00key", "payload.surcharge"]
        )
        assert odd.invoice.invoice_id == 9002 and odd.update_id == 7
        # Values of other unexpected types are kept as JSON, as for API answers.
        unknown = odd.invoice.unknown_fields
        assert set(unknown.fields) == {"amount", "paid_at", "status", "created_at", "hash"}
        amount = unknown["amount"]
        assert isinstance(amount, Struct) and amount["value"] == "1.5"
        assert unknown["paid_at"] == "not a date"

    for live in (live_a, live_b):
        check(await live.take(4))
    taken = await group.take(4)
    check(taken)
    assert all(e.delivery_attempt == 1 for e in taken)
    await stub_b.Ack(wpb.AckRequest(group="billing", event_ids=[e.event_id for e in taken]))

    # Resumed on either replica, from before the poison events or from the beginning.
    first_id = taken[0].event_id
    for stub in (stub_a, stub_b):
        resumed = subscribe(stub, after_event_id=first_id)
        assert [e.raw_body for e in await resumed.take(3)] == bodies[1:]
        earliest = subscribe(stub, start=wpb.START_POSITION_EARLIEST)
        check(await earliest.take(4))
        for events in (resumed, earliest):
            events.cancel()

    # A later event still flows to every live stream, and a second group starts at the poison.
    later = update_body(9004)
    assert (await post(http_session, ingest_url(b), later, sign(token, later), UTF8_JSON))[0] == 200
    for live in (live_a, live_b, group):
        [event] = await live.take(1)
        assert event.invoice.invoice_id == 9004
    other = subscribe(stub_a, group="audit", consumer="x", after_event_id=first_id)
    assert [e.raw_body for e in await other.take(4)] == [*bodies[1:], later]

    after = sample(
        await scrape(http_session, a.sidecar.http_port), UNTYPED, update_type="invoice_paid"
    )
    assert after - before >= 2
    warned = [line for line in captured_logs.lines() if "could not be typed" in line["msg"]]
    assert {tuple(line["untyped_fields"]) for line in warned} >= {
        ("update_id", "payload.invoice_id")
    }
    assert "lone surrogate" not in captured_logs.text()  # names only, never the values
    for events in (live_a, live_b, group, other):
        events.cancel()
