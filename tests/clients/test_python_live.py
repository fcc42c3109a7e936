"""The Python client against a live sidecar in demo mode (a separate process), and the
package as users install it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

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
