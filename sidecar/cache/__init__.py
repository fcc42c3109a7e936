"""A shared cache of reference data (exchange rates, currencies, app info): see docs/cache.md.

config.py     the `cache` policy section (pure parser, defaults, JSON Schema)
freshness.py  when a cached answer may be served (pure)
store.py      the store interface; memory.py and redis.py implement it
step.py       the request-path step
admin.py      the flush endpoint and command
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sidecar.cache.config import CacheConfig
    from sidecar.cache.step import CacheStep
    from sidecar.redis_connection import Redis
    from sidecar.secrets import Secret


def build(
    token: Secret,
    upstream_url: str,
    redis_url: Secret | None = None,
    config: CacheConfig | None = None,
    redis: Redis | None = None,
) -> CacheStep:
    """The cache step: shared through Redis when a client or URL is given, else in this
    process. A given client stays open when the step closes (its owner closes it)."""
    from sidecar.cache.metrics import Exported
    from sidecar.cache.step import CacheStep
    from sidecar.cache.store import CacheStore, scope_of

    store: CacheStore
    if redis is not None:
        from sidecar.cache.redis import RedisStore

        store = RedisStore(redis, owns_client=False)
    elif redis_url:
        from sidecar.cache.redis import RedisStore
        from sidecar.redis_connection import connect

        store = RedisStore(connect(redis_url))
    else:
        from sidecar.cache.memory import MemoryStore

        store = MemoryStore()
    return CacheStep(store, config, scope=scope_of(token, upstream_url), metrics=Exported())
