"""Shared buckets while Redis answers in time; the replica's share in memory while it does not.

A decision waits for Redis at most `Request.timeout` (the section's `redis_timeout`, never more
than the caller's deadline leaves). On a failure or timeout the replica degrades: it decides
locally, each bucket at `rate / replicas`, logs the transition once, and reports the dependency
`ratelimit` as failing but not required (the sidecar stays SERVING, marked degraded). It tries
Redis again once per `probe_interval`, from a call or, when none comes, from a background probe.
The first shared decision that succeeds ends the degradation (logged and reported once too).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable

from sidecar.ratelimit.backend import Backend, Decision, Pause, Request
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.store_base import StoreUnavailable
from sidecar.tasks import stop_task
from sidecar.telemetry import health, tracing

log = logging.getLogger(__name__)

# Redis unreachable (the shared backend says so), or too slow for the call's budget.
SHARED_FAILURES: tuple[type[BaseException], ...] = (StoreUnavailable, TimeoutError)
DEPENDENCY = "ratelimit"


class FallbackBackend:
    def __init__(
        self,
        shared: Backend,
        local: MemoryBackend | None = None,
        *,
        probe_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._local = local or MemoryBackend(local_share=True)
        self._probe_interval = probe_interval
        self._clock = clock
        self._degraded_since: float | None = None
        self._next_probe = 0.0
        self._reason = ""
        self._probe: asyncio.Task[None] | None = None
        self._probe_request: Request | None = None
        self._reported = False

    @property
    def degraded(self) -> bool:
        return self._degraded_since is not None

    async def decide(self, request: Request) -> Decision:
        if not self._try_shared(request.timeout):
            return await self._local.decide(request)
        try:
            async with asyncio.timeout(request.timeout):
                decision = await self._shared.decide(request)
        except SHARED_FAILURES as exc:
            self._degrade(exc, request)
            return await self._local.decide(request)
        self._recover()
        return decision

    async def cooldown(self, pause: Pause) -> float:
        left = await self._local.cooldown(pause)
        if not self._try_shared(pause.timeout):
            return left
        try:
            async with asyncio.timeout(pause.timeout):
                left = await self._shared.cooldown(pause)
        except SHARED_FAILURES as exc:
            self._degrade(exc, None)
            return left
        self._recover()
        return left

    async def close(self) -> None:
        await stop_task(self._probe)
        if self._reported:
            health.clear_dependency(DEPENDENCY)  # this replica's report ends with it
            self._reported = False
        await self._shared.close()

    def _try_shared(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        if self._degraded_since is None:
            return True
        now = self._clock()
        if now < self._next_probe:
            return False
        # One probe per interval; concurrent calls keep deciding locally meanwhile.
        self._next_probe = now + self._probe_interval
        return True

    def _degrade(self, exc: BaseException, request: Request | None) -> None:
        now = self._clock()
        self._next_probe = now + self._probe_interval
        if request is not None:
            self._probe_request = Request(request.scope, (), 0, 0.0, request.timeout)
        if self._degraded_since is not None:
            return
        self._degraded_since = now
        self._reason = _describe(exc)
        log.warning(
            "rate limits: Redis unreachable, deciding locally at this replica's share",
            extra={"event": "ratelimit_degraded", "error": self._reason},
        )
        self._reported = True
        health.set_dependency(
            DEPENDENCY,
            False,
            f"Redis unreachable ({self._reason}); each replica runs at its share of every rate",
            required=False,
        )
        if self._probe is None:
            # A context of its own: the probe is not part of the call that found Redis gone.
            self._probe = asyncio.get_running_loop().create_task(
                self._probe_until_back(), context=contextvars.Context()
            )

    def _recover(self) -> None:
        if self._degraded_since is None:
            return
        seconds = self._clock() - self._degraded_since
        self._degraded_since = None
        log.info(
            "rate limits: Redis is back, using the shared buckets again",
            extra={"event": "ratelimit_recovered", "degraded_seconds": round(seconds, 3)},
        )
        health.set_dependency(DEPENDENCY, True, "ok", required=False)

    async def _probe_until_back(self) -> None:
        """Without calls nothing would notice that Redis is back: ask it once per interval.
        The probe is a free decision (no bucket, cost 0): it only reads the pause."""
        try:
            while self._degraded_since is not None:
                await asyncio.sleep(self._probe_interval)
                probe = self._probe_request or Request("probe", (), 0, 0.0, 0.5)
                if not self._try_shared(probe.timeout):
                    continue  # a call probed a moment ago
                try:
                    # Background work belongs to no caller's trace.
                    with tracing.untraced():
                        async with asyncio.timeout(probe.timeout):
                            await self._shared.decide(probe)
                except SHARED_FAILURES as exc:
                    self._degrade(exc, None)
                    continue
                self._recover()
        finally:
            self._probe = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StoreUnavailable) and exc.__cause__ is not None:
        exc = exc.__cause__  # the client's own error: which Redis did not answer, and how
    if isinstance(exc, TimeoutError) and not str(exc):
        return "no answer within redis_timeout"
    # Redis client messages name host and port, never credentials.
    return f"{type(exc).__name__}: {exc}"[:200]
