"""The Python client against a live sidecar in demo mode (a separate process), and the
package as users install it."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import tarfile
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


PACKAGE = "cryptopay_sidecar_client"
SKIP_BUILD_LEFTOVERS = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")


def client_source(tmp_path: Path) -> Path:
    """A copy of clients/python with sidecar/gen at the same relative place and the package's gen
    kept a symlink, so the build follows it as it does in the repo (and setuptools' build/ and
    egg-info stay out of the source tree)."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "sidecar" / "gen", root / "sidecar" / "gen", ignore=SKIP_BUILD_LEFTOVERS)
    source = root / "clients" / "python"
    shutil.copytree(REPO / "clients" / "python", source, symlinks=True, ignore=SKIP_BUILD_LEFTOVERS)
    assert (source / PACKAGE / "gen").is_symlink()
    return source


def generated_files() -> dict[str, bytes]:
    """Every file of sidecar/gen by its path in the client package."""
    gen = REPO / "sidecar" / "gen"
    return {
        f"{PACKAGE}/gen/{path.relative_to(gen).as_posix()}": path.read_bytes()
        for path in sorted(gen.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def build_wheel(source: Path, wheel_dir: Path) -> Path:
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
            str(wheel_dir),
            str(source),
        ],
        check=True,
        timeout=120,
        cwd=wheel_dir,
    )
    (wheel,) = wheel_dir.glob(f"{PACKAGE}-*.whl")
    return wheel


def assert_wheel_ships_generated_code(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        for name, content in generated_files().items():
            assert name in entries, name
            # A symlink in a zip keeps its mode in the high bits; the files must be real ones.
            assert not stat.S_ISLNK(entries[name].external_attr >> 16), name
            assert archive.read(name) == content, name
    for expected in (f"{PACKAGE}/py.typed", f"{PACKAGE}/idempotency.py"):
        assert expected in entries


def test_wheel_ships_stubs_and_type_information(tmp_path: Path) -> None:
    wheel = build_wheel(client_source(tmp_path), tmp_path)
    assert_wheel_ships_generated_code(wheel)


def test_sdist_ships_the_generated_code_and_builds_a_wheel_on_its_own(tmp_path: Path) -> None:
    source = client_source(tmp_path)
    dist = tmp_path / "dist"
    dist.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])",
            str(dist),
        ],
        check=True,
        timeout=120,
        cwd=source,
        capture_output=True,
    )
    (sdist,) = dist.glob(f"{PACKAGE}-*.tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        members = {m.name.removeprefix(f"{top}/"): m for m in archive.getmembers()}
        for name, content in generated_files().items():
            assert members[name].isfile(), name
            extracted = archive.extractfile(members[name])
            assert extracted is not None and extracted.read() == content, name
        archive.extractall(unpacked, filter="data")
    # What pip does with the sdist: a wheel built from it alone, with no repo around it.
    wheels = tmp_path / "from-sdist"
    wheels.mkdir()
    assert_wheel_ships_generated_code(build_wheel(unpacked / top, wheels))


def test_a_checkout_without_symlinks_does_not_build_a_client_without_generated_code(
    tmp_path: Path,
) -> None:
    source = client_source(tmp_path)
    link = source / PACKAGE / "gen"
    # What git writes in place of a symlink when core.symlinks is off.
    target = os.readlink(link)
    link.unlink()
    link.write_text(target)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert build.returncode != 0
    assert "must be the symlink to sidecar/gen" in build.stdout + build.stderr
    assert not list(tmp_path.glob(f"{PACKAGE}-*.whl"))
