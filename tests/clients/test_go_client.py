"""The Go client builds offline in GOPATH mode (Debian's golang-go and grpc-go 1.33), its unit
tests pass, and the example program creates an invoice through the live demo sidecar."""

from __future__ import annotations

import os
import subprocess

from tests.clients.conftest import DemoSidecar
from tests.golang import GoClient


def test_go_client_builds_and_creates_an_invoice(
    go_client: GoClient, demo_sidecar: DemoSidecar
) -> None:
    go_client.go("test", "./sidecar/")
    output = subprocess.run(
        [go_client.program("createinvoice"), "-asset", "TON", "-amount", "3.25"],
        env={**os.environ, "CRYPTOPAY_SIDECAR_TARGET": demo_sidecar.target},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "amount=3.25" in output and "status=INVOICE_STATUS_ACTIVE" in output
    assert "attempts=1" in output and "replayed=false" in output
