"""Where the sidecar keeps its state: memory or Redis, decided once for every capability.

With a Redis URL every store that shares state across replicas (spend counters, retry budget,
idempotency records, trace links, the cache, rate limits) is a Redis store on one shared client;
without one, every store is an in-memory twin. The app scope names whose state it is, so apps
sharing a Redis never share counters (`AppScope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from sidecar import logs, redis_connection
from sidecar.secrets import Secret

if TYPE_CHECKING:
    from sidecar.cache.config import CacheConfig
    from sidecar.cache.step import CacheStep
    from sidecar.idempotency.store import IdempotencyStore
    from sidecar.ratelimit.limiter import RateLimiter
    from sidecar.redis_connection import Redis
    from sidecar.retry.budget import RetryBudget
    from sidecar.spend.store import SpendStore
    from sidecar.store_base import Store
    from sidecar.telemetry.links import TraceContextStore

S = TypeVar("S", bound="Store")


@dataclass(frozen=True, slots=True)
class AppScope:
    """One Crypto Pay app on one upstream: whose state a store keeps."""

    token: Secret
    upstream_url: str

    @property
    def app_id(self) -> str:
        """The token's numeric prefix (not secret), or "app"."""
        return self.token.reveal().partition(":")[0] or "app"

    @property
    def fingerprint(self) -> str:
        return self.token.fingerprint()

    @property
    def name(self) -> str:
        """The app at its upstream, as `<app id>@<host:port>` (mainnet and testnet differ); not
        secret, and the same after the token is rotated."""
        return f"{self.app_id}@{urlsplit(self.upstream_url).netloc or self.upstream_url}"


class Stores:
    """The one place that chooses memory or Redis; closes the stores it made and the shared
    client it opened. The cache step and the limiter close their own stores, after stopping
    the background work that uses them."""

    def __init__(self, redis_url: Secret | None, scope: AppScope) -> None:
        self.scope = scope
        self.url = redis_url
        self.redis: Redis | None = None
        self._made: list[Store] = []
        if redis_url is not None:
            logs.redact(redis_url.reveal())
            logs.redact(urlsplit(redis_url.reveal()).password or "")
            # One client (one connection pool) for every store that keeps state in Redis.
            self.redis = redis_connection.connect(redis_url)

    @property
    def shared(self) -> bool:
        return self.redis is not None

    def describe(self) -> str:
        if self.url is None:
            return "none (in-memory stores)"
        return redis_connection.describe(self.url)

    def _keep(self, store: S) -> S:
        self._made.append(store)
        return store

    def spend(self) -> SpendStore:
        if self.redis is None:
            from sidecar.spend.memory import MemorySpendStore

            return self._keep(MemorySpendStore())
        from sidecar.spend.redis import RedisSpendStore

        return self._keep(RedisSpendStore(self.redis))

    def retry_budget(self) -> RetryBudget:
        from sidecar.retry.budget import MemoryRetryBudget, RedisRetryBudget

        if self.redis is None:
            return self._keep(MemoryRetryBudget())
        # Replicas of one app share one budget.
        return self._keep(RedisRetryBudget(self.redis, self.scope.fingerprint))

    def idempotency(self) -> IdempotencyStore:
        if self.redis is None:
            from sidecar.idempotency.memory import MemoryIdempotencyStore

            return self._keep(MemoryIdempotencyStore())
        from sidecar.idempotency.redis import RedisIdempotencyStore

        return self._keep(RedisIdempotencyStore(self.redis, self.scope.name))

    def trace_links(self) -> TraceContextStore:
        """Where CreateInvoice leaves its trace context for the webhook's span link: in Redis
        when configured, so the replica that receives the webhook finds it."""
        from sidecar.telemetry import links

        if self.redis is None:
            return self._keep(links.MemoryTraceContextStore())
        return self._keep(links.RedisTraceContextStore(self.redis))

    def cache(self, config: CacheConfig | None) -> CacheStep:
        from sidecar import cache

        return cache.build(
            self.scope.token, self.scope.upstream_url, config=config, redis=self.redis
        )

    def limiter(self) -> RateLimiter:
        from sidecar.ratelimit.assembly import build_limiter

        return build_limiter(scope=self.scope.name, redis=self.redis)

    async def close(self) -> None:
        """Closes the stores it made, newest first, then the client they share."""
        while self._made:
            await self._made.pop().close()
        if self.redis is not None:
            await self.redis.aclose()
