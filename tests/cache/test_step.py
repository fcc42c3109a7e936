"""The cache step over the in-memory store, with a hand-moved clock and a scripted upstream path.

End-to-end behaviour over real gRPC, HTTP and Redis is in tests/e2e/test_cache*.py; these cover
each decision quickly and without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest

from sidecar.cache.config import CacheConfig, MethodRule
from sidecar.cache.memory import MemoryStore
from sidecar.cache.step import CacheStep
from sidecar.cache.store import Acquired, Entry, Lease, Snapshot, cache_key
from sidecar.config_section import SectionError
from sidecar.errors import RpcError, error_info, refusal
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.methods import BY_RPC
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call
from sidecar.store_base import StoreUnavailable
from tests.helpers import eventually, snapshot

RULE = MethodRule(ttl=60, stale_while_revalidate=30, max_stale=300, invalid_ttl=5)
CONFIG = CacheConfig(
    methods={"GetExchangeRates": RULE, "GetMe": RULE}, lock_ttl=5, failure_cooldown=2
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def rates(rate: str = "5", valid: bool = True) -> pb.GetExchangeRatesResponse:
    return pb.GetExchangeRatesResponse(
        items=[
            types.ExchangeRate(is_valid=True, source="USDT", target="USD", rate="1"),
            types.ExchangeRate(is_valid=valid, source="TON", target="USD", rate=rate),
        ]
    )


def unavailable() -> Outcome:
    return Outcome(
        Delivery.UNKNOWN,
        error=RpcError(
            grpc.StatusCode.UNAVAILABLE,
            "getExchangeRates: APP_ERROR",
            (error_info("APP_ERROR", "pay.crypt.bot"),),
        ),
        retryable=True,
    )


class Upstream:
    """The rest of the request path, scripted: answers in order, optionally held at a gate."""

    def __init__(self, *answers: Outcome | RpcError) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.deadlines: list[float | None] = []

    def answer(self, *answers: Outcome | RpcError) -> None:
        self.answers.extend(answers)

    async def __call__(self, call: Call) -> Outcome:
        self.calls += 1
        self.deadlines.append(call.deadline)
        call.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, RpcError):
            raise answer
        return answer


def ok(response: Any) -> Outcome:
    return Outcome(Delivery.DONE, response=response, http_status=200)


def new_call(
    rpc: str = "GetExchangeRates",
    deadline: float | None = None,
    policy: Any = None,
    **metadata: str,
) -> Call:
    spec = BY_RPC[rpc]
    return Call(
        spec=spec,
        request=spec.request_type(),
        metadata={k.replace("_", "-"): v for k, v in metadata.items()},
        deadline=None if deadline is None else time.monotonic() + deadline,
        policy=policy,
    )


def trailers(call: Call) -> dict[str, str]:
    return dict(call.trailing)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def step(clock: Clock) -> CacheStep:
    return CacheStep(MemoryStore(clock=clock), CONFIG, scope="app")


async def settle(step: CacheStep) -> None:
    """Waits for background refreshes."""
    await eventually(lambda: not step._tasks, "the background refreshes to finish", within=1)


class WaitCountingStore(MemoryStore):
    """The memory store, counting the callers waiting in it for another caller's refresh."""

    waiting = 0

    async def wait(self, key: str, seen: float | None, within: float) -> None:
        self.waiting += 1
        try:
            await super().wait(key, seen, within)
        finally:
            self.waiting -= 1


async def test_miss_then_hit(step: CacheStep, clock: Clock) -> None:
    upstream = Upstream(ok(rates("5")))
    first = new_call()
    assert (await step.run(first, upstream)).response == rates("5")
    assert trailers(first) == {"cryptopay-cache": "miss"} and first.attempts == 1
    clock.advance(59)
    second = new_call()
    assert (await step.run(second, upstream)).response == rates("5")
    assert trailers(second) == {"cryptopay-cache": "hit", "cryptopay-cache-age": "59.000"}
    assert second.attempts == 0 and upstream.calls == 1
    assert step.counters.value("requests_total", method="GetExchangeRates", result="hit") == 1


async def test_methods_without_a_rule_pass_through(step: CacheStep) -> None:
    upstream = Upstream(ok(pb.GetBalanceResponse()))
    for _ in range(2):
        call = new_call("GetBalance")
        await step.run(call, upstream)
        assert call.trailing == []
    assert upstream.calls == 2


async def test_concurrent_misses_make_one_upstream_call(clock: Clock) -> None:
    store = WaitCountingStore(clock=clock)
    step = CacheStep(store, CONFIG, scope="app")
    upstream = Upstream(ok(rates()))
    upstream.gate = asyncio.Event()
    calls = [new_call() for _ in range(50)]
    tasks = [asyncio.create_task(step.run(c, upstream)) for c in calls]
    await eventually(
        lambda: upstream.calls == 1 and store.waiting == 49,
        "one call at the upstream and the others waiting for it",
    )
    upstream.gate.set()
    outcomes = await asyncio.gather(*tasks)
    assert all(o.response == rates() for o in outcomes)
    assert upstream.calls == 1
    results = sorted(trailers(c)["cryptopay-cache"] for c in calls)
    assert results == ["hit"] * 49 + ["miss"]


