"""A live sidecar in demo mode, as a separate process, shared by the client tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sidecar.config import DEMO_TOKEN
from tests.e2e.test_process import wait_serving
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
    grpc_port, http_port, emulator_port = free_port(), free_port(), free_port()
    log: Path = tmp_path_factory.mktemp("demo-sidecar") / "sidecar.log"
    # Logs go to a file: a pipe nobody reads would block the sidecar once full.
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sidecar",
                "serve",
                "--demo",
                "--grpc-listen",
                f"127.0.0.1:{grpc_port}",
                "--http-listen",
                f"127.0.0.1:{http_port}",
                "--demo-emulator-listen",
                f"127.0.0.1:{emulator_port}",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ),
        )
    try:
        try:
            wait_serving(grpc_port, proc)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{log.read_text()}") from None
        yield DemoSidecar(grpc_port, http_port, emulator_port)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except Exception:
                proc.kill()
                proc.wait(5)
