"""The store factory: one decision, memory or Redis, for every capability."""

from __future__ import annotations

from decimal import Decimal

from sidecar.cache.redis import RedisStore
from sidecar.idempotency.memory import MemoryIdempotencyStore
from sidecar.idempotency.redis import RedisIdempotencyStore
from sidecar.retry.budget import MemoryRetryBudget, RedisRetryBudget
from sidecar.secrets import Secret
from sidecar.spend.memory import MemorySpendStore
from sidecar.spend.redis import RedisSpendStore
from sidecar.spend.store import Bucket
from sidecar.stores import AppScope, Stores
from sidecar.telemetry.links import MemoryTraceContextStore, RedisTraceContextStore
from tests.conftest import RedisServer

SCOPE = AppScope(Secret("1234:AAsecret"), "http://127.0.0.1:1")


def test_the_app_scope_is_the_token_prefix_never_the_secret() -> None:
    assert SCOPE.app_id == "1234"
    assert "AAsecret" not in SCOPE.fingerprint
    assert AppScope(Secret(":x"), "u").app_id == "app"


async def test_without_redis_every_store_is_in_memory() -> None:
    stores = Stores(None, SCOPE)
    assert not stores.shared and stores.describe() == "none (in-memory stores)"
    assert isinstance(stores.spend(), MemorySpendStore)
    assert isinstance(stores.retry_budget(), MemoryRetryBudget)
    assert isinstance(stores.idempotency(), MemoryIdempotencyStore)
    assert isinstance(stores.trace_links(), MemoryTraceContextStore)
    await stores.close()


async def test_with_redis_every_store_shares_one_client(redis_server: RedisServer) -> None:
    stores = Stores(Secret(redis_server.url), SCOPE)
    assert stores.shared and stores.redis is not None
    spend, idempotency = stores.spend(), stores.idempotency()
    assert isinstance(spend, RedisSpendStore) and isinstance(idempotency, RedisIdempotencyStore)
    assert isinstance(stores.retry_budget(), RedisRetryBudget)
    assert isinstance(stores.trace_links(), RedisTraceContextStore)
    cache = stores.cache(None)
    assert isinstance(cache.store, RedisStore) and cache.store._client is stores.redis
    assert await stores.redis.ping()
    await stores.close()


async def test_closing_closes_the_stores_it_made() -> None:
    stores = Stores(None, SCOPE)
    spend = stores.spend()
    bucket = Bucket("1234:c:USDT:rolling_24h", 86_400_000, 90_000_000)
    await spend.reserve(bucket, "r1", Decimal("5"), Decimal("10"), force=False)
    await stores.close()
    assert await spend.total(bucket) == 0  # the memory store forgot its counters on close
    await stores.close()  # closed once: closing again has nothing left to do


def test_the_limiter_and_the_idempotency_records_share_the_app_scope() -> None:
    scope = AppScope(Secret("1234:AAsecret"), "https://pay.crypt.bot/api")
    limiter = Stores(None, scope).limiter()
    assert scope.name == "1234@pay.crypt.bot"
    assert limiter._scope == scope.name
