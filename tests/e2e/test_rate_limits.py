"""Rate limits seen by a gRPC client of one sidecar (in-process, in-memory backend)."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.telemetry import metrics
from tests.conftest import EmulatorControl, RunningSidecar, start_sidecar
from tests.helpers import rich_details

POLICY = """
version: 1
rate_limits:
  when_empty: refuse
  app: {rate: 2/min, burst: 2}
  costs: {getStats: 2}
"""


def as_dict(metadata: Any) -> dict[str, str]:
    return {str(key): str(value) for key, value in metadata or ()}


@pytest.fixture
async def limited(
    emulator: RunningEmulator, token: str, tmp_path: Path
) -> AsyncIterator[RunningSidecar]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    running = await start_sidecar(emulator, token, policy_path=str(policy))
    yield running
    await running.channel.close(None)
    await running.sidecar.stop()


def decisions(bucket: str, result: str) -> float:
    sample = metrics.REGISTRY.get_sample_value(
        "cryptopay_sidecar_ratelimit_decisions_total", {"bucket": bucket, "result": result}
    )
    return sample or 0.0


async def test_budget_in_trailers_then_a_refusal_with_retry_info(
    limited: RunningSidecar, control: EmulatorControl, token: str
) -> None:
    admitted, refused = decisions("app", "admitted"), decisions("app", "refused")
    call = limited.stub.GetBalance(pb.GetBalanceRequest())
    await call
    trailers = as_dict(await call.trailing_metadata())
    assert trailers["ratelimit-policy"] == '"app";q=2;w=60;burst=2'
    assert trailers["ratelimit"] == '"app";r=1;t=30'
    assert trailers["ratelimit-remaining"] == "1"
    await limited.stub.GetBalance(pb.GetBalanceRequest())

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await limited.stub.GetBalance(pb.GetBalanceRequest())
    error = info.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "rate limit 'app' (2/min, burst 2) is exhausted" in (error.details() or "")
    details = rich_details(error)
    assert details["ErrorInfo"].reason == "RATE_LIMITED"
    assert details["ErrorInfo"].domain == "cryptopay-sidecar"
    assert 29 <= details["RetryInfo"].retry_delay.seconds <= 30
    assert as_dict(error.trailing_metadata())["ratelimit-remaining"] == "0"
    # Refused before any upstream call: only the two admitted calls reached Crypto Pay.
    assert await control.api_requests(token) == 2
    assert decisions("app", "admitted") - admitted == 2
    assert decisions("app", "refused") - refused == 1


async def test_a_call_costing_more_than_the_budget_left_is_refused(
    limited: RunningSidecar, control: EmulatorControl, token: str
) -> None:
    await limited.stub.GetBalance(pb.GetBalanceRequest())
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await limited.stub.GetStats(pb.GetStatsRequest())
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert await control.api_requests(token) == 1


async def test_readiness_is_ok_with_the_in_memory_limiter(
    limited: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{limited.sidecar.http_port}/readyz"
    async with http_session.get(url) as response:
        assert response.status == 200
        assert (await response.json())["reason"] == "ok"


def test_an_invalid_section_stops_the_start_naming_the_path(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrate_limits:\n  app: {rate: 30 per second}\n")
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--demo", "--policy", str(policy),
         "--grpc-listen", "127.0.0.1:0", "--http-listen", "off",
         "--demo-emulator-listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "rate_limits.app.rate: '30 per second' is not a rate" in result.stderr


KEYS = {"a": "a" * 40, "b": "b" * 40}
CALLERS = """
version: 1
callers:
  a: {key_sha256: %s}
  b: {key_sha256: %s}
rate_limits:
  when_empty: refuse
  callers: {"*": {rate: %s, burst: 1}}
"""


def caller(name: str) -> tuple[tuple[str, str], ...]:
    return (("x-cryptopay-caller", name), ("x-cryptopay-caller-key", KEYS[name]))


async def test_each_caller_has_its_own_bucket_and_a_reload_applies_at_once(
    emulator: RunningEmulator, token: str, tmp_path: Path
) -> None:
    hashes = [hashlib.sha256(k.encode()).hexdigest() for k in KEYS.values()]
    policy = tmp_path / "policy.yaml"
    policy.write_text(CALLERS % (*hashes, "1/min"))
    running = await start_sidecar(emulator, token, policy_path=str(policy))
    try:
        stub = running.stub
        for who in ("a", "b"):
            await stub.GetBalance(pb.GetBalanceRequest(), metadata=caller(who))
        await stub.GetBalance(pb.GetBalanceRequest())  # the default caller
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetBalance(pb.GetBalanceRequest(), metadata=caller("a"))
        assert "rate limit 'caller:a'" in (info.value.details() or "")
        assert rich_details(info.value)["ErrorInfo"].metadata["bucket"] == "caller:a"

        policy.write_text(CALLERS % (*hashes, "100/s"))
        assert await running.sidecar.reload_policy()
        # The token owed carries over: at the new rate it is a hundredth of a second.
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await stub.GetBalance(pb.GetBalanceRequest(), metadata=caller("a"))
        assert "(100/s, burst 1)" in (again.value.details() or "")
        delay = rich_details(again.value)["RetryInfo"].retry_delay
        assert delay.seconds == 0 and delay.nanos <= 20_000_000
        await asyncio.sleep(0.05)  # a little longer than that delay: a well-behaved caller
        await stub.GetBalance(pb.GetBalanceRequest(), metadata=caller("a"))
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()
