"""Connecting to Redis from one URL: plain, TLS, Sentinel or Cluster.

    redis://[:password@]host:6379/0          plain
    rediss://host:6380/0                     TLS
    redis+sentinel://host1:26379,host2:26379/mymaster[/db]   Sentinel (master discovery)
    redis+cluster://host1:7000,host2:7001    Cluster

Every script in the sidecar passes its keys through KEYS[] and puts a hash tag ({...}) in them,
so each script's keys share one slot and run unchanged on Cluster.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from sidecar import secrets
from sidecar.secrets import Secret
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import tracing

Redis = redis.Redis | RedisCluster

# Fail fast: a request must never wait long on Redis; callers fall back or refuse instead.
SOCKET_TIMEOUT = 0.5
CONNECT_TIMEOUT = 0.5
# Connections per client. Beyond them a command waits up to POOL_TIMEOUT for one to free up:
# a plain pool would fail it at once, turning a burst into errors while Redis is idle.
MAX_CONNECTIONS = 100
POOL_TIMEOUT = 0.5
# What an unreachable or too slow Redis looks like to the client. Error replies are RedisErrors
# too: a store that expects one (NOGROUP, BUSYGROUP) catches it first.
UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class _TranslateErrors:
    # A plain context manager, one shared instance (it keeps no state): it wraps every Redis
    # operation on the request path, where @contextmanager's generator costs ~2 us more each.
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        _traceback: TracebackType | None,
    ) -> Literal[False]:
        if kind is not None and issubclass(kind, UNAVAILABLE):
            raise StoreUnavailable(f"redis: {kind.__name__}") from exc
        return False


_TRANSLATE_ERRORS = _TranslateErrors()


def translate_errors() -> _TranslateErrors:
    """Around a Redis store's operation: the client's errors become StoreUnavailable, named by
    type only (redis-py's messages name hosts and ports, and a reply may echo a command's
    arguments)."""
    return _TRANSLATE_ERRORS


def reconnect_once() -> Retry:
    """Each command is sent again once, on a fresh connection, when its connection turns out to
    be dead (a restarted or failed-over Redis leaves every pooled connection dead: without this,
    each would fail one caller after Redis is back).

    Only connection errors: a timeout means Redis may still be running the command, and the
    sidecar fails fast instead. A connection error after Redis ran a command (rare: the server
    closing a connection it answered on) replays it, so every script is written to be replayed
    by the same caller harmlessly (the idempotency and spend scripts recognise their own owner;
    the limiter only ever errs towards admitting less).
    """
    return Retry(
        ExponentialWithJitterBackoff(base=0.01, cap=0.05),
        retries=1,
        supported_errors=(RedisConnectionError,),
    )


def _hosts(netloc: str, default_port: int) -> list[tuple[str, int]]:
    hosts = []
    for part in netloc.rpartition("@")[2].split(","):
        host, _, port = part.partition(":")
        hosts.append((host, int(port or default_port)))
    return hosts


def connect(url: Secret, *, traced: bool = True, **options: Any) -> Redis:
    """A client for the URL; nothing is sent until the first command.

    When spans are exported, every command gets a client span (arguments are never
    recorded); `traced=False` for a client that only serves background loops, such as
    blocking stream reads.
    """
    client = _connect(url, **options)
    if traced and tracing.exporting():
        tracing.instrument_redis(client)
    return client


def _connect(url: Secret, **options: Any) -> Redis:
    raw = url.reveal()
    parts = urlsplit(raw)
    for password in (parts.password, *parse_qs(parts.query).get("sentinel_password", [])):
        if password:
            secrets.register(password)
    common: dict[str, Any] = {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "health_check_interval": 10,
        **options,
    }
    if parts.scheme == "redis+sentinel":
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError(
                "a redis+sentinel URL names the master: redis+sentinel://h:26379/mymaster"
            )
        query = parse_qs(parts.query)
        sentinel = Sentinel(
            _hosts(parts.netloc, 26379),
            sentinel_kwargs={"password": query.get("sentinel_password", [None])[0]},
            **{"retry": reconnect_once(), **common},
        )
        master: redis.Redis = sentinel.master_for(
            path[0], db=int(path[1]) if len(path) > 1 else 0, password=parts.password
        )
        return master
    if parts.scheme == "redis+cluster":
        # The cluster client has its own retries (topology refresh, MOVED, CLUSTERDOWN while
        # slots settle): its defaults stay.
        nodes = [ClusterNode(h, p) for h, p in _hosts(parts.netloc, 6379)]
        return RedisCluster(startup_nodes=nodes, password=parts.password, **common)
    if parts.scheme in ("redis", "rediss", "unix"):
        pool = redis.BlockingConnectionPool.from_url(
            raw,
            max_connections=common.pop("max_connections", MAX_CONNECTIONS),
            timeout=POOL_TIMEOUT,
            **{"retry": reconnect_once(), **common},
        )
        return redis.Redis.from_pool(pool)  # closing the client closes its pool
    raise ValueError(
        "the Redis URL must start with redis://, rediss://, redis+sentinel:// or redis+cluster://"
    )


def describe(url: Secret) -> str:
    """The URL without credentials, for logs."""
    parts = urlsplit(url.reveal())
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"
