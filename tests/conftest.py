"""Fixtures shared by the whole suite: the emulator, a sidecar wired to it, a gRPC stub, a
throwaway redis-server, node with the Node client's packages, and the Go client built.
Everything talks over real sockets: gRPC to the sidecar, HTTP to the emulator."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from sidecar import logs
from sidecar.config import Settings
from sidecar.emulator.config import EmulatorConfig
from sidecar.emulator.runner import RunningEmulator, start_emulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.secrets import Secret
from sidecar.server import Sidecar
from sidecar.telemetry import tracing
from tests.golang import GoClient, build_go_client
from tests.helpers import REPO, eventually, eventually_sync, free_port, new_token
from tests.tools import require_tool, unavailable


class EmulatorControl:
    """A small client for the emulator's control API (/_emulator/...)."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self._session = session

    async def request(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> Any:
        headers = {"Crypto-Pay-API-Token": token} if token else {}
        async with self._session.request(
            method, f"{self.base_url}/_emulator/{path}", json=body, headers=headers
        ) as response:
            data = await response.json(content_type=None)
            if response.status >= 300:
                raise AssertionError(f"control {method} {path} -> {response.status}: {data}")
            return data["result"] if isinstance(data, dict) and "result" in data else data

    async def api(self, token: str, method: str, **params: Any) -> tuple[int, Any]:
        """Calls the emulator's Crypto Pay API directly (bypassing the sidecar)."""
        async with self._session.post(
            f"{self.base_url}/api/{method}",
            json=params,
            headers={"Crypto-Pay-API-Token": token},
        ) as response:
            return response.status, await response.json(content_type=None)

    async def api_requests(self, token: str | None = None) -> int:
        """How many /api/ requests the emulator has received (for this app if token given)."""
        stats = await self.request("GET", "stats", token)
        return int(stats["total"])

    async def wait_requests(self, token: str, count: int = 1) -> None:
        """Waits (up to 10 s) until the emulator has received `count` API requests for this app."""

        async def received() -> bool:
            return await self.api_requests(token) >= count

        await eventually(received, f"the emulator to receive {count} requests", within=10)

    async def fault(self, token: str, **rule: Any) -> None:
        await self.request("POST", "faults", token, rule)

    async def pay(self, token: str, invoice_id: int, **body: Any) -> Any:
        return await self.request("POST", f"invoices/{invoice_id}/pay", token, body or {})

    async def ledger(self, token: str) -> Any:
        return await self.request("GET", "ledger", token)


@pytest.fixture(scope="session")
async def emulator() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator(EmulatorConfig(seed=7), host="127.0.0.1", port=0)
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(scope="session")
async def control(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> EmulatorControl:
    return EmulatorControl(emulator.base_url, http_session)


@pytest.fixture
def token() -> str:
    """A fresh app in the emulator for each test."""
    return new_token()


@dataclass
class RunningSidecar:
    sidecar: Sidecar
    channel: grpc.aio.Channel
    stub: pb_grpc.CryptoPayServiceAsyncStub
    token: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sidecar.grpc_port}"


async def start_sidecar(emulator: RunningEmulator, token: str, **overrides: Any) -> RunningSidecar:
    settings = Settings(
        grpc_listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        upstream_url=emulator.base_url,
        token=Secret(token),
        grace_seconds=1.0,
        request_timeout=5.0,
        **overrides,
    )
    sidecar = Sidecar(settings)
    await sidecar.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}")
    return RunningSidecar(sidecar, channel, pb_grpc.CryptoPayServiceStub(channel), token)


@pytest.fixture
async def sidecar(emulator: RunningEmulator, token: str) -> AsyncIterator[RunningSidecar]:
    running = await start_sidecar(emulator, token)
    yield running
    await running.channel.close(None)
    await running.sidecar.stop()


@pytest.fixture
def stub(sidecar: RunningSidecar) -> pb_grpc.CryptoPayServiceAsyncStub:
    return sidecar.stub


# --- Redis ---------------------------------------------------------------------------------------


def redis_server_binary() -> str | None:
    return os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    directory: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)

    def start(self) -> None:
        """(Re)starts the server on the same port."""
        self.process = spawn_redis(self.port, self.directory)


