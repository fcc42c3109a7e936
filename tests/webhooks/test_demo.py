"""--demo shows the whole flow: the embedded emulator delivers its signed webhooks to the
sidecar's own ingest, and a gRPC subscriber sees the payment."""

from __future__ import annotations

import aiohttp
import grpc

from sidecar.config import DEMO_TOKEN
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.signature import verify
from tests.e2e.test_process import spawn, wait_serving
from tests.helpers import free_port
from tests.webhooks.conftest import WebhookStub, subscribe


async def test_demo_mode_streams_the_emulators_webhooks(
    http_session: aiohttp.ClientSession,
) -> None:
    grpc_port, http_port, emulator_port = free_port(), free_port(), free_port()
    proc = spawn(
        "serve",
        "--demo",
        "--grpc-listen",
        f"127.0.0.1:{grpc_port}",
        "--http-listen",
        f"127.0.0.1:{http_port}",
        "--demo-emulator-listen",
        f"127.0.0.1:{emulator_port}",
        "--log-level",
        "warning",
    )
    try:
        wait_serving(grpc_port, proc, timeout=60)  # process start-up on a busy machine
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
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
        proc.kill()
        proc.communicate(timeout=10)
