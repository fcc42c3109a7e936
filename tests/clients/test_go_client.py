"""The Go client builds offline in GOPATH mode (Debian's golang-go and grpc-go 1.33), its unit
tests pass, the example program creates an invoice through the live demo sidecar, and the
README's TLS example compiles."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap

from tests.clients.conftest import DemoSidecar
from tests.golang import GO_MODULE, GoClient
from tests.helpers import REPO


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


def test_go_readme_tls_snippet_compiles(go_client: GoClient) -> None:
    readme = (REPO / "clients" / "go" / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- readme-snippet: go-tls -->\n```go\n(.*?)```", readme, re.S)
    assert match, "clients/go/README.md has no go block after its go-tls marker"
    body = textwrap.indent(match.group(1), "\t")
    program = go_client.gopath / "src" / "readmesnippet" / "main.go"
    program.parent.mkdir(parents=True, exist_ok=True)
    program.write_text(
        f"""package main

import (
\t"context"
\t"log"

\t"{GO_MODULE}/sidecar"
)

func main() {{
\tctx := context.Background()
{body}\t_, _ = conn, err
}}
""",
        encoding="utf-8",
    )
    go_client.go("vet", "readmesnippet")
