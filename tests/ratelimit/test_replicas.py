"""The live replica count: registered by heartbeat in a real Redis, the last count kept while
Redis is down, and the policy's `replicas` as an override of the share."""

from __future__ import annotations

import asyncio

from sidecar.ratelimit.config import parse_rate_limits
from sidecar.ratelimit.gcra import Limit
from sidecar.ratelimit.plan import plan_call, replica_count
from sidecar.ratelimit.replicas import ReplicaRegistry
from sidecar.redis_connection import connect
from sidecar.secrets import Secret
from tests.conftest import RedisServer

SECTION = {"app": {"rate": "40/s", "burst": 12}}


def test_the_live_count_sets_the_share_unless_the_policy_names_one() -> None:
    live = parse_rate_limits(SECTION)
    fixed = parse_rate_limits({**SECTION, "replicas": 2})
    assert replica_count(live, 4) == 4 and replica_count(live, None) == 1
    assert replica_count(fixed, 4) == 2
    # 40/s shared by 4: 40 per 4 s each, a quarter of the burst.
    assert plan_call(live, "GetMe", "", 4).buckets[0].local == Limit.per(40, 4.0, 3)
    assert plan_call(fixed, "GetMe", "", 4).buckets[0].local == Limit.per(40, 2.0, 6)


async def test_heartbeats_count_live_replicas_and_keep_the_last_count(
    redis_server: RedisServer,
) -> None:
    client = connect(Secret(redis_server.url))
    a = ReplicaRegistry(client, "app@test", ttl=0.5)
    b = ReplicaRegistry(client, "app@test", ttl=0.5)
    other = ReplicaRegistry(client, "other@test", ttl=0.5)
    try:
        assert await a.beat() == 1
        assert await b.beat() == 2 and await other.beat() == 1
        await b.close()  # deregisters
        assert await a.beat() == 1
        await b.beat()
        assert await a.beat() == 2
        # b stops beating (a SIGKILL): its registration lapses once the ttl has passed. The
        # lapse is what is tested, so this waits out the ttl itself.
        await asyncio.sleep(0.6)
        assert await a.beat() == 1
        await b.beat()
        assert await a.beat() == 2
        redis_server.stop()
        assert await a.beat() == 2 and a.count == 2  # Redis down: the last count stands
        redis_server.start()
        assert await a.beat() == 1  # b's registration did not survive (nor would it lapse-free)
    finally:
        await client.aclose()
