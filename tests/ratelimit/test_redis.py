"""What only the Redis backend promises: one EVALSHA per decision, hash-tagged expiring keys,
recovery from a script cache flush, and the same scripts on a real Redis Cluster."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis

from sidecar.ratelimit.backend import Pause, Request
from sidecar.ratelimit.redis import RedisBackend
from sidecar.redis_connection import connect
from sidecar.secrets import Secret
from tests.conftest import RedisServer, spawn_redis
from tests.contract.test_ratelimit_backend import bucket
from tests.helpers import eventually, free_port
from tests.tools import require_tool


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[redis.Redis]:
    plain = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield plain
    await plain.aclose()


@pytest.fixture
async def backend(redis_server: RedisServer) -> AsyncIterator[RedisBackend]:
    client = connect(Secret(redis_server.url))
    yield RedisBackend(client)
    await client.aclose()


async def _calls(client: redis.Redis, command: str) -> int:
    stats = await client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_one_evalsha_per_decision(client: redis.Redis, backend: RedisBackend) -> None:
    app, caller = bucket("app", burst=100), bucket("caller:x", burst=100)
    await backend.decide(Request("s", (app, caller), 1, 0.0, 5.0))  # loads the script once
    before = await _calls(client, "evalsha")
    for _ in range(25):
        await backend.decide(Request("s", (app, caller), 1, 0.0, 5.0))
    assert await _calls(client, "evalsha") - before == 25


async def test_keys_share_a_hash_tag_and_expire_when_full(
    client: redis.Redis, backend: RedisBackend
) -> None:
    app = bucket("app", burst=3)  # a token every 30 s
    await backend.decide(Request("1234@pay.crypt.bot", (app, bucket("rpc:GetMe")), 1, 0.0, 5.0))
    await backend.cooldown(Pause("1234@pay.crypt.bot", 5.0, app, 5.0))
    keys = sorted(await client.keys("*"))
    assert keys == [
        "cpsc:rl:{1234@pay.crypt.bot}:app",
        "cpsc:rl:{1234@pay.crypt.bot}:cooldown",
        "cpsc:rl:{1234@pay.crypt.bot}:rpc:GetMe",
    ]
    # One token used: full again in 30 s; the cooldown drained the app bucket past its end.
    assert 29_000 < await client.pttl("cpsc:rl:{1234@pay.crypt.bot}:rpc:GetMe") <= 30_002
    assert 4_000 < await client.pttl("cpsc:rl:{1234@pay.crypt.bot}:cooldown") <= 5_002
    assert 64_000 < await client.pttl("cpsc:rl:{1234@pay.crypt.bot}:app") <= 65_002


async def test_a_flushed_script_cache_is_reloaded(
    client: redis.Redis, backend: RedisBackend
) -> None:
    app = bucket("app", burst=5)
    assert (await backend.decide(Request("s", (app,), 1, 0.0, 5.0))).allowed
    await client.script_flush()  # what a restart or a failover does
    decision = await backend.decide(Request("s", (app,), 1, 0.0, 5.0))
    assert decision.allowed and decision.statuses[0].remaining == pytest.approx(3, abs=0.01)


# --- Redis Cluster -------------------------------------------------------------------------------


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free and valid too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


@pytest.fixture
def cluster() -> Iterator[str]:
    """Three masters on free ports, joined by redis-cli --cluster create."""
    redis_cli = require_tool("redis-cli", "apt-get install redis-tools")
    directory = tempfile.mkdtemp(prefix="redis-cluster-")
    ports = [_cluster_port() for _ in range(3)]
    servers = [
        RedisServer(
            port,
            spawn_redis(
                port,
                f"{directory}",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
            ),
            directory,
        )
        for port in ports
    ]
    try:
        subprocess.run(
            [
                redis_cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        yield f"redis+cluster://127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}"
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def test_the_scripts_run_on_redis_cluster(cluster: str) -> None:
    client = connect(Secret(cluster))
    backend = RedisBackend(client)

    async def answers() -> bool:
        try:
            return bool(await client.ping())
        except Exception:  # whatever a cluster still agreeing on its slots raises
            return False

    try:
        await eventually(answers, "the cluster to agree on its slots", within=10)
        app, caller = bucket("app", burst=2), bucket("caller:x", burst=5)
        for scope in ("a", "b", "c", "d"):  # scopes land on different nodes
            allowed = [
                (await backend.decide(Request(scope, (app, caller), 1, 0.0, 5.0))).allowed
                for _ in range(3)
            ]
            assert allowed == [True, True, False]
            await backend.cooldown(Pause(scope, 5.0, app, 5.0))
            paused = await backend.decide(Request(scope, (caller,), 1, 0.0, 5.0))
            assert not paused.allowed and paused.limited_by == "cooldown"
    finally:
        await client.aclose()


async def test_a_restarted_redis_costs_no_failed_decision(
    backend: RedisBackend, redis_server: RedisServer
) -> None:
    app = bucket("app", burst=100)
    # Several pooled connections, all of which the restart leaves dead.
    await asyncio.gather(*(backend.decide(Request("s", (app,), 1, 0.0, 5.0)) for _ in range(5)))
    redis_server.stop()
    redis_server.start()
    for _ in range(5):
        assert (await backend.decide(Request("s", (app,), 1, 0.0, 5.0))).allowed
