"""Webhooks in traces and metrics: spans linked across the async gap, counters, the gauge."""

from __future__ import annotations

import aiohttp

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.telemetry import metrics
from sidecar.telemetry.tracing import LINK_KIND
from tests.conftest import EmulatorControl, RunningSidecar, SpanRecorder
from tests.webhooks.conftest import WebhookStub, post, subscribe, update_body


def link_kinds(span: object) -> dict[str, int]:
    return {
        str(link.attributes[LINK_KIND]): link.context.span_id
        for link in span.links  # type: ignore[attr-defined]
        if link.attributes
    }


async def test_ingest_and_delivery_spans_link_back_to_the_invoices_creation(
    hooked: RunningSidecar, control: EmulatorControl, spans: SpanRecorder
) -> None:
    events = subscribe(WebhookStub(hooked.channel))
    await events.none_within(0.3)
    created = await hooked.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="2"))
    await control.pay(hooked.token, created.invoice.invoice_id)
    [event] = await events.take(1)
    events.cancel()

    [create] = await spans.ended("/cryptopay.v1.CryptoPayService/CreateInvoice")
    [ingest] = await spans.ended("webhook ingest")
    [deliver] = await spans.ended("webhook deliver")
    assert link_kinds(ingest) == {"invoice.created": create.context.span_id}
    assert link_kinds(deliver) == {
        "invoice.created": create.context.span_id,
        "webhook.ingest": ingest.context.span_id,
    }
    assert deliver.attributes is not None
    assert deliver.attributes["cryptopay.invoice_id"] == event.invoice.invoice_id


async def test_webhook_metrics(hooked: RunningSidecar, http_session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{hooked.sidecar.http_port}{metrics.METRICS_PATH}"
    events = subscribe(WebhookStub(hooked.channel))
    await events.none_within(0.3)
    ingest = f"http://127.0.0.1:{hooked.sidecar.http_port}/webhooks/cryptopay"
    body = update_body(424242)
    assert (await post(http_session, ingest, body, "00" * 32))[0] == 401
    async with http_session.get(url) as response:
        text = await response.text()
    assert 'cryptopay_sidecar_webhooks_rejected_total{reason="bad_signature"}' in text
    assert "cryptopay_sidecar_webhook_subscribers 1.0" in text
    events.cancel()
