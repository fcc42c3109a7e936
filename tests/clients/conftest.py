"""A live sidecar in demo mode, as a separate process, shared by the client tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bench.sidecar_process import SidecarProcess
from sidecar.config import DEMO_TOKEN
from tests.helpers import free_port


@dataclass(frozen=True)
class DemoSidecar:
    grpc_port: int
    http_port: int
    emulator_port: int
    token: str = DEMO_TOKEN

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"


@pytest.fixture(scope="session")
def demo_sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSidecar]:
    emulator_port = free_port()
    with SidecarProcess(
        demo=True,
        demo_emulator_listen=f"127.0.0.1:{emulator_port}",
        log=tmp_path_factory.mktemp("demo-sidecar") / "sidecar.log",
    ).wait_serving() as sidecar:
        yield DemoSidecar(sidecar.grpc_port, sidecar.http_port, emulator_port)
