"""Sidecar processes of one Crypto Pay app on one real Redis register with a heartbeat; the live
count, which sets each one's share of every rate during a Redis outage, follows processes
starting and stopping."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import aiohttp

from sidecar.emulator.runner import RunningEmulator
from tests.conftest import RedisServer, sample, scrape
from tests.e2e.test_rate_limits_shared import Replica, spawn_replica
from tests.helpers import eventually, new_token

# No `replicas:` in the section: the live count decides.
POLICY = """
version: 1
rate_limits:
  app: {rate: 40/s, burst: 10}
"""


async def live_count(session: aiohttp.ClientSession, replica: Replica) -> float:
    samples = await scrape(session, replica.http_port)
    return sample(samples, "cryptopay_sidecar_ratelimit_live_replicas")


async def wait_count(
    session: aiohttp.ClientSession, replicas: list[Replica], expected: int, within: float = 20.0
) -> None:
    async def everywhere() -> bool:
        return all([await live_count(session, r) == expected for r in replicas])

    await eventually(everywhere, f"a live count of {expected} on every replica", within=within)


def stop(replica: Replica) -> None:
    # Not SidecarProcess.stop(), which would reap a killed process: a replica that did not stop
    # gracefully within 15 s keeps returncode None, and the test's last assertion fails.
    process = replica.proc.popen
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


async def test_the_live_count_follows_processes_starting_and_stopping(
    emulator: RunningEmulator,
    redis_server: RedisServer,
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    token = new_token()
    replicas: list[Replica] = []

    async def start(index: int) -> Replica:
        replica = spawn_replica(emulator.base_url, redis_server.url, policy, token, tmp_path, index)
        replicas.append(replica)
        await asyncio.to_thread(replica.proc.wait_serving)
        return replica

    try:
        for index in range(3):
            await start(index)
        # Every process registered once at start-up; each sees the others within a heartbeat.
        await wait_count(http_session, replicas, 3)
        leaving = replicas.pop(0)
        stop(leaving)  # a graceful stop deregisters at once
        await wait_count(http_session, replicas, 2)
        await start(3)
        await wait_count(http_session, replicas, 3)
    finally:
        for replica in replicas:
            stop(replica)
    assert all(r.proc.popen.returncode is not None for r in replicas)
