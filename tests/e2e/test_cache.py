"""The shared cache end to end: replicas in this process sharing a real Redis, real gRPC to them,
real HTTP to the emulator, whose request counts prove what went upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import grpc
import pytest

from sidecar import cli
from sidecar.cache.config import CacheConfig, MethodRule
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.secrets import Secret
from tests.conftest import EmulatorControl, RedisServer, RunningSidecar, start_sidecar
from tests.helpers import eventually, free_port

Replicas = Callable[..., Awaitable[list[RunningSidecar]]]


def config(**rule: float) -> CacheConfig:
    """GetExchangeRates and GetMe cached under one short rule."""
    method_rule = MethodRule(**{"ttl": 60.0, "max_stale": 120.0, **rule})
    return CacheConfig(
        methods={"GetExchangeRates": method_rule, "GetMe": method_rule},
        lock_ttl=5.0,
        failure_cooldown=5.0,
    )


@pytest.fixture
async def replicas(
    emulator: RunningEmulator, token: str, redis_server: RedisServer
) -> AsyncIterator[Replicas]:
    started: list[RunningSidecar] = []

    async def start(count: int = 1, cache: CacheConfig | None = None) -> list[RunningSidecar]:
        for _ in range(count):
            started.append(
                await start_sidecar(
                    emulator, token, redis_url=Secret(redis_server.url), cache=cache or config()
                )
            )
        return started[-count:]

    yield start
    for running in started:
        await running.channel.close(None)
        await running.sidecar.stop()


async def upstream_calls(control: EmulatorControl, token: str, method: str) -> int:
    stats = await control.request("GET", "stats", token)
    return int(stats["by_method"].get(method, 0))


async def rates(running: RunningSidecar, **metadata: str) -> tuple[Any, dict[str, str]]:
    call = running.stub.GetExchangeRates(
        pb.GetExchangeRatesRequest(), metadata=tuple(metadata.items()), timeout=10
    )
    response = await call
    return response, dict(await call.trailing_metadata())


async def test_replicas_make_one_upstream_call_per_ttl_window(
    replicas: Replicas, control: EmulatorControl, token: str
) -> None:
    # A TTL long enough for a burst to finish within it even on a busy machine.
    sidecars = await replicas(3, config(ttl=3.0, max_stale=10.0))
    for window in (1, 2):
        if window > 1:
            await asyncio.sleep(3.1)  # the next ttl window: the entry's age is what is tested
        answers = await asyncio.gather(*(rates(sidecars[i % 3]) for i in range(60)))
        assert all(response.items for response, _ in answers)
        served = sorted(trailers["cryptopay-cache"] for _, trailers in answers)
        assert served == ["hit"] * 59 + ["miss"]
        assert await upstream_calls(control, token, "getExchangeRates") == window


async def test_stale_while_revalidate(
    replicas: Replicas, control: EmulatorControl, token: str
) -> None:
    first, second = await replicas(2, config(ttl=2.0, stale_while_revalidate=30.0))
    await rates(first)
    await asyncio.sleep(2.1)  # past the ttl (2 s): the entry's age is what is tested
    # Past the ttl: served at once from the cache, while one replica refreshes it (slowly).
    await control.fault(token, method="getExchangeRates", kind="latency", latency_ms=1000, count=1)
    _, trailers = await rates(second)
    assert trailers["cryptopay-cache"] == "stale"
    assert trailers["cryptopay-cache-stale"] == "revalidating"
    assert float(trailers["cryptopay-cache-age"]) >= 2.0
    _, trailers = await rates(first)  # the other replica does not start a second refresh
    assert trailers["cryptopay-cache"] in ("stale", "hit")

    async def refreshed() -> bool:
        return (await rates(first))[1]["cryptopay-cache"] == "hit"

    await eventually(refreshed, "the refreshed answer", within=10)
    assert await upstream_calls(control, token, "getExchangeRates") == 2


async def test_upstream_failure_serves_stale_data(
    replicas: Replicas, control: EmulatorControl, token: str
) -> None:
    first, second = await replicas(2, config(ttl=0.3, max_stale=30.0))
    fresh, _ = await rates(first)
    await control.fault(token, method="getExchangeRates", kind="status", status=500)
    await asyncio.sleep(0.4)  # past the ttl (0.3 s): the entry's age is what is tested
    response, trailers = await rates(second)
    assert response == fresh
    assert trailers["cryptopay-cache"] == "stale"
    assert trailers["cryptopay-cache-stale"] == "upstream-error"
    asked = await upstream_calls(control, token, "getExchangeRates")  # 1 + the refresh's attempts
    stats = await control.request("GET", "stats", token)
    assert stats["faulted"] == asked - 1 >= 1
    # The other replica serves it too, without asking the failing upstream (cooldown).
    _, trailers = await rates(first)
    assert trailers["cryptopay-cache-stale"] == "upstream-error"
    assert await upstream_calls(control, token, "getExchangeRates") == asked


async def test_never_serves_older_than_max_stale(
    replicas: Replicas, control: EmulatorControl, token: str
) -> None:
    [sidecar] = await replicas(1, config(ttl=0.2, max_stale=2.0))
    await rates(sidecar)
    fetched = asyncio.get_running_loop().time()
    await control.fault(token, method="getExchangeRates", kind="status", status=503)
    await asyncio.sleep(0.3)  # past the ttl (0.2 s), within max_stale: ages are what is tested
    _, trailers = await rates(sidecar)
    assert trailers["cryptopay-cache"] == "stale"
    assert float(trailers["cryptopay-cache-age"]) < 2.0
    # Past max_stale (2 s) since the fetch.
    await asyncio.sleep(max(0.0, fetched + 2.1 - asyncio.get_running_loop().time()))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await rates(sidecar)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    trailing: Any = info.value.trailing_metadata() or ()
    assert dict(trailing)["cryptopay-cache"] == "miss"


async def test_caller_bypass(replicas: Replicas, control: EmulatorControl, token: str) -> None:
    [sidecar] = await replicas(1)
    await rates(sidecar)
    _, trailers = await rates(sidecar, **{"cache-control": "no-cache"})
    assert trailers["cryptopay-cache"] == "bypass" and trailers["cryptopay-attempts"] == "1"
    _, trailers = await rates(sidecar)
    assert trailers["cryptopay-cache"] == "hit"
    assert "cryptopay-attempts" not in trailers
    assert await upstream_calls(control, token, "getExchangeRates") == 2


async def test_metrics_are_scraped(replicas: Replicas, http_session: aiohttp.ClientSession) -> None:
    [sidecar] = await replicas(1)
    await rates(sidecar)
    await rates(sidecar)
    url = f"http://127.0.0.1:{sidecar.sidecar.http_port}/metrics"
    async with http_session.get(url) as response:
        text = await response.text()
    for result in ("hit", "miss"):
        line = (
            f'cryptopay_sidecar_cache_requests_total{{method="GetExchangeRates",result="{result}"}}'
        )
        assert line in text
    assert (
        'cryptopay_sidecar_cache_refreshes_total{method="GetExchangeRates",mode="foreground"}'
        in text
    )


async def test_flush_over_http_and_from_the_command_line(
    replicas: Replicas,
    control: EmulatorControl,
    token: str,
    redis_server: RedisServer,
    http_session: aiohttp.ClientSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = await replicas(2)
    await rates(first)
    await first.stub.GetMe(pb.GetMeRequest())
    admin = f"http://127.0.0.1:{first.sidecar.http_port}/admin/cache"
    async with http_session.post(f"{admin}/flush?method=GetExchangeRates") as response:
        assert response.status == 200
        assert await response.json() == {"flushed": 1, "method": "GetExchangeRates"}
    _, trailers = await rates(second)  # flushed for every replica
    assert trailers["cryptopay-cache"] == "miss"
    async with http_session.post(f"{admin}/flush?method=Transfer") as response:
        assert response.status == 400
        assert "GetExchangeRates" in (await response.json())["error"]
    async with http_session.get(admin) as response:
        info = await response.json()
    assert info["config"]["methods"]["GetExchangeRates"]["ttl"] == 60.0
    assert {"name": "cryptopay_sidecar_cache_requests_total", "value": 1} | {
        "labels": {"method": "GetExchangeRates", "result": "miss"}
    } in info["counters"]

    # The command, run in a thread (it runs its own event loop).
    argv = ["cache", "flush", "--redis-url", redis_server.url]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert "flushed 2 cached answer(s)" in capsys.readouterr().out
    _, trailers = await rates(first)
    assert trailers["cryptopay-cache"] == "miss"
    assert await upstream_calls(control, token, "getExchangeRates") == 3

    # Through a sidecar's admin endpoint (the way to flush an in-memory cache).
    argv = ["cache", "flush", "--admin-url", f"http://127.0.0.1:{second.sidecar.http_port}"]
    assert await asyncio.to_thread(cli.main, [*argv, "--method", "GetExchangeRates"]) == 0
    assert "flushed 1 cached answer(s)" in capsys.readouterr().out


async def test_redis_outage_sends_calls_upstream(
    replicas: Replicas, control: EmulatorControl, token: str, redis_server: RedisServer
) -> None:
    [sidecar] = await replicas(1)
    await rates(sidecar)
    redis_server.stop()
    try:
        for _ in range(2):
            response, trailers = await rates(sidecar)
            assert response.items and trailers["cryptopay-cache"] == "miss"
        assert await upstream_calls(control, token, "getExchangeRates") == 3
    finally:
        redis_server.start()


async def test_mutating_and_state_reads_are_never_cached(
    replicas: Replicas, control: EmulatorControl, token: str
) -> None:
    [sidecar] = await replicas(1)
    for _ in range(2):
        call = sidecar.stub.GetBalance(pb.GetBalanceRequest())
        await call
        assert "cryptopay-cache" not in dict(await call.trailing_metadata())
    assert await upstream_calls(control, token, "getBalance") == 2


def test_cli_flush_needs_a_target(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRYPTOPAY_SIDECAR_REDIS_URL", raising=False)
    assert cli.main(["cache", "flush"]) == 2
    assert "--redis-url" in capsys.readouterr().err


def test_cli_flush_never_echoes_the_redis_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"redis://:s3cret-password@127.0.0.1:{free_port()}/0"
    assert cli.main(["cache", "flush", "--redis-url", url]) == 1
    err = capsys.readouterr().err
    assert "failed" in err and "s3cret-password" not in err
