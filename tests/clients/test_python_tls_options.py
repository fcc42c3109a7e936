"""How the Python client turns its TLS arguments and environment into channel security."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from cryptopay_sidecar_client import TlsConfigError, TlsOptions, resolve_tls
from cryptopay_sidecar_client import tls as client_tls
from cryptopay_sidecar_client.channel import aio_channel

from tests.certs import CertificateAuthority


def test_plaintext_by_default() -> None:
    assert resolve_tls(environ={}) is None


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on"])
def test_the_environment_turns_tls_on(value: str) -> None:
    assert resolve_tls(environ={client_tls.TLS_ENV: value}) == TlsOptions()


@pytest.mark.parametrize("value", ["", "0", "false", "off"])
def test_the_environment_can_say_plaintext(value: str) -> None:
    assert resolve_tls(environ={client_tls.TLS_ENV: value}) is None


def test_a_misspelt_flag_is_an_error() -> None:
    with pytest.raises(TlsConfigError, match="CRYPTOPAY_SIDECAR_TLS must be true or false"):
        resolve_tls(environ={client_tls.TLS_ENV: "yse"})


def test_a_ca_file_or_a_certificate_implies_tls() -> None:
    assert resolve_tls(ca_file="ca.pem", environ={}) == TlsOptions(ca_file="ca.pem")
    both = resolve_tls(cert_file="c.pem", key_file="k.pem", environ={})
    assert both == TlsOptions(cert_file="c.pem", key_file="k.pem")
    assert both.mutual


def test_arguments_win_over_the_environment() -> None:
    environ = {
        client_tls.CA_FILE_ENV: "env-ca.pem",
        client_tls.CLIENT_CERT_FILE_ENV: "env-cert.pem",
        client_tls.CLIENT_KEY_FILE_ENV: "env-key.pem",
        client_tls.SERVER_NAME_ENV: "env.example",
    }
    assert resolve_tls(ca_file="ca.pem", server_name="sidecar", environ=environ) == TlsOptions(
        "ca.pem", "env-cert.pem", "env-key.pem", "sidecar"
    )


def test_a_certificate_without_its_key_is_an_error() -> None:
    with pytest.raises(TlsConfigError, match="cert_file is set, key_file is not"):
        resolve_tls(cert_file="c.pem", environ={})
    with pytest.raises(TlsConfigError, match="key_file is set, cert_file is not"):
        resolve_tls(environ={client_tls.CLIENT_KEY_FILE_ENV: "k.pem"})


def test_tls_false_with_files_is_an_error() -> None:
    with pytest.raises(TlsConfigError, match="tls=False with ca_file"):
        resolve_tls(False, ca_file="ca.pem", environ={})
    # ... but it overrides the on/off variable alone.
    assert resolve_tls(False, environ={client_tls.TLS_ENV: "1"}) is None


def test_server_name_becomes_the_target_name_override() -> None:
    assert client_tls.channel_options(TlsOptions(server_name="sidecar.shop")) == [
        ("grpc.ssl_target_name_override", "sidecar.shop")
    ]
    assert client_tls.channel_options(TlsOptions()) == []


def test_files_that_are_not_pem_are_named(tmp_path: Path) -> None:
    junk = tmp_path / "ca.der"
    junk.write_bytes(b"\x30\x82")
    with pytest.raises(TlsConfigError, match=f"ca_file {junk}: not a PEM file"):
        client_tls.credentials(TlsOptions(ca_file=str(junk)))


def test_credentials_from_real_files(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path / "ca")
    client = ca.issue("client", uris=("spiffe://cluster.local/ns/a/sa/b",))
    made = client_tls.credentials(
        TlsOptions(ca_file=str(ca.cert), cert_file=str(client.cert), key_file=str(client.key))
    )
    assert isinstance(made, grpc.ChannelCredentials)


def test_system_roots_are_the_trust_store_when_no_ca_is_given() -> None:
    roots = client_tls._system_roots()
    # Debian's ca-certificates bundle is on every machine this runs on; None would mean gRPC's
    # bundled roots, which this test would not tell apart.
    assert roots is not None and b"-----BEGIN CERTIFICATE-----" in roots


async def test_own_credentials_exclude_the_tls_options() -> None:
    with pytest.raises(TlsConfigError, match="either credentials or the TLS options"):
        aio_channel("localhost:1", credentials=grpc.ssl_channel_credentials(), ca_file="ca.pem")
