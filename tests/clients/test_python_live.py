"""The Python client against a live sidecar in demo mode (a separate process), and the
package as users install it."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from cryptopay_sidecar_client import (
    CryptoPayServiceStub,
    aio_channel,
    call_idempotent,
    call_idempotent_sync,
    channel,
    error_details,
    pb,
    types,
)

from tests.clients.conftest import DemoSidecar
from tests.helpers import REPO


async def pay(sidecar: DemoSidecar, invoice_id: int) -> None:
    """Pays an invoice as a customer would, through the emulator's control API."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sidecar.emulator_url}/_emulator/invoices/{invoice_id}/pay",
            headers={"Crypto-Pay-API-Token": sidecar.token},
            json={},
        ) as response,
    ):
        assert response.status == 200, await response.text()


async def test_create_pay_and_read_back(demo_sidecar: DemoSidecar) -> None:
    async with aio_channel(demo_sidecar.target) as chan:
        stub = CryptoPayServiceStub(chan)
        created = await call_idempotent(
            stub.CreateInvoice,
            pb.CreateInvoiceRequest(asset="USDT", amount="12.5", payload="order-1"),
        )
        invoice = created.response.invoice
        assert created.attempts == 1 and invoice.amount == "12.5"
        assert invoice.status == types.INVOICE_STATUS_ACTIVE

        await pay(demo_sidecar, invoice.invoice_id)
        found = await stub.GetInvoices(pb.GetInvoicesRequest(invoice_ids=[invoice.invoice_id]))
    (paid,) = found.items
    assert paid.status == types.INVOICE_STATUS_PAID and paid.payload == "order-1"


async def test_errors_are_decoded(demo_sidecar: DemoSidecar) -> None:
    async with aio_channel(demo_sidecar.target) as chan:
        stub = CryptoPayServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call_idempotent(
                stub.CreateInvoice, pb.CreateInvoiceRequest(asset="USDT", amount="-1")
            )
    details = error_details(info.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "amount" in details.violations


async def test_blocking_client(demo_sidecar: DemoSidecar) -> None:
    def run() -> tuple[str, int]:
        with channel(demo_sidecar.target) as chan:
            stub = CryptoPayServiceStub(chan)
            me = stub.GetMe(pb.GetMeRequest()).app
            check = call_idempotent_sync(
                stub.CreateCheck, pb.CreateCheckRequest(asset="TON", amount="0.5")
            )
            return me.name, check.response.check.check_id

    name, check_id = await asyncio.to_thread(run)
    assert name and check_id > 0


def webhook_service_available() -> bool:
    try:
        importlib.import_module("cryptopay_sidecar_client.gen.cryptopay.v1.webhook_service_pb2")
    except ImportError:
        return False
    return True


@pytest.mark.skipif(
    not webhook_service_available(),
    reason="this version of the API has no cryptopay.v1.WebhookService",
)
async def test_paid_invoice_arrives_as_an_event_and_subscriptions_resume(
    demo_sidecar: DemoSidecar,
) -> None:
    from cryptopay_sidecar_client.events import START_EARLIEST, subscribe_events

    async def next_event_for(events: Any, invoice_id: int) -> Any:
        async with asyncio.timeout(20):
            async for event in events:
                if event.invoice.invoice_id == invoice_id:
                    return event
        raise AssertionError("the stream ended")

    async with aio_channel(demo_sidecar.target) as chan:
        stub = CryptoPayServiceStub(chan)

        async def paid_invoice(amount: str) -> int:
            request = pb.CreateInvoiceRequest(asset="USDT", amount=amount)
            invoice = (await call_idempotent(stub.CreateInvoice, request)).response.invoice
            await pay(demo_sidecar, invoice.invoice_id)
            return int(invoice.invoice_id)

        first_id = await paid_invoice("7")
        events = subscribe_events(chan, start=START_EARLIEST, update_types=["invoice_paid"])
        first = await next_event_for(events, first_id)
        await events.aclose()
        assert first.invoice.status == types.INVOICE_STATUS_PAID and first.raw_body

        # Disconnected: an event arrives meanwhile; resuming after the last id gets it, once.
        second_id = await paid_invoice("8")
        resumed = subscribe_events(chan, after=first.event_id)
        async with asyncio.timeout(20):
            following = await anext(resumed)
        await resumed.aclose()
        assert following.event_id != first.event_id
        assert following.invoice.invoice_id == second_id


def test_wheel_ships_stubs_and_type_information(tmp_path: Path) -> None:
    # Build from a copy: setuptools leaves build/ and egg-info behind in the source tree.
    source = tmp_path / "src"
    shutil.copytree(
        REPO / "clients" / "python",
        source,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        timeout=120,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("cryptopay_sidecar_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = "cryptopay_sidecar_client"
    for expected in (
        f"{package}/py.typed",
        f"{package}/gen/py.typed",
        f"{package}/gen/cryptopay/v1/cryptopay_service_pb2.py",
        f"{package}/gen/cryptopay/v1/cryptopay_service_pb2.pyi",
        f"{package}/gen/cryptopay/v1/cryptopay_service_pb2_grpc.pyi",
        f"{package}/gen/cryptopay/v1/types_pb2.pyi",
        f"{package}/idempotency.py",
    ):
        assert expected in names
