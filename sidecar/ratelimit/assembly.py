"""Builds the rate-limit step for one sidecar process."""

from __future__ import annotations

from sidecar.ratelimit.backend import Backend
from sidecar.ratelimit.fallback import FallbackBackend
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.ratelimit.redis import RedisBackend
from sidecar.ratelimit.replicas import ReplicaRegistry
from sidecar.redis_connection import Redis


def build_limiter(*, scope: str, redis: Redis | None) -> RateLimiter:
    """The limits come from each call's policy snapshot (its `rate_limits` section), so a
    policy reload applies to the next call; the buckets live in Redis when there is one.
    `scope` is whose budget the buckets hold: the app at its upstream (`AppScope.name`)."""
    if redis is None:
        return RateLimiter(MemoryBackend(), scope=scope)
    backend: Backend = FallbackBackend(RedisBackend(redis))
    return RateLimiter(backend, scope=scope, registry=ReplicaRegistry(redis, scope))
