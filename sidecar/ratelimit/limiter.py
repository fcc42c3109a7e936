"""The rate-limit step: before every upstream attempt (retries included), and after it.

`acquire` asks the backend for a slot for all the call's buckets at once. When they are empty
the call either waits for its reserved slot (first come, first served across every replica;
never past its deadline or `max_wait`; at most `max_queue` waiting in this sidecar), or is
refused at once with RESOURCE_EXHAUSTED and a google.rpc.RetryInfo. Either way the trailing
metadata carries the remaining budget (`sidecar.ratelimit.metadata`).

`observe` turns an upstream 429 into a pause shared by every replica (the Retry-After, or the
section's `cooldown` when there is none), recorded before the caller sees the 429.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

from sidecar.config_section import SectionSetting
from sidecar.errors import RpcError, refusal
from sidecar.outcome import Outcome
from sidecar.pipeline import Call, Next
from sidecar.ratelimit import metadata
from sidecar.ratelimit.backend import COOLDOWN, Backend, Decision, Pause, Request
from sidecar.ratelimit.config import (
    SECTION,
    RateLimitConfig,
    WhenEmpty,
)
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.ratelimit.plan import Plan, plan_call
from sidecar.ratelimit.replicas import ReplicaRegistry
from sidecar.telemetry import metrics, tracing
from sidecar.telemetry.metrics import RateLimitResult

log = logging.getLogger(__name__)

REASON_LIMITED = "RATE_LIMITED"
REASON_COOLDOWN = "UPSTREAM_COOLDOWN"
REASON_QUEUE_FULL = "RATE_LIMIT_QUEUE_FULL"


class RateLimiter:
    def __init__(
        self,
        backend: Backend,
        *,
        scope: str,
        config: RateLimitConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        registry: ReplicaRegistry | None = None,
    ) -> None:
        """`config` applies to calls whose policy snapshot has no `rate_limits` section; a
        snapshot's section wins (so a policy reload takes effect on the next call)."""
        self._backend = backend
        self._scope = scope
        self._static = config
        self._registry = registry  # the live replica count, when replicas share Redis
        self._clock = clock
        self._sections: SectionSetting[RateLimitConfig | None] = SectionSetting(SECTION, config)
        self._waiting = 0
        self._paused_until = 0.0

    @property
    def live_replicas(self) -> int | None:
        """Replicas registered in Redis as last seen; None without a registry."""
        return None if self._registry is None else self._registry.count

    @property
    def waiting(self) -> int:
        """Calls of this sidecar that may wait (asking for a slot, or waiting for it) now."""
        return self._waiting

    def describe(self, policy: Any = None) -> str:
        """For the start-up log: which buckets `policy` sets, and where they live."""
        config = self._sections.get(policy)
        if config is None:
            return "off"
        where = "in memory" if isinstance(self._backend, MemoryBackend) else "shared through Redis"
        buckets = ["app"] if config.app else []
        buckets += [f"caller:{name}" for name in config.callers]
        buckets += [f"rpc:{name}" for name in config.rpcs]
        return f"{', '.join(buckets) or 'upstream pause only'}; {where}"

    def config_for(self, call: Call) -> RateLimitConfig | None:
        """The call's policy snapshot's section (parsed when it was loaded), else `config`."""
        return self._sections.get(call.policy)

    async def run(self, call: Call, next: Next) -> Outcome:
        """Wraps one upstream request (`next`): a slot first, then learns from the answer."""
        config = self.config_for(call)
        if config is None:
            return await next(call)  # no rate limits in this policy: no span, no work
        with tracing.span("ratelimit"):
            await self._admit(call, config)
        outcome = await next(call)
        await self._observe(call, config, outcome)
        return outcome

    async def acquire(self, call: Call) -> None:
        """Waits for (or refuses with RpcError) the permission to send one upstream request."""
        config = self.config_for(call)
        if config is not None:
            await self._admit(call, config)

    async def _admit(self, call: Call, config: RateLimitConfig) -> None:
        plan = plan_call(config, call.spec.rpc, call.caller, self.live_replicas)
        left = call.remaining()
        budget = config.max_wait if plan.when_empty is WhenEmpty.WAIT else 0.0
        if left is not None:
            budget = max(0.0, min(budget, left))
        queue_full = self._waiting >= config.max_queue
        if queue_full:
            budget = 0.0  # only a free slot now will do
        # A call that may wait holds its place in the queue from before it asks for a slot, so
        # a crowd arriving at once cannot overrun max_queue while its decisions are in flight.
        queued = budget > 0
        self._waiting += queued
        try:
            await self._acquire(call, config, plan, budget, left, queue_full)
        finally:
            self._waiting -= queued

    async def _acquire(
        self,
        call: Call,
        config: RateLimitConfig,
        plan: Plan,
        budget: float,
        left: float | None,
        queue_full: bool,
    ) -> None:
        waited = 0.0
        pause = self._paused_until - self._clock()
        if pause > 0:
            # This sidecar saw the 429; the shared record may still be on its way to Redis.
            if pause > budget:
                _report(COOLDOWN, "refused")
                raise self._cooldown_refusal(call, plan, pause, left)
            await asyncio.sleep(pause)
            waited, budget = pause, budget - pause
            left = call.remaining()
        timeout = config.redis_timeout if left is None else min(config.redis_timeout, left)
        decision = await self._backend.decide(
            Request(self._scope, plan.buckets, plan.cost, budget, timeout)
        )
        call.trailing[:] = [
            *(item for item in call.trailing if item[0] not in metadata.KEYS),
            *metadata.trailing(decision.statuses),
        ]
        bucket = _label(decision, waited)
        if not decision.allowed:
            _report(bucket, "refused")
            if decision.limited_by == COOLDOWN:
                raise self._cooldown_refusal(call, plan, decision.retry_after, left)
            raise self._refusal(call, plan, config, decision, queue_full, left)
        if decision.wait > 0:
            await asyncio.sleep(decision.wait)
            waited += decision.wait
        _report(bucket, "waited" if waited > 0 else "admitted", waited)

    async def observe(self, call: Call, outcome: Outcome) -> None:
        """Learns from an upstream answer (a 429 cooldown) before anyone else sees it, so a
        pause is shared before the caller can react to the 429."""
        config = self.config_for(call)
        if config is not None:
            await self._observe(call, config, outcome)

    async def _observe(self, call: Call, config: RateLimitConfig, outcome: Outcome) -> None:
        if outcome.http_status != 429:
            return
        seconds = config.cooldown if outcome.retry_after is None else outcome.retry_after
        seconds = min(seconds, config.max_cooldown)
        if seconds <= 0:
            return
        now = self._clock()
        if self._paused_until <= now:
            log.warning(
                "upstream rate limit (429): pausing calls on every replica",
                extra={
                    "event": "ratelimit_cooldown",
                    "rpc": call.spec.rpc,
                    "pause_seconds": round(seconds, 3),
                    "retry_after_sent": outcome.retry_after is not None,
                },
            )
        self._paused_until = max(self._paused_until, now + seconds)
        plan = plan_call(config, call.spec.rpc, call.caller, self.live_replicas)
        app = next((b for b in plan.buckets if b.name == "app"), None)
        try:
            await self._backend.cooldown(Pause(self._scope, seconds, app, config.redis_timeout))
        except Exception:
            # The local pause above still holds this replica; the others learn on their own.
            log.exception("rate limits: could not record the upstream cooldown")

    def start(self) -> None:
        """Starts the replica heartbeat (when replicas share Redis)."""
        if self._registry is not None:
            self._registry.start()

    async def close(self) -> None:
        if self._registry is not None:
            await self._registry.close()
        await self._backend.close()

    def _cooldown_refusal(
        self, call: Call, plan: Plan, retry_after: float, left: float | None
    ) -> RpcError:
        why = _why_not_wait(plan, left, retry_after)
        return refusal(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            REASON_COOLDOWN,
            f"{call.spec.rpc}: Crypto Pay answered 429 Too Many Requests, so every replica "
            f"pauses its calls for {retry_after:.2f} s more{why}; retry after that",
            retry_after=retry_after,
            metadata={"rpc": call.spec.rpc, "caller": call.caller},
        )

    def _refusal(
        self,
        call: Call,
        plan: Plan,
        config: RateLimitConfig,
        decision: Decision,
        queue_full: bool,
        left: float | None,
    ) -> RpcError:
        bucket = next((b for b in plan.buckets if b.name == decision.limited_by), None)
        shape = f" ({bucket.config.describe()})" if bucket else ""
        name = decision.limited_by or "?"
        details = {"rpc": call.spec.rpc, "caller": call.caller, "bucket": name}
        if bucket:
            details |= {"limit": bucket.config.rate.text, "burst": str(bucket.config.burst)}
        if not decision.shared:
            details["scope"] = "replica"  # decided by the local fallback
        if queue_full:
            return refusal(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                REASON_QUEUE_FULL,
                f"{call.spec.rpc}: rate limit '{name}'{shape} is exhausted and "
                f"{config.max_queue} calls already wait in this sidecar (max_queue); "
                f"retry in {decision.retry_after:.2f} s",
                retry_after=decision.retry_after,
                metadata=details,
            )
        return refusal(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            REASON_LIMITED,
            f"{call.spec.rpc}: rate limit '{name}'{shape} is exhausted"
            f"{_why_not_wait(plan, left, decision.retry_after, config.max_wait)}; "
            f"retry in {decision.retry_after:.2f} s",
            retry_after=decision.retry_after,
            metadata=details,
        )


def _why_not_wait(
    plan: Plan, left: float | None, delay: float, max_wait: float | None = None
) -> str:
    if plan.when_empty is WhenEmpty.REFUSE:
        return ""
    if left is not None and (max_wait is None or left < max_wait) and delay > left:
        return f" and waiting would pass the call's deadline ({max(left, 0):.2f} s left)"
    if max_wait is not None and delay > max_wait:
        return f" and the next slot is further away than max_wait ({max_wait:g} s)"
    return ""


def _label(decision: Decision, waited: float) -> str:
    """The bucket a decision is reported under: the one that made the call wait or refused
    it, else the tightest one (closest to limiting), else none."""
    if decision.limited_by is not None:
        return decision.limited_by
    if waited > 0:
        return COOLDOWN
    if decision.statuses:
        return min(decision.statuses, key=lambda s: s.remaining).bucket.name
    return "none"


def _report(bucket: str, result: RateLimitResult, waited: float = 0.0) -> None:
    tracing.annotate({tracing.RATELIMIT_BUCKET: bucket, tracing.RATELIMIT_RESULT: result})
    metrics.ratelimit(bucket, result, waited)
