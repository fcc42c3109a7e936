"""The rate-limit step on the in-process backend: waiting, refusing, deadlines, the queue bound,
the upstream 429 pause, trailing metadata and hot reload from the policy snapshot."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from sidecar.errors import RpcError
from sidecar.methods import BY_RPC
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call
from sidecar.ratelimit.backend import Decision, Request
from sidecar.ratelimit.config import parse_rate_limits
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.ratelimit.memory import MemoryBackend
from tests.helpers import eventually, snapshot


def call(rpc: str = "GetMe", caller: str = "default", timeout: float | None = None) -> Call:
    spec = BY_RPC[rpc]
    deadline = None if timeout is None else time.monotonic() + timeout
    return Call(spec, spec.request_type(), {}, deadline, caller=caller)


def limiter(section: dict[str, Any], backend: MemoryBackend | None = None) -> RateLimiter:
    return RateLimiter(
        backend or MemoryBackend(), scope="1@test", config=parse_rate_limits(section)
    )


def detail(error: RpcError, kind: type[Any]) -> Any:
    return next(d for d in error.details if isinstance(d, kind))


def too_many(retry_after: float | None = None) -> Outcome:
    return Outcome(Delivery.REJECTED, retryable=True, retry_after=retry_after, http_status=429)


async def test_no_section_no_limits() -> None:
    step = RateLimiter(MemoryBackend(), scope="s")
    c = call()
    for _ in range(100):
        await step.acquire(c)
    assert c.trailing == []


async def test_refuse_when_empty() -> None:
    step = limiter({"when_empty": "refuse", "app": {"rate": "2/min", "burst": 2}})
    for _ in range(2):
        await step.acquire(call())
    c = call()
    with pytest.raises(RpcError) as info:
        await step.acquire(c)
    error = info.value
    assert error.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason == "RATE_LIMITED"
    assert error.message.startswith(
        "GetMe: rate limit 'app' (2/min, burst 2) is exhausted; retry in"
    )
    info_detail = detail(error, error_details_pb2.ErrorInfo)
    assert dict(info_detail.metadata) == {
        "rpc": "GetMe",
        "caller": "default",
        "bucket": "app",
        "limit": "2/min",
        "burst": "2",
    }
    assert 29 <= detail(error, error_details_pb2.RetryInfo).retry_delay.seconds <= 30
    trailing = dict(c.trailing)
    assert trailing["ratelimit"] == '"app";r=0;t=60'
    assert trailing["ratelimit-policy"] == '"app";q=2;w=60;burst=2'


async def test_wait_for_a_slot() -> None:
    step = limiter({"app": {"rate": "20/s", "burst": 1}})  # a slot every 50 ms
    await step.acquire(call())
    waiter = asyncio.create_task(step.acquire(call(timeout=5)))
    await eventually(lambda: step.waiting == 1, "the call to wait for its slot")
    assert step.waiting == 1
    await waiter
    assert step.waiting == 0


async def test_never_wait_past_the_deadline() -> None:
    step = limiter({"app": {"rate": "2/min", "burst": 1}})
    await step.acquire(call())
    with pytest.raises(RpcError) as info:
        await step.acquire(call(timeout=2))
    assert info.value.reason == "RATE_LIMITED"
    assert "waiting would pass the call's deadline" in info.value.message
    assert step.waiting == 0


async def test_never_wait_past_max_wait() -> None:
    step = limiter({"max_wait": "1s", "app": {"rate": "2/min", "burst": 1}})
    await step.acquire(call())
    with pytest.raises(RpcError) as info:
        await step.acquire(call(timeout=60))
    assert "further away than max_wait (1 s)" in info.value.message


async def test_the_waiting_queue_is_bounded() -> None:
    step = limiter({"max_queue": 1, "app": {"rate": "1/s", "burst": 1}})
    await step.acquire(call())
    waiter = asyncio.create_task(step.acquire(call(timeout=5)))
    await eventually(lambda: step.waiting == 1, "the first call to wait")
    with pytest.raises(RpcError) as info:
        await step.acquire(call(timeout=5))
    assert info.value.reason == "RATE_LIMIT_QUEUE_FULL"
    assert "1 calls already wait in this sidecar (max_queue)" in info.value.message
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert step.waiting == 0  # a cancelled waiter leaves the queue


async def test_a_bucket_that_refuses_wins_over_waiting() -> None:
    section = {
        "callers": {"batch": {"rate": "2/min", "burst": 1, "when_empty": "refuse"}},
        "app": "100/s",
    }
    step = limiter(section)
    await step.acquire(call(caller="batch"))
    with pytest.raises(RpcError) as info:
        await step.acquire(call(caller="batch", timeout=60))
    assert "caller:batch" in info.value.message


async def test_an_upstream_429_pauses_the_calls_of_every_replica() -> None:
    shared = MemoryBackend()  # stands for Redis: two replicas, one store
    section = {"when_empty": "refuse", "app": "100/s"}
    first, second = limiter(section, shared), limiter(section, shared)
    c = call()
    await first.acquire(c)
    await first.observe(c, too_many(retry_after=30))
    for replica in (first, second):
        with pytest.raises(RpcError) as info:
            await replica.acquire(call())
        assert info.value.reason == "UPSTREAM_COOLDOWN"
        assert "Crypto Pay answered 429" in info.value.message
        assert 29 <= detail(info.value, error_details_pb2.RetryInfo).retry_delay.seconds <= 30


async def test_a_429_without_retry_after_pauses_for_the_configured_cooldown() -> None:
    step = limiter({"cooldown": "20s", "max_wait": "1s"})
    c = call()
    await step.observe(c, too_many())
    with pytest.raises(RpcError) as info:
        await step.acquire(call(timeout=5))
    assert 19 <= detail(info.value, error_details_pb2.RetryInfo).retry_delay.seconds <= 20


@pytest.mark.parametrize(
    ("section", "answer", "pause"),
    [
        ({"cooldown": "50ms"}, too_many(), 0.05),  # the configured cooldown
        ({"cooldown": "20s"}, too_many(retry_after=0.1), 0.1),  # the upstream's Retry-After
    ],
)
async def test_a_short_pause_is_waited_out(
    section: dict[str, Any], answer: Outcome, pause: float
) -> None:
    step = limiter(section)
    started = time.monotonic()
    await step.observe(call(), answer)
    admitted = call(timeout=5)
    await step.acquire(admitted)  # well within its deadline: it waits, then goes
    assert time.monotonic() - started >= pause
    assert step.waiting == 0


async def test_other_outcomes_do_not_pause() -> None:
    step = limiter({"when_empty": "refuse"})
    await step.observe(call(), Outcome(Delivery.UNKNOWN, retryable=True, http_status=503))
    await step.acquire(call())


async def test_retries_replace_the_trailing_metadata() -> None:
    step = limiter({"app": "10/s"})
    c = call()
    c.trailing.append(("cryptopay-attempts", "1"))
    await step.acquire(c)
    await step.acquire(c)
    keys = [k for k, _ in c.trailing]
    assert keys.count("ratelimit") == 1 and "cryptopay-attempts" in keys
    assert dict(c.trailing)["ratelimit"] == '"app";r=8;t=1'


async def test_the_policy_snapshot_wins_and_reloads() -> None:
    step = limiter({"when_empty": "refuse", "app": {"rate": "1/min", "burst": 1}})
    strict = snapshot({"rate_limits": {"when_empty": "refuse", "app": "2/min"}})
    c = call()
    c.policy = strict
    await step.acquire(c)
    await step.acquire(c)  # burst 2 from the snapshot, not 1 from the constructor
    with pytest.raises(RpcError):
        await step.acquire(c)
    c.policy = snapshot({"rate_limits": {"when_empty": "refuse", "app": "5/min"}})
    # A new snapshot applies at once: the 2 tokens owed carry over into the larger bucket.
    for _ in range(3):
        await step.acquire(c)
    with pytest.raises(RpcError):
        await step.acquire(c)
    c.policy = snapshot({})
    with pytest.raises(RpcError):  # no section in the snapshot: the constructor's limits
        await step.acquire(c)
    c.policy = snapshot({})
    unlimited = RateLimiter(MemoryBackend(), scope="s")
    for _ in range(10):
        await unlimited.acquire(c)  # and without those, no limits


def test_describe() -> None:
    assert RateLimiter(MemoryBackend(), scope="s").describe() == "off"
    assert limiter({}).describe() == "upstream pause only; in memory"
    section = {"app": "1/s", "callers": {"*": "1/s"}, "rpcs": {"GetMe": "1/s"}}
    assert limiter(section).describe() == "app, caller:*, rpc:GetMe; in memory"


class SlowBackend(MemoryBackend):
    """Answers after a moment, as a shared store does."""

    async def decide(self, request: Request) -> Decision:
        await asyncio.sleep(0.01)  # the latency is the point: the crowd arrives meanwhile
        return await super().decide(request)


async def test_a_crowd_arriving_at_once_cannot_overrun_the_queue() -> None:
    section = {"max_queue": 3, "max_wait": "5m", "app": {"rate": "1/min", "burst": 1}}
    step = limiter(section, SlowBackend())
    tasks = [asyncio.create_task(step.acquire(call(timeout=300))) for _ in range(10)]
    # The first three hold the queue's places while they ask: one goes at once, two wait
    # (one and two minutes). The other seven are refused at once.
    await eventually(lambda: sum(t.done() for t in tasks) == 8, "seven refusals and one slot")
    reasons = [t.exception().reason for t in tasks if t.done() and t.exception()]  # type: ignore[union-attr]
    assert reasons == ["RATE_LIMIT_QUEUE_FULL"] * 7
    assert step.waiting == 2
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert step.waiting == 0
