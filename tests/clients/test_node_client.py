"""Runs the Node client's tests (node's test runner) against the live demo sidecar, with test
certificates for its TLS options, so the one test command covers every client."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.certs import CertificateAuthority
from tests.clients.conftest import DemoSidecar
from tests.helpers import REPO

NODE_CLIENT = REPO / "clients" / "node"


def issue_test_pki(directory: Path) -> Path:
    """What clients/node/test/tls.test.js reads from $CRYPTOPAY_TEST_PKI_DIR."""
    ca = CertificateAuthority(directory, "ca")
    # Only a DNS name, so that dialling 127.0.0.1 succeeds only with serverName.
    ca.issue("server", server=True, dns=("sidecar.test",))
    ca.issue("client", uris=("spiffe://cluster.local/ns/shop/sa/checkout",))
    ca.issue("other")  # its key is not the client's
    return directory


def test_node_client_against_the_live_sidecar(
    node: str, demo_sidecar: DemoSidecar, tmp_path: Path
) -> None:
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "test/"],
        cwd=NODE_CLIENT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "CRYPTOPAY_SIDECAR_TARGET": demo_sidecar.target,
            "CRYPTOPAY_EMULATOR_URL": demo_sidecar.emulator_url,
            "CRYPTOPAY_DEMO_TOKEN": demo_sidecar.token,
            "CRYPTOPAY_TEST_PKI_DIR": str(issue_test_pki(tmp_path / "pki")),
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no live sidecar" not in output, output
    assert "no test certificates" not in output, output
    passed = re.search(r"^# pass (\d+)$", output, re.M)
    assert passed and int(passed.group(1)) >= 20, output
