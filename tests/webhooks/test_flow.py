"""End to end in one process: invoice created through the sidecar, paid through the emulator,
delivered signed to the sidecar's ingest, streamed to gRPC subscribers."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import grpc

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.signature import verify
from sidecar.webhooks.settings import WebhookSettings
from tests.conftest import EmulatorControl, RunningSidecar, start_sidecar
from tests.helpers import rich_details
from tests.webhooks.conftest import (
    Events,
    WebhookStub,
    ingest_url,
    post_signed,
    subscribe,
    subscribed,
    update_body,
)


async def create_and_pay(
    running: RunningSidecar, control: EmulatorControl, asset: str = "USDT", description: str = ""
) -> int:
    created = await running.stub.CreateInvoice(
        pb.CreateInvoiceRequest(asset=asset, amount="3.25", description=description)
    )
    await control.pay(running.token, created.invoice.invoice_id)
    return int(created.invoice.invoice_id)


async def test_paid_invoice_reaches_a_subscriber_verified(
    hooked: RunningSidecar, control: EmulatorControl
) -> None:
    stub = WebhookStub(hooked.channel)
    stream = subscribe(stub)
    await subscribed(hooked.sidecar)  # before the payment
    invoice_id = await create_and_pay(hooked, control, description="Заказ ₽")
    [event] = await stream.take(1)
    stream.cancel()

    assert event.update_type == "invoice_paid" and not event.synthetic
    assert event.invoice.invoice_id == invoice_id
    assert event.invoice.status == types.INVOICE_STATUS_PAID
    assert event.invoice.description == "Заказ ₽"
    assert Decimal(event.invoice.paid_amount) == Decimal("3.25")
    assert event.HasField("received_at") and event.HasField("request_date")
    # The raw body is the exact signed bytes: a subscriber can verify it again.
    assert verify(event.raw_body, event.signature, [hooked.token])
    assert "Заказ ₽".encode() in event.raw_body


async def test_resume_after_disconnect_has_no_gap_and_no_duplicate(
    hooked: RunningSidecar, control: EmulatorControl
) -> None:
    stub = WebhookStub(hooked.channel)
    first = subscribe(stub, start=wpb.START_POSITION_EARLIEST)
    paid = [await create_and_pay(hooked, control) for _ in range(3)]
    received = await first.take(3)
    first.cancel()
    assert [e.invoice.invoice_id for e in received] == paid

    missed = [await create_and_pay(hooked, control) for _ in range(4)]
    resumed = subscribe(stub, after_event_id=received[-1].event_id)
    caught_up = await resumed.take(4)
    assert [e.invoice.invoice_id for e in caught_up] == missed
    await resumed.none_within(0.5)
    later = await create_and_pay(hooked, control)
    [live] = await resumed.take(1)
    resumed.cancel()
    assert live.invoice.invoice_id == later
    ids = [e.event_id for e in received + caught_up] + [live.event_id]
    assert len(set(ids)) == len(ids)


async def test_filters_by_update_type_and_asset(
    hooked: RunningSidecar, control: EmulatorControl
) -> None:
    stub = WebhookStub(hooked.channel)
    ton_only = subscribe(stub, start=wpb.START_POSITION_EARLIEST, assets=["ton"])
    other_type = subscribe(
        stub, start=wpb.START_POSITION_EARLIEST, update_types=["invoice_expired"]
    )
    await create_and_pay(hooked, control, asset="USDT")
    ton = await create_and_pay(hooked, control, asset="TON")
    [event] = await ton_only.take(1)
    assert event.invoice.invoice_id == ton and event.invoice.asset == "TON"
    await other_type.none_within(0.5)
    ton_only.cancel()
    other_type.cancel()


async def test_slow_subscriber_blocks_neither_ingest_nor_others(
    emulator: RunningEmulator, token: str, http_session: aiohttp.ClientSession
) -> None:
    running = await start_sidecar(emulator, token, webhooks=WebhookSettings(subscriber_buffer=4))
    try:
        stub = WebhookStub(running.channel)
        # A small, fixed HTTP/2 window, so the unread stream pushes back on the sidecar soon.
        slow_channel = grpc.aio.insecure_channel(
            running.target, options=[("grpc.http2.bdp_probe", 0)]
        )
        slow_call = WebhookStub(slow_channel).Subscribe(wpb.SubscribeRequest())
        fast = subscribe(stub)
        await subscribed(running.sidecar, 2)
        url = ingest_url(running)
        count = 300
        for n in range(1, count + 1):
            body = update_body(10_000 + n, payload="x" * 4000)
            status, _ = await post_signed(http_session, url, token, body)
            assert status == 200
        fast_events = await fast.take(count)
        # The slow one has not read anything yet; it still gets every event, in order, once.
        slow = Events(slow_call)
        slow_events = await slow.take(count)
        assert running.sidecar.webhooks is not None
        assert running.sidecar.webhooks.tail.overflows >= 1
        for events in (fast_events, slow_events):
            assert [e.invoice.invoice_id for e in events] == [10_000 + n for n in range(1, 301)]
        slow.cancel()
        fast.cancel()
        await slow_channel.close(None)
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


async def test_bad_requests_are_refused_before_streaming(sidecar: RunningSidecar) -> None:
    stub = WebhookStub(sidecar.channel)
    bad = subscribe(stub, start=wpb.START_POSITION_EARLIEST, after_event_id="nope", consumer="x y")
    error = await bad.error()
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in rich_details(error)["BadRequest"].field_violations}
    assert fields == {"after_event_id", "start", "consumer"}
    try:
        await stub.Ack(wpb.AckRequest(group="", event_ids=[]))
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = {v.field for v in rich_details(error)["BadRequest"].field_violations}
        assert fields == {"group", "event_ids"}
    else:
        raise AssertionError("expected INVALID_ARGUMENT")


async def test_a_cursor_behind_retention_is_told_to_resume_from_the_earliest(
    emulator: RunningEmulator, token: str, http_session: aiohttp.ClientSession
) -> None:
    running = await start_sidecar(emulator, token, webhooks=WebhookSettings(retention=5))
    try:
        url = ingest_url(running)
        for n in range(1, 41):
            assert (await post_signed(http_session, url, token, update_body(900 + n)))[0] == 200
        stub = WebhookStub(running.channel)
        error = await subscribe(stub, after_event_id="1-0").error()
        assert error.code() == grpc.StatusCode.OUT_OF_RANGE
        info = rich_details(error)["ErrorInfo"]
        assert info.reason == "EVENTS_EXPIRED" and "START_POSITION_EARLIEST" in str(error.details())
        earliest = subscribe(stub, start=wpb.START_POSITION_EARLIEST)
        kept = await earliest.take(5)
        assert [e.invoice.invoice_id for e in kept][-1] < 941
        earliest.cancel()
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


async def test_shutdown_ends_streams_with_where_to_resume(
    emulator: RunningEmulator, token: str, http_session: aiohttp.ClientSession
) -> None:
    running = await start_sidecar(emulator, token)
    stub = WebhookStub(running.channel)
    events = subscribe(stub)
    member = subscribe(stub, group="g")
    await events.none_within(0.3)
    assert (await post_signed(http_session, ingest_url(running), token, update_body(1)))[0] == 200
    [event] = await events.take(1)
    await member.take(1)
    stopping = asyncio.create_task(running.sidecar.stop())
    for stream in (events, member):
        error = await stream.error()
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert rich_details(error)["ErrorInfo"].reason == "SIDECAR_SHUTTING_DOWN"
    assert f"after_event_id={event.event_id}" in str(error.details())
    await stopping
    await running.channel.close(None)
