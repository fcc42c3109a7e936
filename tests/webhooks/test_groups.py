"""Consumer groups over gRPC (in-memory log; the Redis log passes the same contract suite)."""

from __future__ import annotations

import aiohttp
from google.protobuf.duration_pb2 import Duration

from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from tests.conftest import RunningSidecar
from tests.webhooks.conftest import (
    WebhookStub,
    ingest_url,
    joined,
    post_signed,
    subscribe,
    update_body,
)


async def publish(
    running: RunningSidecar, session: aiohttp.ClientSession, invoice_ids: range
) -> None:
    for invoice_id in invoice_ids:
        status, _ = await post_signed(
            session, ingest_url(running), running.token, update_body(invoice_id)
        )
        assert status == 200


async def test_each_event_goes_to_one_member_until_acknowledged(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    stub = WebhookStub(sidecar.channel)
    a = subscribe(stub, group="billing", consumer="a", max_in_flight=3)
    await joined(sidecar, "billing", "a")  # and created the group at the newest event
    b = subscribe(stub, group="billing", consumer="b", max_in_flight=100)
    await joined(sidecar, "billing", "b")
    await publish(sidecar, http_session, range(1, 9))
    got_a = await a.take(3)
    await a.none_within(0.3)  # a holds 3 unacknowledged events: it gets no more
    got_b = await b.take(5)
    ids = sorted(e.invoice.invoice_id for e in got_a + got_b)
    assert ids == list(range(1, 9))
    assert all(e.delivery_attempt == 1 for e in got_a + got_b)

    acked = await stub.Ack(
        wpb.AckRequest(group="billing", event_ids=[e.event_id for e in got_a + got_b])
    )
    assert acked.acknowledged == 8
    again = await stub.Ack(wpb.AckRequest(group="billing", event_ids=[got_a[0].event_id]))
    assert again.acknowledged == 0
    # With room again, a takes new work (b leaves first so the event must go to a).
    b.cancel()
    await publish(sidecar, http_session, range(9, 10))
    [late] = await a.take(1)
    assert late.invoice.invoice_id == 9
    a.cancel()
    b.cancel()


async def test_unacknowledged_events_come_back_after_the_visibility_timeout(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    stub = WebhookStub(sidecar.channel)
    member = subscribe(stub, group="g1", consumer="m", visibility_timeout=Duration(seconds=1))
    await joined(sidecar, "g1", "m")
    await publish(sidecar, http_session, range(11, 13))
    first = await member.take(2)
    await stub.Ack(wpb.AckRequest(group="g1", event_ids=[first[0].event_id]))
    [redelivered] = await member.take(1, within=10)
    assert redelivered.event_id == first[1].event_id and redelivered.delivery_attempt == 2
    await stub.Ack(wpb.AckRequest(group="g1", event_ids=[redelivered.event_id]))
    await member.none_within(1.5)
    member.cancel()


async def test_a_member_leaving_hands_its_events_to_the_others_at_once(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    stub = WebhookStub(sidecar.channel)
    hour = Duration(seconds=3600)
    leaving = subscribe(stub, group="g2", consumer="leaving", visibility_timeout=hour)
    await joined(sidecar, "g2", "leaving")
    await publish(sidecar, http_session, range(21, 24))
    held = await leaving.take(3)
    staying = subscribe(stub, group="g2", consumer="staying", visibility_timeout=hour)
    await joined(sidecar, "g2", "staying")
    leaving.cancel()
    handed = await staying.take(3)
    assert sorted(e.event_id for e in handed) == sorted(e.event_id for e in held)
    assert all(e.delivery_attempt == 2 for e in handed)
    # Nack: the same member gets the event again at once.
    nacked = await stub.Nack(wpb.NackRequest(group="g2", event_ids=[handed[0].event_id]))
    assert nacked.released == 1
    [again] = await staying.take(1)
    assert again.event_id == handed[0].event_id and again.delivery_attempt == 3
    staying.cancel()


async def test_groups_start_where_asked_and_filter(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    stub = WebhookStub(sidecar.channel)
    await publish(sidecar, http_session, range(31, 34))
    audit = subscribe(stub, group="audit", start=wpb.START_POSITION_EARLIEST)
    got = await audit.take(3)
    assert [e.invoice.invoice_id for e in got] == [31, 32, 33]
    ton = subscribe(stub, group="ton-only", start=wpb.START_POSITION_EARLIEST, assets=["TON"])
    await ton.none_within(0.5)  # every event so far is USDT: acknowledged on its behalf
    status, _ = await post_signed(
        http_session, ingest_url(sidecar), sidecar.token, update_body(34, asset="TON")
    )
    assert status == 200
    [event] = await ton.take(1)
    assert event.invoice.invoice_id == 34
    audit.cancel()
    ton.cancel()
