"""TLS and mTLS to a sidecar whose gRPC listener serves TLS (``--tls-cert``, ``--tls-client-ca``).

Plaintext stays the default: a sidecar in the same pod listens on loopback. TLS is on when asked
for (``tls=True``, ``$CRYPTOPAY_SIDECAR_TLS``) or implied by a CA file or a client certificate.
The server is verified against the system's trust store unless a CA file is given; a client
certificate and its key make it mTLS, which lets a policy know the caller by its SPIFFE id.
Explicit arguments win over the environment.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

TLS_ENV = "CRYPTOPAY_SIDECAR_TLS"
CA_FILE_ENV = "CRYPTOPAY_SIDECAR_CA_FILE"
CLIENT_CERT_FILE_ENV = "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE"
CLIENT_KEY_FILE_ENV = "CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE"
SERVER_NAME_ENV = "CRYPTOPAY_SIDECAR_SERVER_NAME"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class TlsConfigError(ValueError):
    """TLS options that cannot work together, or a file that cannot be read."""


@dataclass(frozen=True)
class TlsOptions:
    """What a channel needs to speak TLS: PEM file paths, and the name the server's certificate
    must carry when it differs from the target's host (``grpc.ssl_target_name_override``)."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None

    @property
    def mutual(self) -> bool:
        return self.cert_file is not None


def resolve_tls(
    tls: bool | None = None,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    server_name: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> TlsOptions | None:
    """The TLS options these arguments and the environment ask for, or None for plaintext.

    Each argument left as None falls back to its environment variable; ``tls=False`` forces
    plaintext whatever the environment says (and refuses files given alongside)."""
    env = os.environ if environ is None else environ
    ca_file = ca_file or env.get(CA_FILE_ENV) or None
    cert_file = cert_file or env.get(CLIENT_CERT_FILE_ENV) or None
    key_file = key_file or env.get(CLIENT_KEY_FILE_ENV) or None
    server_name = server_name or env.get(SERVER_NAME_ENV) or None
    if (cert_file is None) != (key_file is None):
        given, missing = (
            ("cert_file", "key_file") if key_file is None else ("key_file", "cert_file")
        )
        raise TlsConfigError(
            f"a client certificate needs both cert_file and key_file: {given} is set, "
            f"{missing} is not (or ${CLIENT_CERT_FILE_ENV} / ${CLIENT_KEY_FILE_ENV})"
        )
    implied = any(v is not None for v in (ca_file, cert_file, server_name))
    if tls is None:
        tls = implied or _env_flag(env)
    elif not tls and implied:
        raise TlsConfigError(
            "tls=False with ca_file, cert_file or server_name set: drop them, or enable TLS"
        )
    if not tls:
        return None
    return TlsOptions(ca_file, cert_file, key_file, server_name)


def _env_flag(env: Mapping[str, str]) -> bool:
    value = env.get(TLS_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise TlsConfigError(f"${TLS_ENV} must be true or false, not {value!r}")


def credentials(options: TlsOptions) -> grpc.ChannelCredentials:
    """Channel credentials for `options` (the files are read now, so a bad path fails here)."""
    roots = _read("ca_file", options.ca_file) if options.ca_file is not None else _system_roots()
    if options.mutual:
        return grpc.ssl_channel_credentials(
            root_certificates=roots,
            private_key=_read("key_file", options.key_file),
            certificate_chain=_read("cert_file", options.cert_file),
        )
    return grpc.ssl_channel_credentials(root_certificates=roots)


def channel_options(options: TlsOptions) -> list[tuple[str, str]]:
    """The channel options TLS adds: the expected server name, when one is set."""
    if options.server_name is None:
        return []
    return [("grpc.ssl_target_name_override", options.server_name)]


def _read(what: str, path: str | None) -> bytes:
    assert path is not None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{what} {path}: cannot be read ({exc.strerror})") from None
    if b"-----BEGIN " not in data:
        raise TlsConfigError(f"{what} {path}: not a PEM file")
    return data


def _system_roots() -> bytes | None:
    """The system's trust store (what the OS and curl trust), else gRPC's bundled roots."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            try:
                return Path(candidate).read_bytes()
            except OSError:
                continue
    return None
