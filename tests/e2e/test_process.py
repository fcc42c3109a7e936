"""The sidecar as users run it: a separate process started by its command."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from tests.helpers import free_port, new_token


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


@pytest.mark.skipif(shutil.which("grpcurl") is None, reason="grpcurl is not installed")
def test_grpcurl_lists_services_by_reflection(demo: Process) -> None:
    listed = subprocess.run(
        ["grpcurl", "-plaintext", f"127.0.0.1:{demo.grpc_port}", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert "cryptopay.v1.CryptoPayService" in listed
    assert "grpc.health.v1.Health" in listed
    created = subprocess.run(
        [
            "grpcurl",
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
