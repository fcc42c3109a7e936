"""--demo shows the whole flow: the embedded emulator delivers its signed webhooks to the
sidecar's own ingest, and a gRPC subscriber sees the payment."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import grpc

from bench.sidecar_process import SidecarProcess
from sidecar.config import DEMO_TOKEN
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.signature import verify
from tests.helpers import free_port
from tests.webhooks.conftest import WebhookStub, subscribe


async def test_demo_mode_streams_the_emulators_webhooks(
    http_session: aiohttp.ClientSession,
) -> None:
    emulator_port = free_port()
    sidecar = SidecarProcess(
        demo=True, demo_emulator_listen=f"127.0.0.1:{emulator_port}", log_level="warning"
    )
    try:
        sidecar.wait_serving()
        async with grpc.aio.insecure_channel(sidecar.target) as channel:
            events = subscribe(WebhookStub(channel))
            await events.none_within(0.3)
            api = pb_grpc.CryptoPayServiceStub(channel)
            created = await api.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="7"))
            invoice_id = created.invoice.invoice_id
            async with http_session.post(
                f"http://127.0.0.1:{emulator_port}/_emulator/invoices/{invoice_id}/pay",
                headers={"Crypto-Pay-API-Token": DEMO_TOKEN},
            ) as response:
                assert response.status == 200
            [event] = await events.take(1)
            events.cancel()
        assert event.invoice.invoice_id == invoice_id
        assert event.invoice.status == types.INVOICE_STATUS_PAID
        assert verify(event.raw_body, event.signature, [DEMO_TOKEN])
    finally:
        sidecar.kill()


async def test_demo_emulator_on_port_0_is_the_upstream(
    http_session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """`--demo-emulator-listen 127.0.0.1:0`: the upstream is the port the emulator got."""
    sidecar = SidecarProcess(
        demo=True, demo_emulator_listen="127.0.0.1:0", log=tmp_path / "sidecar.log"
    )
    try:
        sidecar.wait_serving()
        lines = sidecar.lines()
        (demo,) = [line for line in lines if line["msg"].startswith("demo mode")]
        (serving,) = [line for line in lines if line["msg"] == "cryptopay-sidecar serving"]
        emulator_url = demo["emulator_url"]
        assert not emulator_url.endswith(":0") and serving["upstream"] == emulator_url
        async with grpc.aio.insecure_channel(sidecar.target) as channel:
            events = subscribe(WebhookStub(channel))
            api = pb_grpc.CryptoPayServiceStub(channel)
            created = await api.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="2"))
            invoice_id = created.invoice.invoice_id
            async with http_session.post(
                f"{emulator_url}/_emulator/invoices/{invoice_id}/pay",
                headers={"Crypto-Pay-API-Token": DEMO_TOKEN},
            ) as response:
                assert response.status == 200
            [event] = await events.take(1)
            events.cancel()
        assert event.invoice.invoice_id == invoice_id
    finally:
        sidecar.kill()
