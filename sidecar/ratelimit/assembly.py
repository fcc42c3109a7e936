"""Builds the rate-limit step for one sidecar process."""

from __future__ import annotations

from urllib.parse import urlsplit

from sidecar.ratelimit.backend import Backend
from sidecar.ratelimit.fallback import FallbackBackend
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.ratelimit.redis import RedisBackend
from sidecar.ratelimit.replicas import ReplicaRegistry
from sidecar.redis_connection import Redis
from sidecar.secrets import Secret


def scope_for(token: Secret, upstream_url: str) -> str:
    """Whose budget the buckets hold: the Crypto Pay app (the token's public numeric prefix,
    so a rotated token keeps the same budget) at one upstream (mainnet and testnet differ)."""
    app_id = token.reveal().partition(":")[0] or "app"
    return f"{app_id}@{urlsplit(upstream_url).netloc or upstream_url}"


def build_limiter(*, token: Secret, upstream_url: str, redis: Redis | None) -> RateLimiter:
    """The limits come from each call's policy snapshot (its `rate_limits` section), so a
    policy reload applies to the next call; the buckets live in Redis when there is one."""
    scope = scope_for(token, upstream_url)
    if redis is None:
        return RateLimiter(MemoryBackend(), scope=scope)
    backend: Backend = FallbackBackend(RedisBackend(redis))
    return RateLimiter(backend, scope=scope, registry=ReplicaRegistry(redis, scope))
