"""A shared cache of reference data (exchange rates, currencies, app info): see docs/cache.md."""

from __future__ import annotations

from sidecar.cache.config import CACHEABLE, SCHEMA, CacheConfig, MethodRule, parse_cache_config
from sidecar.cache.step import CacheStep
from sidecar.cache.store import CacheStore, scope_of
from sidecar.secrets import Secret

__all__ = [
    "CACHEABLE",
    "SCHEMA",
    "CacheConfig",
    "CacheStep",
    "CacheStore",
    "MethodRule",
    "build",
    "parse_cache_config",
]


def build(
    token: Secret,
    upstream_url: str,
    redis_url: Secret | None = None,
    config: CacheConfig | None = None,
) -> CacheStep:
    """The cache step: shared through Redis when a URL is given, else in this process."""
    store: CacheStore
    if redis_url:
        from sidecar.cache.redis import RedisStore
        from sidecar.redis_connection import connect

        store = RedisStore(connect(redis_url))
    else:
        from sidecar.cache.memory import MemoryStore

        store = MemoryStore()
    return CacheStep(store, config, scope=scope_of(token, upstream_url))
