"""A public key infrastructure made for the TLS tests, and sidecars serving it.

The certificate directory is laid out the way a Kubernetes Secret volume is (the files are
symlinks through `..data` to a timestamped directory), so a rotation is the same atomic symlink
swap the kubelet and cert-manager perform.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.server import Sidecar
from sidecar.tls import TlsSettings
from tests.certs import CertificateAuthority, Issued
from tests.conftest import start_sidecar

CHECKOUT_ID = "spiffe://cluster.local/ns/shop/sa/checkout"
STRANGER_ID = "spiffe://cluster.local/ns/shop/sa/stranger"


@dataclass(frozen=True)
class Pki:
    ca: CertificateAuthority
    other_ca: CertificateAuthority
    server: Issued
    checkout: Issued  # a client whose SPIFFE id the policies name
    stranger: Issued  # the same CA, a SPIFFE id no policy names
    expired: Issued
    foreign: Issued  # the checkout id, issued by another CA


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(root / "ca", "sidecar-test-ca")
    other = CertificateAuthority(root / "other", "another-ca")
    return Pki(
        ca=ca,
        other_ca=other,
        server=ca.issue("server", server=True),
        checkout=ca.issue("checkout", uris=(CHECKOUT_ID,)),
        stranger=ca.issue("stranger", uris=(STRANGER_ID,)),
        expired=ca.issue("expired", uris=(CHECKOUT_ID,), expired=True),
        foreign=other.issue("foreign", uris=(CHECKOUT_ID,)),
    )


class SecretVolume:
    """tls.crt, tls.key and ca.crt as a Secret volume holds them: symlinks via ..data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.generation = 0
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def cert(self) -> str:
        return str(self.directory / "tls.crt")

    @property
    def key(self) -> str:
        return str(self.directory / "tls.key")

    @property
    def ca(self) -> str:
        return str(self.directory / "ca.crt")

    def write(self, cert: bytes, key: bytes, ca: bytes) -> None:
        self.generation += 1
        version = self.directory / f"..v{self.generation}"
        version.mkdir()
        (version / "tls.crt").write_bytes(cert)
        (version / "tls.key").write_bytes(key)
        (version / "ca.crt").write_bytes(ca)
        staged = self.directory / "..data_tmp"
        staged.symlink_to(version.name)
        os.replace(staged, self.directory / "..data")  # the atomic swap
        for name in ("tls.crt", "tls.key", "ca.crt"):
            link = self.directory / name
            if not link.is_symlink():
                link.symlink_to(f"..data/{name}")
        for old in self.directory.glob("..v*"):
            if old != version:
                shutil.rmtree(old)


@pytest.fixture
def volume(tmp_path: Path, pki: Pki) -> SecretVolume:
    secret = SecretVolume(tmp_path / "tls")
    secret.write(pki.server.cert_pem, pki.server.key_pem, pki.ca.cert_pem)
    return secret


def tls_settings(volume: SecretVolume, mutual: bool, **overrides: Any) -> TlsSettings:
    return TlsSettings(
        cert=volume.cert,
        key=volume.key,
        client_ca=volume.ca if mutual else None,
        reload_interval=0.2,
        **overrides,
    )


async def start(
    emulator: RunningEmulator, token: str, tls: TlsSettings, **overrides: Any
) -> Sidecar:
    """A sidecar serving `tls`; the tests dial it with channels of their own."""
    running = await start_sidecar(emulator, token, tls=tls, **overrides)
    await running.channel.close(None)  # the plaintext channel start_sidecar opens is not used
    return running.sidecar


@pytest.fixture
async def running() -> AsyncIterator[list[Sidecar]]:
    """Sidecars a test starts, stopped after it."""
    started: list[Sidecar] = []
    yield started
    for sidecar in started:
        await sidecar.stop()


# The policy the clients' TLS tests run under mTLS: the checkout certificate may call GetMe.
CLIENT_POLICY = f"""
version: 1
identity: {{required: true, from: certificate}}
defaults: {{rpcs: {{allow: []}}}}
callers:
  checkout:
    certificate: {{spiffe_ids: ["{CHECKOUT_ID}"]}}
    rpcs: {{allow: [GetMe]}}
"""


@pytest.fixture
async def tls_sidecar(
    emulator: RunningEmulator, token: str, volume: SecretVolume, running: list[Sidecar]
) -> Sidecar:
    """A sidecar serving TLS, without client certificates."""
    started = await start(emulator, token, tls_settings(volume, mutual=False))
    running.append(started)
    return started


@pytest.fixture
async def mtls_sidecar(
    emulator: RunningEmulator,
    token: str,
    volume: SecretVolume,
    tmp_path: Path,
    running: list[Sidecar],
) -> Sidecar:
    """A sidecar requiring client certificates, under CLIENT_POLICY."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(CLIENT_POLICY)
    started = await start(
        emulator, token, tls_settings(volume, mutual=True), policy_path=str(policy)
    )
    running.append(started)
    return started


def target(sidecar: Sidecar) -> str:
    """Where a client dials `sidecar`: the server certificate names localhost."""
    return f"localhost:{sidecar.grpc_port}"


def channel(
    port: int, pki: Pki, client: Issued | None = None, ca: CertificateAuthority | None = None
) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(ca or pki.ca).cert_pem,
        private_key=client.key_pem if client else None,
        certificate_chain=client.cert_pem if client else None,
    )
    return grpc.aio.secure_channel(f"localhost:{port}", credentials)


def stub(channel: grpc.aio.Channel) -> pb_grpc.CryptoPayServiceAsyncStub:
    return pb_grpc.CryptoPayServiceStub(channel)


def client_context(
    pki: Pki, client: Issued | None = None, ca: CertificateAuthority | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str((ca or pki.ca).cert))
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context


async def served_certificate(port: int, pki: Pki) -> bytes:
    """The DER certificate a new TLS connection to `port` is served."""
    context = client_context(pki)
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname="localhost"
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        assert der is not None
        return bytes(der)
    finally:
        writer.close()
