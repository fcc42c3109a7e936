"""The Go client, built once per run, offline, in GOPATH mode (Debian's golang-go and grpc-go).

Go's build cache (GOCACHE, ~/.cache/go-build by default) is left where it is, so only the
first build on a machine compiles grpc-go; later ones take a few seconds.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO
from tests.tools import require_path, require_tool

GO_MODULE = "github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go"
DEBIAN_GOPATH = Path("/usr/share/gocode")


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


@dataclass(frozen=True)
class GoClient:
    """clients/go in a GOPATH of its own, and its example programs built into `bin`."""

    toolchain: str
    gopath: Path

    @property
    def package_dir(self) -> Path:
        return self.gopath / "src" / GO_MODULE

    @property
    def bin(self) -> Path:
        return self.gopath / "bin"

    def program(self, name: str) -> str:
        return str(self.bin / name)

    def go(self, *args: str) -> str:
        """Runs `go args` in the module's directory; asserts it succeeds, returns its stdout."""
        env = {
            **os.environ,
            "GO111MODULE": "off",
            "GOPATH": f"{self.gopath}:{DEBIAN_GOPATH}",
            "GOPROXY": "off",
            "GOFLAGS": "",
            "PWD": str(self.package_dir),
        }
        result = subprocess.run(
            [self.toolchain, *args],
            cwd=self.package_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def build_go_client(gopath: Path) -> GoClient:
    """Links clients/go into `gopath` (the import path must be a directory under $GOPATH/src)
    and builds every program in it."""
    client = GoClient(go_toolchain(), gopath)
    client.package_dir.parent.mkdir(parents=True)
    client.package_dir.symlink_to(REPO / "clients" / "go")
    client.go("build", "-o", f"{client.bin}/", "./...")
    return client
