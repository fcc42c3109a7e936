"""Four sidecar processes, one Crypto Pay app, one real Redis: the shared budget holds exactly,
a 429 seen by one replica pauses the others, and a Redis outage degrades to each replica's
share and recovers. The emulator's per-app request count is the ground truth."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
import pytest
import redis.asyncio as redis

from bench.sidecar_process import SidecarProcess, stop_all
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from tests.conftest import EmulatorControl, RedisServer, spawn_redis
from tests.helpers import eventually, free_port, new_token, rich_details

REPLICAS = 4
RATE = 40  # per second, for the app, across all replicas
BURST = 10
POLICY = f"""
version: 1
rate_limits:
  replicas: {REPLICAS}
  max_wait: 5s
  # Generous: a busy 2-core test machine must not be mistaken for a Redis outage.
  redis_timeout: 1s
  app: {{rate: {RATE}/s, burst: {BURST}}}
"""


@dataclass
class Replica:
    proc: SidecarProcess
    grpc_port: int
    http_port: int
    log: Path
    channel: grpc.aio.Channel | None = None

    @property
    def stub(self) -> pb_grpc.CryptoPayServiceAsyncStub:
        assert self.channel is not None
        return pb_grpc.CryptoPayServiceStub(self.channel)

    def events(self) -> list[str]:
        lines = self.log.read_text().splitlines()
        return [
            e
            for e in (json.loads(line).get("event") for line in lines if line.startswith("{"))
            if e
        ]


@dataclass
class Cluster:
    token: str
    redis: RedisServer
    replicas: list[Replica] = field(default_factory=list)


@pytest.fixture(scope="module")
def module_redis() -> Iterator[RedisServer]:
    directory = tempfile.mkdtemp(prefix="redis-test-")
    port = free_port()
    server = RedisServer(port, spawn_redis(port, directory), directory)
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


def spawn_replica(
    upstream: str, redis_url: str, policy: Path, token: str, directory: Path, index: int
) -> Replica:
    log = directory / f"replica-{index}.log"
    proc = SidecarProcess(
        upstream=upstream,
        policy=policy,
        redis_url=redis_url,
        grace=1,
        env={"CRYPTOPAY_API_TOKEN": token},
        log=log,
    )
    return Replica(proc, proc.grpc_port, proc.http_port, log)


@pytest.fixture(scope="module")
async def cluster(
    emulator: RunningEmulator, module_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    directory = tmp_path_factory.mktemp("replicas")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    token = new_token()
    running = Cluster(token, module_redis)
    try:
        for index in range(REPLICAS):
            running.replicas.append(
                spawn_replica(emulator.base_url, module_redis.url, policy, token, directory, index)
            )
        for replica in running.replicas:
            await asyncio.to_thread(replica.proc.wait_serving)
            replica.channel = grpc.aio.insecure_channel(f"127.0.0.1:{replica.grpc_port}")
            await replica.channel.channel_ready()
        yield running
    finally:
        for replica in running.replicas:
            if replica.channel is not None:
                await replica.channel.close(None)
        stop_all(replica.proc for replica in running.replicas)


@pytest.fixture(scope="module")
async def warm(cluster: Cluster) -> Cluster:
    """Every replica's gRPC and Redis connections opened under load once, before measuring."""
    stop = asyncio.Event()
    driving = asyncio.create_task(drive(cluster, stop))
    await asyncio.sleep(1)  # a second of load is the warm-up
    stop.set()
    assert (await driving).ok > 0
    return cluster


@pytest.fixture
async def fresh(warm: Cluster, control: EmulatorControl) -> Cluster:
    """Full buckets, no pause, no faults, and the app's request count at zero."""
    cluster = warm
    client = redis.Redis.from_url(cluster.redis.url)
    await client.flushdb()
    await client.aclose()
    await control.request("DELETE", "faults", cluster.token)
    await control.request("POST", "reset", cluster.token)
    return cluster


@dataclass
class Tally:
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    # (monotonic time, replica index) of every success, to see the outage served
    times: list[float] = field(default_factory=list)


async def drive(cluster: Cluster, stop: asyncio.Event, workers: int = 6) -> Tally:
    """Every replica gets `workers` callers in a tight loop: far more than its share."""
    tally = Tally()

    async def worker(replica: Replica) -> None:
        while not stop.is_set():
            try:
                await replica.stub.GetBalance(pb.GetBalanceRequest(), timeout=8)
                tally.ok += 1
                tally.times.append(time.monotonic())
            except grpc.aio.AioRpcError as error:
                tally.failed.append(f"{error.code().name}: {error.details()}")
                await asyncio.sleep(0.05)  # paces a failing caller: no hot loop

    await asyncio.gather(*(worker(r) for r in cluster.replicas for _ in range(workers)))
    return tally


