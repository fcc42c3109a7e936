"""Runs the Node client's tests (node's test runner) against the live demo sidecar, so the one
test command covers every client."""

from __future__ import annotations

import os
import re
import subprocess

from tests.clients.conftest import DemoSidecar
from tests.helpers import REPO

NODE_CLIENT = REPO / "clients" / "node"


def test_node_client_against_the_live_sidecar(node: str, demo_sidecar: DemoSidecar) -> None:
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
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no live sidecar" not in output, output
    passed = re.search(r"^# pass (\d+)$", output, re.M)
    assert passed and int(passed.group(1)) >= 8, output
