"""Three sidecar processes sharing one Redis: a burst of GetExchangeRates calls spread over them
makes exactly one upstream request per TTL window, counted at the emulator. The TTL comes from
the `cache` section of the policy file, as operators set it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
import pytest

from bench.sidecar_process import SidecarProcess, stop_all
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from tests.conftest import EmulatorControl, RedisServer

REPLICAS = 3
CALLS = 200
# Long enough for a burst to finish within one window on a busy machine.
TTL = 4.0
POLICY = f"""\
version: 1
cache:
  methods:
    GetExchangeRates: {{ttl: {TTL}s, stale_while_revalidate: 0s, max_stale: 1m}}
"""


@dataclass
class Replica:
    proc: SidecarProcess
    grpc_port: int
    http_port: int


@pytest.fixture
def replicas(
    emulator: RunningEmulator, token: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[list[Replica]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    started = []
    for _ in range(REPLICAS):
        proc = SidecarProcess(
            upstream=emulator.base_url,
            redis_url=redis_server.url,
            policy=policy,
            log_level="warning",
            env={"CRYPTOPAY_API_TOKEN": token},
        )
        started.append(Replica(proc, proc.grpc_port, proc.http_port))
    try:
        for replica in started:
            replica.proc.wait_serving()
        yield started
    finally:
        stop_all(replica.proc for replica in started)


async def burst(stubs: Sequence[pb_grpc.CryptoPayServiceAsyncStub]) -> list[str]:
    """CALLS concurrent calls spread over the replicas; the cryptopay-cache trailer of each."""

    async def one(stub: pb_grpc.CryptoPayServiceAsyncStub) -> str:
        call = stub.GetExchangeRates(pb.GetExchangeRatesRequest(), timeout=30)
        assert (await call).items
        return str(dict(await call.trailing_metadata())["cryptopay-cache"])

    return await asyncio.gather(*(one(stubs[i % len(stubs)]) for i in range(CALLS)))


async def test_three_replicas_make_one_upstream_request_per_ttl_window(
    replicas: list[Replica],
    control: EmulatorControl,
    token: str,
    redis_server: RedisServer,
    http_session: aiohttp.ClientSession,
) -> None:
    async def upstream_requests() -> int:
        stats = await control.request("GET", "stats", token)
        return int(stats["by_method"].get("getExchangeRates", 0))

    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{r.grpc_port}") for r in replicas]
    stubs = [pb_grpc.CryptoPayServiceStub(channel) for channel in channels]
    # A slow upstream answer keeps the refresh in flight while the burst arrives, so callers
    # on every replica find it under way and wait for it.
    slow = {"method": "getExchangeRates", "kind": "latency", "latency_ms": 300, "count": 1}
    one_miss = ["hit"] * (CALLS - 1) + ["miss"]
    try:
        await control.fault(token, **slow)
        window = asyncio.get_running_loop().time()
        assert sorted(await burst(stubs)) == one_miss
        assert await upstream_requests() == 1
        # Still within the TTL: nothing more goes upstream.
        assert set(await burst(stubs)) == {"hit"}
        assert await upstream_requests() == 1

        # The next TTL window (waited out: the entry's age is what is tested): one more upstream
        # request for all three replicas.
        await asyncio.sleep(max(0.0, window + TTL + 0.2 - asyncio.get_running_loop().time()))
        await control.fault(token, **slow)
        assert sorted(await burst(stubs)) == one_miss
        assert await upstream_requests() == 2

        # A flush from the command line starts a new window for every replica.
        flushed = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "sidecar", "cache", "flush", "--redis-url", redis_server.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert flushed.returncode == 0, flushed.stderr
        assert sorted(await burst(stubs)) == one_miss
        assert await upstream_requests() == 3

        # So does one over HTTP to any replica.
        url = f"http://127.0.0.1:{replicas[2].http_port}/admin/cache/flush"
        async with http_session.post(url) as response:
            assert response.status == 200
        assert sorted(await burst(stubs)) == one_miss
        assert await upstream_requests() == 4
    finally:
        for channel in channels:
            await channel.close(None)
