"""How many sidecars share the Crypto Pay app right now: each registers in Redis with a
heartbeat, and the live count sets each replica's share of every rate during a Redis outage.

One sorted set per scope holds replica id -> when its registration lapses (server clock, ms).
A replica renews its entry every `interval` seconds for `ttl` seconds; one script renews, drops
lapsed entries and counts, so a replica that dies (SIGKILL, a lost node) stops counting one TTL
after its last heartbeat. Without an answer from Redis the last count stands: that is the
moment the count matters (the limiter falls back to local shares only while Redis is down).
A policy's `rate_limits.replicas` overrides the live count.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from typing import Any

from sidecar.redis_connection import UNAVAILABLE, Redis
from sidecar.tasks import stop_task
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

PREFIX = "cryptopay:replicas"
# A heartbeat every 5 s, lapsing after 15 s: two heartbeats may be lost (a slow Redis, a long
# GC pause) before a live replica stops counting; a dead one stops counting within 15 s.
INTERVAL = 5.0
TTL = 15.0

HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
"""


def key(scope: str) -> str:
    return f"{PREFIX}:{{{scope}}}"


class ReplicaRegistry:
    def __init__(
        self,
        client: Redis,
        scope: str,
        *,
        interval: float = INTERVAL,
        ttl: float = TTL,
        replica_id: str | None = None,
    ) -> None:
        self._client = client
        self._key = key(scope)
        self._interval = interval
        self._ttl_ms = max(1, round(ttl * 1000))
        self.replica_id = replica_id or uuid.uuid4().hex
        self._script = client.register_script(HEARTBEAT)
        self._count = 1  # until the first heartbeat answers: this replica alone
        self._task: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        """Live replicas as last seen (at least this one)."""
        return self._count

    async def beat(self) -> int:
        """Renews this replica's registration and returns the live count (the last known one
        when Redis does not answer)."""
        try:
            with tracing.untraced():
                reply: Any = await self._script(
                    keys=[self._key], args=[self.replica_id, self._ttl_ms]
                )
        except UNAVAILABLE as exc:
            log.debug("replica heartbeat failed; keeping the last count", extra={"error": str(exc)})
            return self._count
        count = max(1, int(reply))
        if count != self._count:
            log.info("live replicas changed", extra={"replicas": count, "before": self._count})
        self._count = count
        metrics.live_replicas(count)
        return count

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), context=contextvars.Context()
            )

    async def _run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        """Stops the heartbeat and deregisters, so the others count one less at once."""
        await stop_task(self._task)
        self._task = None
        # On failure the entry lapses on its own.
        with contextlib.suppress(*UNAVAILABLE):
            await self._client.zrem(self._key, self.replica_id)
