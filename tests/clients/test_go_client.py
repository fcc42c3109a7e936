"""The Go client builds offline in GOPATH mode (Debian's golang-go and grpc-go 1.33), its unit
tests pass, and the example program creates an invoice through the live demo sidecar."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import DemoSidecar
from tests.helpers import REPO
from tests.tools import require_path, require_tool

GO_MODULE = "github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go"
DEBIAN_GOPATH = Path("/usr/share/gocode")


@pytest.fixture
def go_toolchain() -> str:
    """go, with Debian's grpc-go and golang/protobuf sources (the build is offline)."""
    go = require_tool("go", "apt-get install golang-go")
    require_path(
        DEBIAN_GOPATH / "src" / "google.golang.org" / "grpc",
        "apt-get install golang-google-grpc-dev",
    )
    # grpc-go marshals with github.com/golang/protobuf: version 1.3 cannot handle APIv2 code.
    require_path(
        DEBIAN_GOPATH / "src/github.com/golang/protobuf/proto/registry.go",
        "apt-get install golang-github-golang-protobuf-1-5-dev",
    )
    return go


def test_go_client_builds_and_creates_an_invoice(
    go_toolchain: str, demo_sidecar: DemoSidecar, tmp_path: Path
) -> None:
    # GOPATH mode: the module's import path must be a directory under $GOPATH/src.
    package_dir = tmp_path / "src" / GO_MODULE
    package_dir.parent.mkdir(parents=True)
    package_dir.symlink_to(REPO / "clients" / "go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": f"{tmp_path}:{DEBIAN_GOPATH}",
        "GOPROXY": "off",
        "GOFLAGS": "",
        "PWD": str(package_dir),
    }

    def go(*args: str) -> str:
        result = subprocess.run(
            [go_toolchain, *args],
            cwd=package_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    go("build", "-o", str(tmp_path / "bin") + "/", "./...")
    go("test", "./sidecar/")
    output = subprocess.run(
        [str(tmp_path / "bin" / "createinvoice"), "-asset", "TON", "-amount", "3.25"],
        env={**os.environ, "CRYPTOPAY_SIDECAR_TARGET": demo_sidecar.target},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "amount=3.25" in output and "status=INVOICE_STATUS_ACTIVE" in output
    assert "attempts=1" in output and "replayed=false" in output
