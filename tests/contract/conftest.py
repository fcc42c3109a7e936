"""Each store has an in-memory and a Redis implementation; both run the same contract tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from sidecar.redis_connection import Redis, connect
from sidecar.secrets import Secret
from tests.conftest import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Redis | None]:
    """None for the in-memory implementation, a client of a private redis-server otherwise."""
    if request.param == "memory":
        yield None
        return
    client = _client(request.getfixturevalue("redis_server"))
    yield client
    await client.aclose()


@pytest.fixture
def backend_url(backend: Redis | None, request: pytest.FixtureRequest) -> Secret | None:
    """The URL of `backend`'s redis-server (None in memory), for a store that opens clients of
    its own."""
    if backend is None:
        return None
    server: RedisServer = request.getfixturevalue("redis_server")
    return Secret(server.url)


class StoreTime:
    """The clock given to a memory twin (`clock=store_time`), and time passing for either
    twin: a memory twin's clock jumps at once, Redis' own clock (TIME) has to be waited for."""

    def __init__(self, *, real: bool) -> None:
        self._real = real
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        if self._real:
            await asyncio.sleep(seconds)


@pytest.fixture
def store_time(backend: Redis | None) -> StoreTime:
    return StoreTime(real=backend is not None)


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client of a private redis-server, for behaviour only a shared store has."""
    client = _client(redis_server)
    yield client
    await client.aclose()


def _client(server: RedisServer) -> Redis:
    # Generous timeouts: the suite shares 2 cores with other work, and the contract is about
    # semantics, not the production fail-fast timeouts.
    return connect(Secret(server.url), socket_timeout=10, socket_connect_timeout=10)
