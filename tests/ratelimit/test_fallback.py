"""Redis down or hung: decisions go on locally at the replica's share, within their budget, and
go back to the shared buckets when Redis answers again. Real redis-server, really stopped."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import AsyncIterator

import pytest

from sidecar.ratelimit.backend import COOLDOWN, Decision, Pause, Request
from sidecar.ratelimit.config import BucketConfig, parse_rate
from sidecar.ratelimit.fallback import FallbackBackend
from sidecar.ratelimit.gcra import Limit
from sidecar.ratelimit.plan import Bucket
from sidecar.ratelimit.redis import RedisBackend
from sidecar.redis_connection import connect
from sidecar.secrets import Secret
from sidecar.telemetry import health
from tests.conftest import RedisServer
from tests.helpers import eventually

# Shared: burst 4 every 30 s; each of two replicas falls back to burst 2 every 60 s.
RATE = parse_rate("2/min")
APP = Bucket("app", "app", Limit.per(2, 60, 4), Limit.per(2, 120, 2), BucketConfig(RATE, 4))


def ask(max_wait: float = 0.0, timeout: float = 0.3) -> Request:
    return Request("s", (APP,), 1, max_wait, timeout)


@pytest.fixture
async def fallback(redis_server: RedisServer) -> AsyncIterator[FallbackBackend]:
    client = connect(Secret(redis_server.url))
    backend = FallbackBackend(RedisBackend(client), probe_interval=0.05)
    yield backend
    await backend.close()
    await client.aclose()


def reported() -> health.Check | None:
    """What this process's health board says about the rate limiter."""
    return next((c for c in health.BOARD.checks() if c.name == "ratelimit"), None)


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(getattr(r, "event", "")) for r in caplog.records if hasattr(r, "event")]


async def test_redis_down_then_back(
    fallback: FallbackBackend, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sidecar.ratelimit")
    shared = await fallback.decide(ask())
    assert shared.allowed and shared.shared

    redis_server.stop()
    local = [await fallback.decide(ask()) for _ in range(3)]
    assert [d.allowed for d in local] == [True, True, False]  # the replica's burst of 2
    assert not any(d.shared for d in local)
    assert fallback.degraded
    check = reported()
    assert check is not None and not check.ok and not check.required  # degraded, not down
    assert "Redis unreachable" in check.reason
    assert events(caplog) == ["ratelimit_degraded"]  # once, not once per call

    redis_server.start()

    async def shared_decision() -> Decision | None:
        decision = await fallback.decide(ask())
        return decision if decision.shared else None

    decision = await eventually(shared_decision, "a decision by Redis again", within=10)
    assert decision.shared and decision.allowed  # the restarted Redis has a full bucket
    assert not fallback.degraded
    check = reported()
    assert check is not None and check.ok
    assert events(caplog) == ["ratelimit_degraded", "ratelimit_recovered"]


async def test_a_hung_redis_never_holds_a_call_past_its_budget(
    fallback: FallbackBackend, redis_server: RedisServer
) -> None:
    assert (await fallback.decide(ask())).shared
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        decision = await fallback.decide(ask(timeout=0.2))
        elapsed = time.monotonic() - started
        assert decision.allowed and not decision.shared
        assert elapsed < 2.0  # the budget was 0.2 s; generous for a loaded machine
        # Meanwhile other calls decide locally at once, without touching Redis.
        assert not (await fallback.decide(ask(timeout=0.2))).shared
    finally:
        redis_server.process.send_signal(signal.SIGCONT)


async def test_no_budget_left_decides_locally_without_asking_redis(
    fallback: FallbackBackend,
) -> None:
    decision = await fallback.decide(ask(timeout=0.0))
    assert decision.allowed and not decision.shared
    assert not fallback.degraded  # nothing was wrong with Redis


async def test_a_cooldown_holds_locally_when_redis_is_down(
    fallback: FallbackBackend, redis_server: RedisServer
) -> None:
    redis_server.stop()
    assert await fallback.cooldown(Pause("s", 20.0, APP, 0.3)) == pytest.approx(20, abs=0.5)
    refused = await fallback.decide(ask())
    assert not refused.allowed and refused.limited_by == COOLDOWN and not refused.shared


async def test_without_calls_a_background_probe_notices_redis_is_back(
    fallback: FallbackBackend, redis_server: RedisServer
) -> None:
    redis_server.stop()
    assert not (await fallback.decide(ask())).shared
    redis_server.start()
    await eventually(lambda: not fallback.degraded, "the probe to notice")  # no call meanwhile
    assert (await fallback.decide(ask())).shared


async def test_closing_withdraws_the_report(
    fallback: FallbackBackend, redis_server: RedisServer
) -> None:
    redis_server.stop()
    await fallback.decide(ask())
    assert reported() is not None
    await fallback.close()
    assert reported() is None