def spawn_redis(port: int, directory: str, *extra: str) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:port, answering PING; `extra` adds server arguments."""
    binary = redis_server_binary()
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            directory,
            "--daemonize",
            "no",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    import socket

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            if process.poll() is not None:
                pytest.fail("redis-server exited at start")
            return False

    eventually_sync(answers, f"redis-server on port {port} to answer PING", within=5)
    return process


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A private, throwaway redis-server on a free port (never the machine's shared one)."""
    directory = tempfile.mkdtemp(prefix="redis-test-")
    port = free_port()
    server = RedisServer(port, spawn_redis(port, directory), directory)
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


# --- telemetry -----------------------------------------------------------------------------------


@dataclass
class SpanRecorder:
    """Spans as exported (redacted, like every real exporter) and as recorded (raw)."""

    exported: InMemorySpanExporter
    raw: InMemorySpanExporter

    def finished(self) -> list[ReadableSpan]:
        return list(self.exported.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.finished() if s.name == name]

    async def ended(self, name: str, count: int = 1) -> list[ReadableSpan]:
        """Waits for `count` spans named `name` (a server span ends just after its answer)."""

        def found() -> list[ReadableSpan] | None:
            spans = self.named(name)
            return spans if len(spans) >= count else None

        return await eventually(found, f"{count} spans named {name!r}", within=10)

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """Direct children of `parent`, in start order."""
        found = [
            s
            for s in self.finished()
            if s.parent is not None and s.parent.span_id == parent.context.span_id
        ]
        return sorted(found, key=lambda s: s.start_time or 0)

    def clear(self) -> None:
        self.exported.clear()
        self.raw.clear()


@pytest.fixture(scope="session", autouse=True)
def _span_exporters() -> tuple[InMemorySpanExporter, InMemorySpanExporter]:
    # The process has one tracer provider; the exporters are added to it once, before any
    # sidecar starts (a sidecar installs its tracing interceptor only when spans are exported).
    exported, raw = InMemorySpanExporter(), InMemorySpanExporter()
    tracing.add_exporter(exported, batch=False)
    tracing.add_exporter(raw, batch=False, redact=False)
    return exported, raw


@pytest.fixture(autouse=True)
def _spans_dropped_after_each_test(
    _span_exporters: tuple[InMemorySpanExporter, InMemorySpanExporter],
) -> Iterator[None]:
    yield
    for exporter in _span_exporters:
        exporter.clear()


@pytest.fixture
def spans(_span_exporters: tuple[InMemorySpanExporter, InMemorySpanExporter]) -> SpanRecorder:
    """The spans finished during the test."""
    recorder = SpanRecorder(*_span_exporters)
    recorder.clear()
    return recorder


@dataclass
class LogCapture:
    stream: io.StringIO

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    """Every log line of the process during the test, as the sidecar writes them (JSON)."""
    stream = io.StringIO()
    handler = logs.handler(stream, "json")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield LogCapture(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(session: aiohttp.ClientSession, http_port: int) -> Samples:
    """GET /metrics, as {(sample name, labels): value}."""
    async with session.get(f"http://127.0.0.1:{http_port}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- Node ----------------------------------------------------------------------------------------

NODE_PACKAGES = (
    "@grpc/grpc-js",
    "@grpc/proto-loader",
    "@cryptopay-sidecar/client",
    "crypto-bot-api",
)


def _node_resolves(node: str) -> subprocess.CompletedProcess[str]:
    script = "".join(f"require.resolve({name!r});" for name in NODE_PACKAGES)
    return subprocess.run(
        [node, "-e", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the Node client's packages installed at the repository root (the npm
    workspace). A fresh clone gets them from the npm registry here, the way .ci/run does; no
    root needed."""
    binary = require_tool("node", "apt-get install nodejs npm")
    if _node_resolves(binary).returncode == 0:
        return binary
    npm = require_tool("npm", "apt-get install npm")
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if installed.returncode != 0:
        unavailable(
            f"the Node client's packages ({installed.stderr.strip()[-500:]})",
            "npm install (at the repository root; it needs the npm registry)",
        )
    resolved = _node_resolves(binary)
    assert resolved.returncode == 0, f"npm install left packages unresolved: {resolved.stderr}"
    return binary


# --- Go ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> GoClient:
    """clients/go built once for the run (its example programs are what the tests run)."""
    return build_go_client(tmp_path_factory.mktemp("gopath"))
