"""The Go client's TLS and mTLS options (examples/getme, built with Debian's grpc-go) against a
sidecar serving real certificates."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from sidecar.server import Sidecar
from tests.golang import GoClient
from tests.tls.conftest import Pki, target

# Inherited variables must not decide for a test that sets none.
CLIENT_ENV = (
    "CRYPTOPAY_SIDECAR_TARGET",
    "CRYPTOPAY_SIDECAR_TLS",
    "CRYPTOPAY_SIDECAR_CA_FILE",
    "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE",
    "CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE",
    "CRYPTOPAY_SIDECAR_SERVER_NAME",
)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


async def getme(go_client: GoClient, *args: str, **env: str) -> Run:
    """examples/getme with `args` and `env` added to a clean environment. Run without blocking:
    the sidecar it calls serves on this event loop."""
    environ = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}
    process = await asyncio.create_subprocess_exec(
        go_client.program("getme"),
        *args,
        env={**environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


def served(run: Run) -> int:
    """The app id GetMe answered with."""
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("app_id="), run.stdout
    app_id = int(run.stdout.split()[0].removeprefix("app_id="))
    assert app_id > 0
    return app_id


def refused(run: Run, code: str, reason: str = "") -> str:
    """The error message of a GetMe that failed with `code` (and ErrorInfo `reason`)."""
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert f"GetMe failed: code={code} reason={reason}:" in run.stderr, run.stderr
    return run.stderr


async def test_tls_with_a_ca_file(go_client: GoClient, tls_sidecar: Sidecar, pki: Pki) -> None:
    served(await getme(go_client, "-target", target(tls_sidecar), "-ca-file", str(pki.ca.cert)))


async def test_tls_from_the_environment_with_a_server_name(
    go_client: GoClient, tls_sidecar: Sidecar, pki: Pki
) -> None:
    environ = {
        "CRYPTOPAY_SIDECAR_TARGET": f"127.0.0.1:{tls_sidecar.grpc_port}",
        "CRYPTOPAY_SIDECAR_CA_FILE": str(pki.ca.cert),
    }
    served(await getme(go_client, **environ, CRYPTOPAY_SIDECAR_SERVER_NAME="localhost"))
    # The certificate is checked against the name given, not the address dialled.
    run = await getme(go_client, **environ, CRYPTOPAY_SIDECAR_SERVER_NAME="payments.example")
    assert "not payments.example" in refused(run, "Unavailable")


async def test_plaintext_stays_the_default(go_client: GoClient, tls_sidecar: Sidecar) -> None:
    # No TLS option and no variable: plaintext, which a TLS port does not answer.
    refused(await getme(go_client, "-target", target(tls_sidecar)), "Unavailable")


async def test_another_ca_is_refused(go_client: GoClient, tls_sidecar: Sidecar, pki: Pki) -> None:
    run = await getme(go_client, "-target", target(tls_sidecar), "-ca-file", str(pki.other_ca.cert))
    assert "certificate signed by unknown authority" in refused(run, "Unavailable")


async def test_system_roots_do_not_trust_a_private_ca(
    go_client: GoClient, tls_sidecar: Sidecar
) -> None:
    run = await getme(go_client, CRYPTOPAY_SIDECAR_TARGET=target(tls_sidecar))
    refused(run, "Unavailable")  # plaintext: no variable asks for TLS
    run = await getme(
        go_client, CRYPTOPAY_SIDECAR_TARGET=target(tls_sidecar), CRYPTOPAY_SIDECAR_TLS="true"
    )
    assert "certificate signed by unknown authority" in refused(run, "Unavailable")


async def test_mtls_caller_known_by_its_spiffe_id(
    go_client: GoClient, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    client = pki.checkout
    served(
        await getme(
            go_client,
            "-target",
            target(mtls_sidecar),
            "-ca-file",
            str(pki.ca.cert),
            "-cert-file",
            str(client.cert),
            "-key-file",
            str(client.key),
        )
    )


async def test_mtls_from_the_environment(
    go_client: GoClient, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    run = await getme(
        go_client,
        CRYPTOPAY_SIDECAR_TARGET=f"127.0.0.1:{mtls_sidecar.grpc_port}",
        CRYPTOPAY_SIDECAR_CA_FILE=str(pki.ca.cert),
        CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE=str(pki.checkout.cert),
        CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE=str(pki.checkout.key),
    )
    served(run)


async def test_a_certificate_no_policy_names_is_unauthenticated(
    go_client: GoClient, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    # The handshake succeeds (the CA signed it); the policy knows callers by certificate only.
    run = await getme(
        go_client,
        "-target",
        target(mtls_sidecar),
        "-ca-file",
        str(pki.ca.cert),
        "-cert-file",
        str(pki.stranger.cert),
        "-key-file",
        str(pki.stranger.key),
    )
    refused(run, "Unauthenticated", "CERTIFICATE_UNKNOWN")


async def test_mtls_without_a_client_certificate_is_refused(
    go_client: GoClient, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    run = await getme(go_client, "-target", target(mtls_sidecar), "-ca-file", str(pki.ca.cert))
    message = refused(run, "Unavailable")
    # Under TLS 1.3 the sidecar refuses after the handshake; the error still says why.
    assert "asked for a client certificate and ended the connection without one" in message
    assert "set CertFile and KeyFile" in message


async def test_a_client_certificate_from_another_ca_is_refused(
    go_client: GoClient, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    run = await getme(
        go_client,
        "-target",
        target(mtls_sidecar),
        "-ca-file",
        str(pki.ca.cert),
        "-cert-file",
        str(pki.foreign.cert),
        "-key-file",
        str(pki.foreign.key),
    )
    assert f"ended the connection on the one in CertFile {pki.foreign.cert}" in refused(
        run, "Unavailable"
    )


async def test_an_expired_client_certificate_is_refused(
    go_client: GoClient, mtls_sidecar: Sidecar, pki: Pki
) -> None:
    run = await getme(
        go_client,
        CRYPTOPAY_SIDECAR_TARGET=target(mtls_sidecar),
        CRYPTOPAY_SIDECAR_CA_FILE=str(pki.ca.cert),
        CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE=str(pki.expired.cert),
        CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE=str(pki.expired.key),
    )
    assert f"CertFile {pki.expired.cert}" in refused(run, "Unavailable")


async def test_options_that_cannot_work_are_named(
    go_client: GoClient, pki: Pki, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.crt"
    run = await getme(go_client, "-ca-file", str(missing))
    assert run.returncode == 2 and f"CAFile {missing}: cannot be read" in run.stderr, run.stderr
    run = await getme(go_client, "-cert-file", str(pki.checkout.cert))
    assert run.returncode == 2, run.stderr
    assert "needs both CertFile and KeyFile: CertFile is set, KeyFile is not" in run.stderr
    run = await getme(go_client, CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE=str(pki.checkout.key))
    assert run.returncode == 2, run.stderr
    assert "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE is not" in run.stderr
    assert "PRIVATE KEY" not in run.stderr