async def test_stale_while_revalidate(step: CacheStep, clock: Clock) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    await step.run(new_call(), upstream)
    clock.advance(70)  # past the ttl, inside the window
    upstream.gate = asyncio.Event()
    calls = [new_call() for _ in range(5)]
    for call in calls:
        # Served at once, while the refresh is still held at the gate.
        assert (await step.run(call, upstream)).response == rates("5")
        assert trailers(call)["cryptopay-cache"] == "stale"
        assert trailers(call)["cryptopay-cache-stale"] == "revalidating"
        assert 70 <= float(trailers(call)["cryptopay-cache-age"]) < 71
    await eventually(lambda: upstream.calls == 2, "the background refresh to start", within=1)
    # Nothing else may start meanwhile: a moment with the refresh held shows none does.
    await asyncio.sleep(0.05)
    assert upstream.calls == 2  # one background refresh for all five
    upstream.gate.set()
    await settle(step)
    fresh = new_call()
    assert (await step.run(fresh, upstream)).response == rates("6")
    assert trailers(fresh)["cryptopay-cache"] == "hit"
    assert step.counters.value("refreshes_total", method="GetExchangeRates", mode="background")


async def test_past_the_window_the_caller_waits_for_a_fresh_answer(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    await step.run(new_call(), upstream)
    clock.advance(100)
    call = new_call()
    assert (await step.run(call, upstream)).response == rates("6")
    assert trailers(call) == {"cryptopay-cache": "miss"}


async def test_upstream_failure_serves_stale_then_cools_down(step: CacheStep, clock: Clock) -> None:
    upstream = Upstream(ok(rates("5")), unavailable())
    await step.run(new_call(), upstream)
    clock.advance(200)
    call = new_call()
    assert (await step.run(call, upstream)).response == rates("5")
    assert trailers(call)["cryptopay-cache"] == "stale"
    assert trailers(call)["cryptopay-cache-stale"] == "upstream-error"
    assert upstream.calls == 2
    # During the cooldown nobody asks the failing upstream again.
    for _ in range(3):
        again = new_call()
        await step.run(again, upstream)
        assert trailers(again)["cryptopay-cache-stale"] == "upstream-error"
    assert upstream.calls == 2
    clock.advance(CONFIG.failure_cooldown)
    await step.run(new_call(), upstream)
    assert upstream.calls == 3
    assert step.counters.value(
        "refresh_failures_total", method="GetExchangeRates", reason="APP_ERROR"
    )


async def test_a_refused_attempt_also_serves_stale(step: CacheStep, clock: Clock) -> None:
    # e.g. the sidecar's own rate limiter refusing the refresh: a stale answer beats an error.
    limited = refusal(grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED", "slow down")
    upstream = Upstream(ok(rates("5")), limited)
    await step.run(new_call(), upstream)
    clock.advance(100)
    call = new_call()
    assert (await step.run(call, upstream)).response == rates("5")
    assert trailers(call)["cryptopay-cache-stale"] == "upstream-error"


async def test_a_definite_error_is_not_hidden_by_stale_data(step: CacheStep, clock: Clock) -> None:
    revoked = Outcome(
        Delivery.REJECTED,
        error=RpcError(grpc.StatusCode.FAILED_PRECONDITION, "getExchangeRates: UNAUTHORIZED"),
    )
    upstream = Upstream(ok(rates("5")), revoked)
    await step.run(new_call(), upstream)
    clock.advance(100)
    call = new_call()
    outcome = await step.run(call, upstream)
    assert outcome.error is not None and outcome.error.code is grpc.StatusCode.FAILED_PRECONDITION
    assert trailers(call) == {"cryptopay-cache": "miss"}
    # No cooldown after a definite answer: the next caller asks again.
    await step.run(new_call(), upstream)
    assert upstream.calls == 3


async def test_never_older_than_max_stale(step: CacheStep, clock: Clock) -> None:
    upstream = Upstream(ok(rates("5")), unavailable())
    await step.run(new_call(), upstream)
    clock.advance(RULE.max_stale)
    call = new_call()
    outcome = await step.run(call, upstream)
    assert outcome.error is not None and outcome.error.code is grpc.StatusCode.UNAVAILABLE
    assert trailers(call) == {"cryptopay-cache": "miss"}


async def test_a_fallback_that_ages_past_max_stale_is_not_served(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5")), unavailable())
    await step.run(new_call(), upstream)
    clock.advance(RULE.max_stale - 0.1)  # still usable when read...
    upstream.gate = asyncio.Event()
    pending = asyncio.create_task(step.run(new_call(), upstream))
    await eventually(lambda: upstream.calls == 2, "the refresh to reach the upstream")
    # ...but not once the refresh has failed: real time passing while it is held is what ages
    # the fallback past max_stale, so this waits.
    await asyncio.sleep(0.2)
    upstream.gate.set()
    outcome = await pending
    assert outcome.error is not None and outcome.error.code is grpc.StatusCode.UNAVAILABLE


async def test_no_cache_asks_the_upstream_and_stores_its_answer(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    await step.run(new_call(), upstream)
    bypass = new_call(cache_control="no-cache")
    assert (await step.run(bypass, upstream)).response == rates("6")
    assert trailers(bypass) == {"cryptopay-cache": "bypass"} and upstream.calls == 2
    after = new_call()
    assert (await step.run(after, upstream)).response == rates("6")
    assert trailers(after)["cryptopay-cache"] == "hit"


async def test_no_store_leaves_the_cache_alone(step: CacheStep) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    await step.run(new_call(), upstream)
    await step.run(new_call(cache_control="no-store"), upstream)
    assert (await step.run(new_call(), upstream)).response == rates("5")


async def test_bypass_can_be_forbidden(clock: Clock) -> None:
    config = CacheConfig(methods={"GetExchangeRates": RULE}, allow_bypass=False)
    step = CacheStep(MemoryStore(clock=clock), config, scope="app")
    upstream = Upstream(ok(rates()))
    await step.run(new_call(), upstream)
    call = new_call(cache_control="no-cache")
    await step.run(call, upstream)
    assert trailers(call)["cryptopay-cache"] == "hit" and upstream.calls == 1


async def test_caller_max_age(step: CacheStep, clock: Clock) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    await step.run(new_call(), upstream)
    clock.advance(20)
    young = new_call(cache_control="max-age=30")
    await step.run(young, upstream)
    assert trailers(young)["cryptopay-cache"] == "hit"
    picky = new_call(cache_control="max-age=10")
    assert (await step.run(picky, upstream)).response == rates("6")
    assert trailers(picky)["cryptopay-cache"] == "miss"


async def test_invalid_rates_stay_invalid_and_are_refreshed_soon(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5", valid=False)), ok(rates("6")))
    await step.run(new_call(), upstream)
    clock.advance(4)
    hit = new_call()
    response = (await step.run(hit, upstream)).response
    assert response == rates("5", valid=False)
    assert trailers(hit)["cryptopay-cache"] == "hit"
    clock.advance(2)  # past invalid_ttl (5 s), long before the ttl (60 s)
    stale = new_call()
    served = (await step.run(stale, upstream)).response
    assert isinstance(served, pb.GetExchangeRatesResponse)
    assert [r.is_valid for r in served.items] == [True, False]  # never turned valid
    await settle(step)
    assert (await step.run(new_call(), upstream)).response == rates("6")


async def test_a_newer_invalid_answer_replaces_an_older_valid_one(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("5", valid=False)))
    await step.run(new_call(), upstream)
    await step.run(new_call(cache_control="no-cache"), upstream)
    served = (await step.run(new_call(), upstream)).response
    assert served == rates("5", valid=False)


async def test_a_waiter_serves_stale_before_its_deadline(step: CacheStep, clock: Clock) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    await step.run(new_call(), upstream)
    clock.advance(100)
    upstream.gate = asyncio.Event()
    leader = asyncio.create_task(step.run(new_call(), upstream))
    await eventually(lambda: upstream.calls == 2, "the leader to reach the upstream")
    waiter = new_call(deadline=0.3)
    started = time.monotonic()
    assert (await step.run(waiter, upstream)).response == rates("5")
    assert time.monotonic() - started < 0.3
    assert trailers(waiter)["cryptopay-cache-stale"] == "timeout"
    upstream.gate.set()
    assert (await leader).response == rates("6")
    assert upstream.calls == 2


async def test_a_waiter_with_nothing_to_serve_gets_a_clear_error(step: CacheStep) -> None:
    upstream = Upstream(ok(rates()))
    upstream.gate = asyncio.Event()
    leader = asyncio.create_task(step.run(new_call(), upstream))
    await eventually(lambda: upstream.calls == 1, "the leader to reach the upstream")
    with pytest.raises(RpcError) as info:
        await step.run(new_call(deadline=0.2), upstream)
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert info.value.reason == "CACHE_REFRESH_PENDING"
    upstream.gate.set()
    await leader


async def test_the_refresh_ends_before_its_lease(step: CacheStep) -> None:
    upstream = Upstream(ok(rates()))
    await step.run(new_call(), upstream)
    deadline = upstream.deadlines[0]
    assert deadline is not None and deadline - time.monotonic() <= CONFIG.lock_ttl


async def test_a_caller_that_gives_up_does_not_waste_the_refresh(step: CacheStep) -> None:
    upstream = Upstream(ok(rates()))
    upstream.gate = asyncio.Event()
    leader = asyncio.create_task(step.run(new_call(), upstream))
    await eventually(lambda: upstream.calls == 1, "the leader to reach the upstream")
    leader.cancel()  # e.g. the caller's deadline passed and gRPC cancelled the handler
    await asyncio.gather(leader, return_exceptions=True)
    upstream.gate.set()
    await settle(step)
    call = new_call()
    await step.run(call, upstream)
    assert trailers(call)["cryptopay-cache"] == "hit" and upstream.calls == 1


async def test_a_slow_refresh_outlasting_the_holders_deadline(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5")), ok(rates("6")))
    upstream.gate = asyncio.Event()
    with pytest.raises(RpcError) as info:
        await step.run(new_call(deadline=0.2), upstream)
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert info.value.reason == "CACHE_REFRESH_PENDING"
    upstream.gate.set()
    await settle(step)
    assert (await step.run(new_call(), upstream)).response == rates("5")
    # With a previous answer, the holder gets it before its deadline instead.
    clock.advance(100)
    upstream.gate = asyncio.Event()
    call = new_call(deadline=0.2)
    assert (await step.run(call, upstream)).response == rates("5")
    assert trailers(call)["cryptopay-cache-stale"] == "timeout"
    upstream.gate.set()
    await settle(step)
    assert (await step.run(new_call(), upstream)).response == rates("6")
    assert upstream.calls == 2


async def test_drain_releases_the_lease_of_a_cancelled_refresh(
    step: CacheStep, clock: Clock
) -> None:
    upstream = Upstream(ok(rates("5")))
    await step.run(new_call(), upstream)
    clock.advance(70)
    upstream.gate = asyncio.Event()
    await step.run(new_call(), upstream)  # starts a background refresh, held at the gate
    await asyncio.wait_for(step.drain(), 5)
    assert not step._tasks
    key = cache_key(CONFIG.key_prefix, "app", "GetExchangeRates", {})
    seen = (await step.store.get(key)).entry
    assert seen is not None
    acquired = await step.store.acquire(key, seen.fetched_at, 1)
    assert acquired.lease is not None  # released at once, not left to expire


class BrokenStore(MemoryStore):
    async def get(self, key: str) -> Snapshot:
        raise StoreUnavailable("redis: ConnectionError")

    async def acquire(self, key: str, seen: float | None, ttl: float) -> Acquired:
        raise StoreUnavailable("redis: ConnectionError")

    async def put(self, key: str, entry: Entry, keep_for: float, lease: Lease | None) -> bool:
        raise StoreUnavailable("redis: ConnectionError")

    async def now(self) -> float:
        raise StoreUnavailable("redis: ConnectionError")


async def test_a_store_outage_never_fails_a_call() -> None:
    step = CacheStep(BrokenStore(), CONFIG, scope="app")
    upstream = Upstream(ok(rates()))
    for call in (new_call(), new_call(cache_control="no-cache")):
        assert (await step.run(call, upstream)).response == rates()
    assert upstream.calls == 2
    assert step.counters.value("store_errors_total", operation="get") == 1


async def test_settings_come_from_the_policy_snapshot(step: CacheStep) -> None:
    upstream = Upstream(ok(pb.GetMeResponse(app=types.App(app_id=1))))
    section: dict[str, Any] = {"methods": {"GetMe": {"enabled": False}}}
    policy = snapshot({"cache": section})
    for _ in range(2):
        call = new_call("GetMe", policy=policy)
        await step.run(call, upstream)
        assert call.trailing == []
    assert upstream.calls == 2
    # Without a cache section the constructor's settings apply.
    await step.run(new_call("GetMe", policy=snapshot({})), upstream)
    await step.run(new_call("GetMe", policy=snapshot({})), upstream)
    assert upstream.calls == 3


def test_a_broken_policy_section_is_refused_when_the_policy_is_made() -> None:
    # Never parsed again per call with a fallback to defaults: the snapshot cannot be made.
    with pytest.raises(SectionError, match=r"cache\.methods\.Transfer"):
        snapshot({"cache": {"methods": {"Transfer": {"ttl": 5}}}})


async def test_flush(step: CacheStep) -> None:
    upstream = Upstream(ok(rates("5")), ok(pb.GetMeResponse()), ok(rates("6")))
    await step.run(new_call(), upstream)
    await step.run(new_call("GetMe"), upstream)
    assert await step.flush("GetExchangeRates") == 1
    assert (await step.run(new_call(), upstream)).response == rates("6")
    assert await step.flush() == 2
