"""Each store has an in-memory and a Redis implementation; both run the same contract tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sidecar.redis_connection import Redis, connect
from sidecar.secrets import Secret


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Redis | None]:
    """None for the in-memory implementation, a client of a private redis-server otherwise."""
    if request.param == "memory":
        yield None
        return
    server = request.getfixturevalue("redis_server")
    # Generous timeouts: the suite shares 2 cores with other work, and the contract is about
    # semantics, not the production fail-fast timeouts.
    client = connect(Secret(server.url), socket_timeout=10, socket_connect_timeout=10)
    yield client
    await client.aclose()
