"""The README's client snippets run as written against the live demo sidecar."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.clients.conftest import DemoSidecar
from tests.e2e.test_readme import code_block_after
from tests.helpers import REPO


def test_python_snippet(demo_sidecar: DemoSidecar) -> None:
    snippet = code_block_after("<!-- readme-snippet: python-client -->", "python")
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "CRYPTOPAY_SIDECAR_TARGET": demo_sidecar.target,
            "PYTHONPATH": str(REPO / "clients" / "python"),
        },
    )
    assert result.returncode == 0, result.stderr
    invoice_id, key = result.stdout.split()
    assert int(invoice_id) > 0 and len(key) == 36


def test_node_snippet(node: str, demo_sidecar: DemoSidecar) -> None:
    snippet = code_block_after("<!-- readme-snippet: node-client -->", "js")
    result = subprocess.run(
        [node, "-e", snippet],
        cwd=REPO,  # the root's npm install links the workspace package
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CRYPTOPAY_SIDECAR_TARGET": demo_sidecar.target},
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 0
