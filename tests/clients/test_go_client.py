"""The Go client builds offline in GOPATH mode (Debian's golang-go and grpc-go 1.33), its unit
tests pass, and the example program creates an invoice through the live demo sidecar."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import DemoSidecar
from tests.helpers import REPO

GO_MODULE = "github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go"
DEBIAN_GOPATH = Path("/usr/share/gocode")

pytestmark = [
    pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed"),
    pytest.mark.skipif(
        not (DEBIAN_GOPATH / "src" / "google.golang.org" / "grpc").is_dir(),
        reason="golang-google-grpc-dev is not installed",
    ),
    # grpc-go marshals with github.com/golang/protobuf: version 1.3 cannot handle APIv2 code.
    pytest.mark.skipif(
        not (DEBIAN_GOPATH / "src/github.com/golang/protobuf/proto/registry.go").is_file(),
        reason="golang-github-golang-protobuf-1-5-dev is not installed",
    ),
]


def test_go_client_builds_and_creates_an_invoice(demo_sidecar: DemoSidecar, tmp_path: Path) -> None:
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
            ["go", *args], cwd=package_dir, env=env, capture_output=True, text=True, timeout=600
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