async def test_four_replicas_share_one_exact_budget(
    fresh: Cluster, control: EmulatorControl
) -> None:
    degraded_before = [r.events().count("ratelimit_degraded") for r in fresh.replicas]
    stop = asyncio.Event()
    started = time.monotonic()
    driving = asyncio.create_task(drive(fresh, stop))
    await asyncio.sleep(6)  # the measured window: six seconds of load far beyond the budget
    stop.set()
    tally = await driving  # the calls already queued finish, still at the shared rate
    elapsed = time.monotonic() - started

    reached = await control.api_requests(fresh.token)
    budget = RATE * elapsed + BURST
    print(f"{reached} calls reached the upstream in {elapsed:.2f} s; budget {budget:.1f}")
    assert tally.failed == []
    assert reached == tally.ok
    assert reached <= budget, f"over-admission: {reached} > {budget:.1f}"
    assert reached >= 0.95 * budget, f"waste: {reached} < 95 % of {budget:.1f}"
    # Every decision was shared: no replica fell back to its local share meanwhile.
    assert [r.events().count("ratelimit_degraded") for r in fresh.replicas] == degraded_before


async def test_a_429_on_one_replica_pauses_the_others(
    fresh: Cluster, control: EmulatorControl
) -> None:
    await control.fault(
        fresh.token, method="getBalance", kind="status", status=429, retry_after=3, count=1
    )
    first, *others = fresh.replicas
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await first.stub.GetBalance(pb.GetBalanceRequest(), timeout=1)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # The upstream's own 429, or (if the sidecar retried it) the pause it started.
    assert rich_details(info.value)["ErrorInfo"].reason in (
        "TOO_MANY_REQUESTS",
        "UPSTREAM_COOLDOWN",
    )

    for replica in others:  # they never saw the 429; a 1 s deadline cannot outwait 3 s
        with pytest.raises(grpc.aio.AioRpcError) as paused:
            await replica.stub.GetBalance(pb.GetBalanceRequest(), timeout=1)
        details = rich_details(paused.value)
        assert details["ErrorInfo"].reason == "UPSTREAM_COOLDOWN"
        assert 1 <= details["RetryInfo"].retry_delay.seconds <= 3
    assert await control.api_requests(fresh.token) == 1  # only the call that got the 429

    # A caller with time to spare waits for the end of the pause, then goes.
    await others[0].stub.GetBalance(pb.GetBalanceRequest(), timeout=10)
    assert await control.api_requests(fresh.token) == 2


async def _readyz(session: aiohttp.ClientSession, replica: Replica) -> tuple[int, str]:
    async with session.get(f"http://127.0.0.1:{replica.http_port}/readyz") as response:
        return response.status, str((await response.json())["reason"])


async def test_redis_outage_under_load_then_back_to_the_shared_bucket(
    fresh: Cluster, control: EmulatorControl, http_session: aiohttp.ClientSession
) -> None:
    before = [len(r.events()) for r in fresh.replicas]

    def logged(replica: Replica, earlier: int, event: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return event in replica.events()[earlier:]

        return check

    client = redis.Redis.from_url(fresh.redis.url)
    app_key = f"cpsc:rl:{{{fresh.token.partition(':')[0]}@{control.base_url.split('//')[1]}}}:app"
    stop = asyncio.Event()
    driving = asyncio.create_task(drive(fresh, stop, workers=3))
    try:
        await eventually(lambda: client.exists(app_key), "the shared bucket in Redis", within=10)

        fresh.redis.stop()
        down_at = time.monotonic()
        for replica, earlier in zip(fresh.replicas, before, strict=True):
            # Each notices on its next decision, and goes on at its share.
            await eventually(logged(replica, earlier, "ratelimit_degraded"), "degraded", within=20)
        # The outage lasts a while: what the replicas serve meanwhile is tested.
        await asyncio.sleep(2)
        up_at = time.monotonic()
        fresh.redis.start()

        # Back on the shared bucket: every replica says so, and the key is written again.
        await client.aclose()
        client = redis.Redis.from_url(fresh.redis.url)
        for replica, earlier in zip(fresh.replicas, before, strict=True):
            await eventually(logged(replica, earlier, "ratelimit_recovered"), "recovery", within=20)

            async def ready(replica: Replica = replica) -> bool:
                return await _readyz(http_session, replica) == (200, "ok")

            await eventually(ready, "ready again", within=20)
        await eventually(lambda: client.exists(app_key), "the bucket written again", within=10)
    finally:
        stop.set()
        tally = await driving
        await client.aclose()

    assert tally.failed == []
    served_during_outage = [t for t in tally.times if down_at + 0.5 < t < up_at]
    assert len(served_during_outage) > 10  # the replicas kept serving, at their share
    for replica, earlier in zip(fresh.replicas, before, strict=True):
        events = replica.events()[earlier:]
        # Logged once per transition, not once per call.
        assert events.count("ratelimit_degraded") == 1
        assert events.count("ratelimit_recovered") == 1
