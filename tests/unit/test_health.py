"""The readiness model: the pure verdict, the dependency board, publishing changes."""

from __future__ import annotations

import asyncio

import pytest

from sidecar.telemetry import metrics
from sidecar.telemetry.health import (
    Board,
    Check,
    Readiness,
    Verdict,
    evaluate,
    relaxed_for,
    watch_redis,
)
from tests.helpers import eventually

UP = Check("redis", True, "ok")
DOWN = Check("redis", False, "connection refused")
DOWN_OPTIONAL = Check("redis", False, "connection refused", required=False)
POLICY_BAD = Check("policy", False, "line 3: unknown field")


@pytest.mark.parametrize(
    ("started", "draining", "checks", "verdict"),
    [
        (True, False, [], Verdict(True, "ok")),
        (True, False, [UP], Verdict(True, "ok")),
        (False, False, [UP], Verdict(False, "starting")),
        (True, True, [UP], Verdict(False, "draining")),
        (False, True, [], Verdict(False, "draining")),
        (True, False, [DOWN], Verdict(False, "redis: connection refused")),
        (
            True,
            False,
            [DOWN_OPTIONAL],
            Verdict(True, "degraded: redis: connection refused", ("redis: connection refused",)),
        ),
        (
            True,
            False,
            [DOWN, POLICY_BAD],
            Verdict(False, "policy: line 3: unknown field; redis: connection refused"),
        ),
        (
            True,
            False,
            [DOWN_OPTIONAL, POLICY_BAD],
            Verdict(False, "policy: line 3: unknown field", ("redis: connection refused",)),
        ),
        (
            True,
            True,
            [DOWN_OPTIONAL],
            Verdict(False, "draining", ("redis: connection refused",)),
        ),
    ],
)
def test_evaluate(started: bool, draining: bool, checks: list[Check], verdict: Verdict) -> None:
    assert evaluate(started=started, draining=draining, checks=checks) == verdict


async def test_readiness_publishes_each_change_and_ends_on_the_latest() -> None:
    board = Board()
    readiness = Readiness(board)
    published: list[bool] = []

    async def publish(verdict: Verdict) -> None:
        await asyncio.sleep(0)  # a publisher that yields, so changes can overtake it
        published.append(verdict.ready)

    readiness.add_publisher(publish)
    readiness.set("upstream", True)
    readiness.started()
    await readiness.settle()
    assert published[-1] is True and readiness.probe() == (True, "ok")

    board.set(DOWN)
    board.set(UP)
    board.set(DOWN)
    await readiness.settle()
    assert published[-1] is False
    assert readiness.probe() == (False, "redis: connection refused")
    assert metrics.REGISTRY.get_sample_value("cryptopay_sidecar_ready") == 0
    assert (
        metrics.REGISTRY.get_sample_value(
            "cryptopay_sidecar_dependency_up", {"dependency": "redis"}
        )
        == 0
    )

    board.clear("redis")
    await readiness.drain()
    assert published[-1] is False and readiness.probe() == (False, "draining")
    readiness.close()
    board.set(UP)  # a closed readiness no longer listens
    assert readiness.probe() == (False, "draining")


def test_board_scrubs_secrets_from_reasons() -> None:
    from sidecar import secrets

    secrets.register("hunter2-redis-password")
    board = Board()
    board.set(Check("redis", False, "AUTH failed for hunter2-redis-password"))
    assert board.checks()[0].reason == "AUTH failed for ***"


class FlakyRedis:
    def __init__(self) -> None:
        self.up = True
        self.pings = 0

    async def ping(self) -> bool:
        self.pings += 1
        if not self.up:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return True


async def test_watch_redis_reports_loss_and_recovery() -> None:
    from sidecar.telemetry import health

    client = FlakyRedis()
    task = asyncio.create_task(watch_redis(client, interval=0.01, name="redis-probe-test"))

    async def state() -> Check | None:
        return next((c for c in health.BOARD.checks() if c.name == "redis-probe-test"), None)

    try:
        for up in (True, False, True):
            client.up = up

            async def reported(up: bool = up) -> Check | None:
                check = await state()
                return check if check is not None and check.ok is up else None

            check = await eventually(reported, f"the probe to report up={up}", within=5)
            assert check.ok is up
            if not up:
                assert check.reason.startswith("ConnectionError: Error 111")
    finally:
        task.cancel()
        health.clear_dependency("redis-probe-test")


def test_degraded_mode_keeps_ready_with_redis_down_and_marks_the_api_impaired() -> None:
    relaxed = relaxed_for("degraded")
    verdict = evaluate(started=True, draining=False, checks=[DOWN], relaxed=relaxed)
    assert verdict.ready and not verdict.api_serving
    assert verdict.reason == "degraded: redis: connection refused"
    assert verdict.impaired == ("redis: connection refused",)
    # Only Redis is relaxed: a broken policy still takes the sidecar out of service.
    assert not evaluate(
        started=True, draining=False, checks=[DOWN, POLICY_BAD], relaxed=relaxed
    ).ready
    # Draining and start-up still win.
    assert not evaluate(started=True, draining=True, checks=[DOWN], relaxed=relaxed).ready
    assert not evaluate(started=False, draining=False, checks=[DOWN], relaxed=relaxed).ready


def test_strict_mode_is_todays_behaviour() -> None:
    verdict = evaluate(started=True, draining=False, checks=[DOWN], relaxed=relaxed_for("strict"))
    assert not verdict.ready and verdict.reason == "redis: connection refused"
    # An optional dependency (a fallback exists) degrades without impairing the API.
    verdict = evaluate(started=True, draining=False, checks=[DOWN_OPTIONAL])
    assert verdict.ready and verdict.api_serving


def test_unknown_readiness_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="strict, degraded"):
        relaxed_for("lenient")


async def test_degraded_readiness_publishes_the_api_services_as_impaired() -> None:
    board = Board()
    readiness = Readiness(board, relaxed=relaxed_for("degraded"))
    published: list[tuple[bool, bool]] = []

    async def publish(verdict: Verdict) -> None:
        published.append((verdict.ready, verdict.api_serving))

    readiness.add_publisher(publish)
    readiness.started()
    board.set(UP)
    await readiness.settle()
    assert published[-1] == (True, True)
    board.set(DOWN)
    await readiness.settle()
    assert published[-1] == (True, False)
    assert readiness.probe() == (True, "degraded: redis: connection refused")
    assert metrics.REGISTRY.get_sample_value("cryptopay_sidecar_degraded") == 1
    board.set(UP)
    await readiness.settle()
    assert published[-1] == (True, True)
    assert metrics.REGISTRY.get_sample_value("cryptopay_sidecar_degraded") == 0
    readiness.close()
