"""A Redis restart costs callers nothing once Redis answers again.

A restart leaves every pooled connection dead. Each Redis user's first calls after the restart,
several at once so that several dead connections are met, must succeed: the shared client sends
a command again once on a fresh connection (redis_connection.reconnect_once), and the scripts
are written to be replayed by their own caller harmlessly (the contract tests pin that).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest

from sidecar.cache.redis import RedisStore
from sidecar.idempotency.redis import RedisIdempotencyStore
from sidecar.idempotency.store import ClaimState
from sidecar.redis_connection import Redis, connect
from sidecar.secrets import Secret
from sidecar.spend.redis import RedisSpendStore
from sidecar.spend.store import Bucket, Status
from sidecar.telemetry.links import RedisTraceContextStore
from tests.conftest import RedisServer

CONCURRENT = 8  # more than one pooled connection per user


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    # The production timeouts (0.5 s): the retry must work within them.
    client = connect(Secret(redis_server.url))
    yield client
    await client.aclose()


async def _each(make: Callable[[int], Awaitable[object]]) -> list[object]:
    return list(await asyncio.gather(*(make(i) for i in range(CONCURRENT))))


async def test_every_redis_user_succeeds_right_after_a_restart(
    client: Redis, redis_server: RedisServer
) -> None:
    idempotency = RedisIdempotencyStore(client, "1@api.example")
    spend = RedisSpendStore(client)
    cache = RedisStore(client, owns_client=False)
    links = RedisTraceContextStore(client)
    bucket = Bucket(f"app:caller:USDT:{uuid.uuid4().hex}", 86_400_000, 90_000_000)

    async def round_of_calls(tag: str) -> None:
        claims = await _each(
            lambda i: idempotency.claim(f"{tag}-{i}", "fp", f"owner{tag}{i}", 60, 600)
        )
        assert all(c.state is ClaimState.CLAIMED for c in claims)  # type: ignore[attr-defined]
        reserved = await _each(
            lambda i: spend.reserve(
                bucket, f"{tag}{i}", Decimal("1"), Decimal("1000"), force=False, owner=f"o{tag}{i}"
            )
        )
        assert all(r.status is Status.RESERVED for r in reserved)  # type: ignore[attr-defined]
        await _each(lambda i: cache.get(f"cache:{tag}:{i}"))
        await _each(lambda i: links.put(i + 1, f"00-{uuid.uuid4().hex}-{'1' * 16}-01"))

    await round_of_calls("before")
    redis_server.stop()
    redis_server.start()  # answers PING when it returns: the pool's connections are all dead
    await round_of_calls("after")
    # Each reservation counted once, including any replayed by the retry.
    assert await spend.total(bucket) == Decimal(CONCURRENT)
