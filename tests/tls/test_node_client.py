"""The Node client's TLS and mTLS options against a sidecar serving real certificates."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from sidecar.server import Sidecar
from tests.helpers import REPO
from tests.tls.conftest import CHECKOUT_ID, Pki, target

SCRIPT = Path(__file__).with_name("node_client.js")
TLS_VARIABLES = (
    "CRYPTOPAY_SIDECAR_TLS",
    "CRYPTOPAY_SIDECAR_CA_FILE",
    "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE",
    "CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE",
    "CRYPTOPAY_SIDECAR_SERVER_NAME",
)


async def run_node(
    node: str,
    address: str,
    options: dict[str, Any] | None = None,
    calls: tuple[str, ...] = ("GetMe",),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What node_client.js saw: {"results": [...]} per call, or the error making the client."""
    spec = json.dumps({"target": address, "options": options or {}, "calls": list(calls)})
    # Only the variables a test sets: none leak in from the environment running the suite.
    base = {k: v for k, v in os.environ.items() if k not in TLS_VARIABLES}
    # In a thread: the sidecar the script dials serves on this test's event loop.
    done = await asyncio.to_thread(
        subprocess.run,
        [node, str(SCRIPT), spec],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


def only(seen: dict[str, Any]) -> dict[str, Any]:
    assert "results" in seen, seen
    [result] = seen["results"]
    assert isinstance(result, dict)
    return result


def unavailable(seen: dict[str, Any]) -> str:
    """The details of a call refused before it reached the sidecar."""
    result = only(seen)
    assert not result["ok"] and result["code"] == "UNAVAILABLE", result
    return str(result["details"])


def mtls(pki: Pki, client: str = "checkout") -> dict[str, str]:
    issued = getattr(pki, client)
    return {"caFile": str(pki.ca.cert), "certFile": str(issued.cert), "keyFile": str(issued.key)}


async def test_tls_with_a_ca_file(node: str, tls_sidecar: Sidecar, pki: Pki) -> None:
    result = only(await run_node(node, target(tls_sidecar), {"caFile": str(pki.ca.cert)}))
    assert result["ok"] and int(result["app_id"]) > 0, result


async def test_tls_from_the_environment_with_a_server_name(
    node: str, tls_sidecar: Sidecar, pki: Pki
) -> None:
    address = f"127.0.0.1:{tls_sidecar.grpc_port}"
    env = {"CRYPTOPAY_SIDECAR_CA_FILE": str(pki.ca.cert)}
    named = await run_node(node, address, env={**env, "CRYPTOPAY_SIDECAR_SERVER_NAME": "localhost"})
    assert only(named)["ok"], named
    # The name given is the one checked: a name the certificate lacks fails the handshake.
    elsewhere = await run_node(node, address, {"serverName": "elsewhere.example"}, env=env)
    details = unavailable(elsewhere)
    assert "elsewhere.example" in details and "altnames" in details, details


async def test_the_wrong_ca_is_refused(node: str, tls_sidecar: Sidecar, pki: Pki) -> None:
    seen = await run_node(node, target(tls_sidecar), {"caFile": str(pki.other_ca.cert)})
    details = unavailable(seen)
    assert "certificate" in details, details


async def test_the_system_roots_do_not_trust_a_private_ca(node: str, tls_sidecar: Sidecar) -> None:
    details = unavailable(await run_node(node, target(tls_sidecar), {"tls": True}))
    assert "certificate" in details, details


async def test_plaintext_is_still_the_default_and_a_tls_port_refuses_it(
    node: str, tls_sidecar: Sidecar
) -> None:
    unavailable(await run_node(node, target(tls_sidecar)))


async def test_mtls_caller_known_by_its_spiffe_id(
    node: str, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    seen = await run_node(node, target(mtls_sidecar), mtls(pki), calls=("GetMe", "GetBalance"))
    allowed, denied = seen["results"]
    assert allowed["ok"] and int(allowed["app_id"]) > 0, allowed
    # The policy knows the caller by the certificate alone, and allows it GetMe only.
    assert denied["code"] == "PERMISSION_DENIED" and denied["caller"] == "checkout", denied


async def test_mtls_from_the_environment(node: str, mtls_sidecar: Sidecar, pki: Pki) -> None:
    env = {
        "CRYPTOPAY_SIDECAR_CA_FILE": str(pki.ca.cert),
        "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE": str(pki.checkout.cert),
        "CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE": str(pki.checkout.key),
    }
    assert only(await run_node(node, target(mtls_sidecar), env=env))["ok"]


async def test_mtls_without_a_client_certificate_is_refused(
    node: str, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    details = unavailable(await run_node(node, target(mtls_sidecar), {"caFile": str(pki.ca.cert)}))
    # The sidecar closes the connection without a word; the error says what it most likely wants.
    assert "with a client that shows no certificate: set certFile and keyFile" in details, details


async def test_mtls_refuses_certificates_it_does_not_trust_or_know(
    node: str, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    # The checkout SPIFFE id, but issued by another CA: the handshake fails.
    foreign = {**mtls(pki, "foreign"), "caFile": str(pki.ca.cert)}
    details = unavailable(await run_node(node, target(mtls_sidecar), foreign))
    assert "a client certificate it does not accept" in details, details
    assert f"check certFile {pki.foreign.cert}" in details, details
    # A certificate of the right CA that no caller is named by: in, but refused by the policy.
    stranger = only(await run_node(node, target(mtls_sidecar), mtls(pki, "stranger")))
    assert stranger["code"] == "UNAUTHENTICATED", stranger
    assert stranger["reason"] == "CERTIFICATE_UNKNOWN", stranger
    assert CHECKOUT_ID not in stranger["details"]


async def test_a_missing_file_is_named_before_any_call(node: str, pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "absent.key"
    options = {"caFile": str(pki.ca.cert), "certFile": str(pki.checkout.cert)}
    seen = await run_node(
        node, "localhost:1", options, env={"CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE": str(missing)}
    )
    assert seen["error"] == "TlsConfigError", seen
    assert (
        seen["message"] == f"$CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE {missing}: cannot be read (ENOENT)"
    )
    assert (seen["option"], seen["path"]) == ("keyFile", str(missing))
    # A certificate without its key is refused just as clearly.
    alone = await run_node(node, "localhost:1", options)
    assert alone["message"].startswith("a client certificate needs both certFile and keyFile")
