"""Policies across processes: several sidecars share one spend cap through one Redis, and a
running sidecar reloads its policy on SIGHUP."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import grpc
import pytest

from bench.sidecar_process import SidecarProcess, stop_all
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.spend.store import EXACT
from tests.conftest import EmulatorControl, RedisServer
from tests.helpers import eventually, free_port, rich_details

CAP = Decimal("100.000000000000000005")
AMOUNT = "7.000000000000000001"
TINY = "0.000000000000000001"


class Fleet:
    def __init__(self) -> None:
        self.procs: list[SidecarProcess] = []
        self.ports: list[int] = []

    def start(self, *args: str, token: str, http_port: int | None = None) -> int:
        proc = SidecarProcess(
            *args,
            http_listen=f"127.0.0.1:{http_port}" if http_port else "off",
            log_level="warning",
            env={"CRYPTOPAY_API_TOKEN": token},
        )
        self.procs.append(proc)
        self.ports.append(proc.grpc_port)
        return proc.grpc_port

    def stop(self) -> list[str]:
        stop_all(self.procs)
        return [proc.output() for proc in self.procs]


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    running = Fleet()
    yield running
    running.stop()


@pytest.fixture
async def channels(fleet: Fleet) -> AsyncIterator[list[grpc.aio.Channel]]:
    opened: list[grpc.aio.Channel] = []

    yield opened
    for channel in opened:
        await channel.close(None)


async def ledger_total(control: EmulatorControl, token: str) -> Decimal:
    ledger = await control.ledger(token)
    total = Decimal(0)
    for item in ledger["transfers"]:
        total = EXACT.add(total, Decimal(item["amount"]))
    return total


def transfer(amount: str) -> pb.TransferRequest:
    return pb.TransferRequest(
        user_id=1 + int(uuid.uuid4().int % 1000),
        asset="USDT",
        amount=amount,
        spend_id=uuid.uuid4().hex,
    )


async def test_three_sidecars_never_spend_past_a_shared_cap(
    fleet: Fleet,
    channels: list[grpc.aio.Channel],
    emulator: RunningEmulator,
    control: EmulatorControl,
    redis_server: RedisServer,
    token: str,
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\ndefaults:\n  spend_caps:\n"
        f'    - {{asset: USDT, max: "{CAP}", window: rolling_24h}}\n'
    )
    args = (
        "--upstream",
        emulator.base_url,
        "--policy",
        str(policy),
        "--redis-url",
        redis_server.url,
    )
    ports = [fleet.start(*args, token=token) for _ in range(3)]
    for proc in fleet.procs:
        await asyncio.to_thread(proc.wait_serving, 90.0)
    stubs = []
    for port in ports:
        channels.append(grpc.aio.insecure_channel(f"127.0.0.1:{port}"))
        stubs.append(pb_grpc.CryptoPayServiceStub(channels[-1]))

    # Some transfers fail for sure (400: released), some are performed but answer 500 (kept).
    await control.fault(
        token, method="transfer", kind="status", status=400, probability=0.2, seed=3
    )
    await control.fault(
        token, method="transfer", kind="commit_then_fail", status=500, probability=0.15, seed=4
    )

    async def one(stub: pb_grpc.CryptoPayServiceAsyncStub) -> grpc.StatusCode:
        try:
            await stub.Transfer(transfer(AMOUNT), timeout=30)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK

    codes = await asyncio.gather(*(one(stubs[i % 3]) for i in range(90)))
    counts = {code.name: codes.count(code) for code in set(codes)}
    spent = await ledger_total(control, token)
    assert spent <= CAP, counts
    assert counts.get("PERMISSION_DENIED", 0) > 0 and counts.get("OK", 0) > 0, counts
    assert counts.keys() <= {"OK", "PERMISSION_DENIED", "INVALID_ARGUMENT", "UNAVAILABLE"}, counts

    # Every failed call's reservation was released, every unknown one kept: what is left is
    # exactly the cap minus what the ledger shows, and all of it can be spent.
    await control.request("DELETE", "faults", token)
    left = EXACT.subtract(CAP, spent)
    response = await stubs[1].Transfer(transfer(f"{left:f}"), timeout=30)
    assert Decimal(response.transfer.amount) == left
    assert await ledger_total(control, token) == CAP
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stubs[2].Transfer(transfer(TINY), timeout=30)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rich_details(info.value)["ErrorInfo"].metadata["rule"] == "spend_caps[0]"


async def test_a_killed_sidecars_reservation_is_released_when_its_lease_ends(
    fleet: Fleet,
    channels: list[grpc.aio.Channel],
    emulator: RunningEmulator,
    control: EmulatorControl,
    redis_server: RedisServer,
    token: str,
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\ndefaults:\n  spend_caps:\n"
        '    - {asset: USDT, max: "10", window: rolling_24h}\n'
    )
    args = ["--upstream", emulator.base_url, "--policy", str(policy)]
    args += ["--redis-url", redis_server.url, "--spend-lease", "6", "--request-timeout", "60"]
    ports = [fleet.start(*args, token=token) for _ in range(2)]
    for proc in fleet.procs:
        await asyncio.to_thread(proc.wait_serving, 90.0)
    channels.extend(grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports)
    doomed, survivor = (pb_grpc.CryptoPayServiceStub(channel) for channel in channels)
    # The first sidecar's transfer hangs upstream (and then fails: nothing is ever performed)
    # while its reservation holds the whole cap; the process dies before it can settle.
    await control.fault(
        token, method="transfer", kind="status", status=500, latency_ms=60_000, count=1
    )
    before = await control.api_requests(token)
    hanging = asyncio.ensure_future(doomed.Transfer(transfer("10"), timeout=60))
    await control.wait_requests(token, before + 1)

    async def cap_held() -> bool:
        try:
            await survivor.Transfer(transfer(TINY), timeout=10)
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.PERMISSION_DENIED, exc.details()
            return True
        raise AssertionError("a transfer passed a cap that another call holds")

    assert await cap_held()
    fleet.procs[0].kill()
    killed_at = time.monotonic()
    hanging.cancel()
    # Until the lease ends the dead call's reservation still counts...
    assert await cap_held()

    # ...and then the cap is free again, all of it.
    async def whole_cap() -> pb.TransferResponse | None:
        try:
            done: pb.TransferResponse = await survivor.Transfer(transfer("10"), timeout=10)
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.PERMISSION_DENIED, exc.details()
            return None
        return done

    left = 30 - (time.monotonic() - killed_at)
    response = await eventually(whole_cap, "the lease to free the reservation", within=left)
    assert response.transfer.amount == "10"
    assert [t["amount"] for t in (await control.ledger(token))["transfers"]] == ["10"]


GET_ME = "version: 1\ndefaults:\n  rpcs: {allow: [GetMe, GetBalance]}\n"
NO_GET_ME = "version: 1\ndefaults:\n  rpcs: {allow: [GetBalance]}\n"


async def test_sighup_reloads_and_an_invalid_file_keeps_the_last_good_policy(
    fleet: Fleet,
    emulator: RunningEmulator,
    token: str,
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(GET_ME)
    http_port = free_port()
    args = ("--upstream", emulator.base_url, "--policy", str(policy), "--policy-poll-interval", "0")
    port = fleet.start(*args, token=token, http_port=http_port)
    proc = fleet.procs[0].popen
    await asyncio.to_thread(fleet.procs[0].wait_serving, 90.0)

    async def status() -> dict[str, object]:
        async with http_session.get(f"http://127.0.0.1:{http_port}/policy") as response:
            body: dict[str, object] = await response.json()
            return body

    first = (await status())["hash"]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.CryptoPayServiceStub(channel)
        await stub.GetMe(pb.GetMeRequest())
        policy.write_text(NO_GET_ME)
        await asyncio.sleep(0.3)  # nothing may happen meanwhile, so this waits a while
        assert (await status())["hash"] == first  # polling is off: only SIGHUP reloads
        proc.send_signal(signal.SIGHUP)
        second = await until_changed(status, "hash", first)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetMe(pb.GetMeRequest())
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED

        policy.write_text("version: 1\ndefaults:\n  rpcs: {allow: [GetMee]}\n")
        proc.send_signal(signal.SIGHUP)
        error = await until_changed(status, "last_reload_error", None)
        assert "policy.yaml:3:" in str(error) and "GetMee" in str(error)
        assert (await status())["hash"] == second
        assert (await stub.GetBalance(pb.GetBalanceRequest())).items

    logs = fleet.stop()[0]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "policy rejected; the previous policy stays active" for line in lines)


async def until_changed(status: object, field: str, old: object) -> object:
    async def changed() -> object:
        value = (await status())[field]  # type: ignore[operator]
        return value if value != old else None

    return await eventually(changed, f"{field} to change from {old!r}", within=15)


def test_an_invalid_policy_stops_the_start_with_its_errors(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefaults:\n  amounts:\n    USDT: {max: 0.1}\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sidecar",
            "serve",
            "--demo",
            "--policy",
            str(policy),
            "--grpc-listen",
            f"127.0.0.1:{free_port()}",
            "--http-listen",
            "off",
            "--demo-emulator-listen",
            f"127.0.0.1:{free_port()}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{policy}:4:" in done.stderr and "not exact" in done.stderr
