"""TLS settings from flags, and certificate files as the listeners see them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sidecar.cli import build_parser
from sidecar.config import ConfigError, Settings, settings_from_args
from sidecar.tls import CertificateFiles, TlsError, TlsSettings
from tests.certs import CertificateAuthority


def parse(*flags: str) -> Settings:
    return settings_from_args(build_parser().parse_args(["serve", "--demo", *flags]))


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


def test_flags_build_tls_settings(ca: CertificateAuthority) -> None:
    server = ca.issue("server", server=True)
    settings = parse(
        "--tls-cert", str(server.cert), "--tls-key", str(server.key),
        "--tls-client-ca", str(ca.cert), "--tls-listeners", "grpc, webhook",
        "--admin-listen", "127.0.0.1:9090",
    )  # fmt: skip
    assert settings.tls == TlsSettings(
        cert=str(server.cert),
        key=str(server.key),
        client_ca=str(ca.cert),
        listeners=frozenset(("grpc", "webhook")),
    )
    assert settings.admin_listen == "127.0.0.1:9090"
    assert parse().tls == TlsSettings() and not parse().tls.enabled
    assert parse().admin_listen is None


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-cert", "{cert}"], "--tls-cert needs --tls-key"),
        (["--tls-key", "{key}"], "--tls-key needs --tls-cert"),
        (["--tls-client-ca", "{ca}"], "--tls-client-ca needs --tls-cert and --tls-key"),
        (
            ["--tls-cert", "{cert}", "--tls-key", "{key}", "--tls-listeners", "grpc,ingress"],
            "unknown listener ingress (choose among grpc, api, webhook, admin)",
        ),
        (["--tls-cert", "/nowhere.crt", "--tls-key", "{key}"], "--tls-cert /nowhere.crt: no such"),
        (
            ["--tls-cert", "{cert}", "--tls-key", "{key}", "--tls-reload-interval", "0"],
            "--tls-reload-interval: must be between 0.1 and 3600 seconds",
        ),
    ],
)
def test_bad_tls_flags_say_what_to_fix(
    ca: CertificateAuthority, flags: list[str], message: str
) -> None:
    server = ca.issue("server", server=True)
    values = {"cert": str(server.cert), "key": str(server.key), "ca": str(ca.cert)}
    with pytest.raises(ConfigError) as caught:
        parse(*(f.format(**values) for f in flags))
    assert message in str(caught.value)


def test_a_key_that_does_not_match_is_refused_at_start(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    one, two = ca.issue("one", server=True), ca.issue("two", server=True)
    with pytest.raises(TlsError) as caught:
        CertificateFiles(TlsSettings(cert=str(one.cert), key=str(two.key)))
    assert "do not load as a PEM certificate chain and its private key" in str(caught.value)
    # The message names files, never their content.
    assert "PRIVATE KEY" not in str(caught.value)
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a bundle")
    with pytest.raises(TlsError, match="is not a PEM CA bundle"):
        CertificateFiles(TlsSettings(cert=str(one.cert), key=str(one.key), client_ca=str(garbage)))


def test_changed_files_are_read_again_after_the_interval(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    one, two = ca.issue("one", server=True), ca.issue("two", server=True)
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(one.cert_pem)
    key.write_bytes(one.key_pem)
    now = [0.0]
    settings = TlsSettings(cert=str(cert), key=str(key), reload_interval=5)
    files = CertificateFiles(settings, clock=lambda: now[0])
    first = files.current()
    assert first.cert == one.cert_pem and files.version == 0
    cert.write_bytes(two.cert_pem)
    key.write_bytes(two.key_pem)
    now[0] = 4.9
    assert files.current() is first  # not before the interval
    now[0] = 5.0
    assert files.current().cert == two.cert_pem and files.version == 1
    os.remove(key)  # a missing file keeps what is served
    now[0] = 10.0
    assert files.current().cert == two.cert_pem and files.version == 1
