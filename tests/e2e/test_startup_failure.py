"""A start-up that fails half way stops what had started: no listener, task or client left."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sidecar.config import Settings
from sidecar.emulator.runner import RunningEmulator
from sidecar.secrets import Secret
from sidecar.server import Sidecar
from tests.conftest import RedisServer
from tests.helpers import new_token


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


async def test_a_taken_grpc_port_fails_start_and_leaves_nothing_running(
    emulator: RunningEmulator, redis_server: RedisServer
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(
            grpc_listen=f"127.0.0.1:{port}",
            http_listen="127.0.0.1:0",
            api_listen="127.0.0.1:0",
            upstream_url=emulator.base_url,
            token=Secret(new_token()),
            redis_url=Secret(redis_server.url),
            grace_seconds=1.0,
        )
        before = asyncio.all_tasks()
        sidecar = Sidecar(settings)
        with pytest.raises(RuntimeError):
            await sidecar.start()
    # The HTTP side was up before the gRPC port was tried, and is closed again.
    assert sidecar.http_port and sidecar.api_port
    assert _refused(sidecar.http_port)
    assert _refused(sidecar.api_port)
    # The tail, relay, limiter heartbeat and Redis probe were started, and all stopped.
    left = {task for task in asyncio.all_tasks() - before if not task.done()}
    assert left == set()
    assert sidecar.parts is not None
    assert not sidecar.parts.upstream.ready  # its session is closed
    # Nothing left to stop.
    await sidecar.stop()
