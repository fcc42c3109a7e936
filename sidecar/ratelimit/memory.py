"""The in-process backend: the same GCRA as the Redis script, on this process's monotonic clock.

Serves a single replica (and `--demo`), and the fallback while Redis is unreachable, where each
bucket runs at the replica's share of the rate (`local_share=True`).
"""

from __future__ import annotations

import time

from sidecar.ratelimit import gcra
from sidecar.ratelimit.backend import BucketStatus, Decision, Pause, Request, limited_by_name
from sidecar.ratelimit.plan import Bucket
from sidecar.store_base import Clock

# Forget idle buckets (already full again) once this many are stored.
_PRUNE_ABOVE = 10_000


class MemoryBackend:
    def __init__(self, *, local_share: bool = False, clock: Clock = time.monotonic) -> None:
        self._local_share = local_share
        self._clock = clock
        # (scope, bucket key) -> (TAT, the emission interval it was computed with)
        self._tats: dict[tuple[str, str], tuple[int, float]] = {}
        self._cooldowns: dict[str, int] = {}

    def _now_us(self) -> int:
        return int(self._clock() * gcra.MICROS)

    def _limit(self, bucket: Bucket) -> gcra.Limit:
        return bucket.local if self._local_share else bucket.limit

    async def decide(self, request: Request) -> Decision:
        now = self._now_us()
        keys = [(request.scope, b.key) for b in request.buckets]
        limits = [self._limit(b) for b in request.buckets]
        tats = [self._tat(k, limit, now) for k, limit in zip(keys, limits, strict=True)]
        verdict = gcra.decide(
            now,
            self._cooldowns.get(request.scope),
            tats,
            limits,
            request.cost,
            int(request.max_wait * gcra.MICROS),
        )
        if verdict.allowed:
            for key, tat, limit in zip(keys, verdict.tats, limits, strict=True):
                if tat is not None:
                    self._tats[key] = (tat, limit.emission_us)
            self._prune(now)
        statuses = tuple(
            BucketStatus(
                bucket,
                gcra.remaining(now, tat, limit),
                gcra.reset_after(now, tat) / gcra.MICROS,
            )
            for bucket, tat, limit in zip(request.buckets, verdict.tats, limits, strict=True)
        )
        delay = verdict.delay_us / gcra.MICROS
        return Decision(
            allowed=verdict.allowed,
            wait=delay if verdict.allowed else 0.0,
            retry_after=0.0 if verdict.allowed else delay,
            limited_by=limited_by_name(verdict.limited_by, request.buckets),
            statuses=statuses,
            shared=not self._local_share,
        )

    async def cooldown(self, pause: Pause) -> float:
        now, scope, app = self._now_us(), pause.scope, pause.app
        until = now + int(pause.seconds * gcra.MICROS)
        current = self._cooldowns.get(scope)
        if current is not None and current >= until:
            return (current - now) / gcra.MICROS
        self._cooldowns[scope] = until
        if app is not None:
            key, limit = (scope, app.key), self._limit(app)
            drained = gcra.drained(until, self._tat(key, limit, now), limit)
            if drained is not None:
                self._tats[key] = (drained, limit.emission_us)
        return pause.seconds

    async def close(self) -> None:
        return None

    def _tat(self, key: tuple[str, str], limit: gcra.Limit, now: int) -> int | None:
        stored = self._tats.get(key)
        if stored is None:
            return None
        tat = gcra.rescale(now, stored[0], stored[1], limit)
        if tat is not None and stored[1] != limit.emission_us:
            # Kept at the new rate, so the debt is paid back at that rate from now on.
            self._tats[key] = (tat, limit.emission_us)
        return tat

    def _prune(self, now: int) -> None:
        if len(self._tats) > _PRUNE_ABOVE:
            self._tats = {k: t for k, t in self._tats.items() if t[0] > now}
        if self._cooldowns and len(self._cooldowns) > _PRUNE_ABOVE:
            self._cooldowns = {k: t for k, t in self._cooldowns.items() if t > now}
