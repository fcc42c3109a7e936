"""TLS for the listeners: settings, certificate files re-read when they change, and the
server credentials of gRPC and aiohttp built from them.

cert-manager and Kubernetes Secret volumes rotate a certificate by swapping a symlink, so both
files change at once, atomically. A connection takes the certificate that is current when its
handshake starts: established connections and streams keep theirs, new ones get the new one.
Files that do not load (a half-written pair, a key that does not match) keep the last good
material serving, and are logged once per change.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from sidecar import options

log = logging.getLogger(__name__)

GRPC = "grpc"
API = "api"
WEBHOOK = "webhook"
ADMIN = "admin"
LISTENERS = (GRPC, API, WEBHOOK, ADMIN)
# Client certificates are asked for where callers are identified; Crypto Pay's webhook sender
# has none, and monitoring reaches the admin listener from the pod network.
MUTUAL_LISTENERS = (GRPC, API)


class TlsError(ValueError):
    """Certificate files that cannot serve; the message names the file and the problem."""


@dataclass(frozen=True)
class TlsSettings:
    cert: str | None = None
    key: str | None = None
    client_ca: str | None = None
    listeners: frozenset[str] = frozenset(options.TLS_LISTENERS.default.split(","))
    reload_interval: float = options.TLS_RELOAD_INTERVAL.default

    @property
    def enabled(self) -> bool:
        return self.cert is not None

    def on(self, listener: str) -> bool:
        return self.enabled and listener in self.listeners

    def mutual(self, listener: str) -> bool:
        return self.on(listener) and self.client_ca is not None and listener in MUTUAL_LISTENERS

    def describe(self) -> str:
        if not self.enabled:
            return "off"
        names = [n for n in LISTENERS if n in self.listeners]
        return ",".join(n + ("+mtls" if self.mutual(n) else "") for n in names)


@dataclass(frozen=True)
class Material:
    cert: bytes
    key: bytes
    client_ca: bytes | None


def server_context(settings: TlsSettings, mutual: bool) -> ssl.SSLContext:
    """A TLS 1.2+ server context from the files as they are now; TlsError if they cannot serve."""
    assert settings.cert is not None and settings.key is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.cert, settings.key)
    except FileNotFoundError as exc:
        raise TlsError(f"{exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(
            f"--tls-cert {settings.cert} and --tls-key {settings.key} do not load as a PEM "
            f"certificate chain and its private key ({_reason(exc)})"
        ) from None
    if mutual:
        assert settings.client_ca is not None
        try:
            context.load_verify_locations(cafile=settings.client_ca)
        except FileNotFoundError:
            raise TlsError(f"{settings.client_ca}: no such file") from None
        except (ssl.SSLError, OSError) as exc:
            raise TlsError(
                f"--tls-client-ca {settings.client_ca} is not a PEM CA bundle ({_reason(exc)})"
            ) from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _reason(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__


def _read(path: str | None) -> bytes | None:
    return None if path is None else Path(path).read_bytes()


class CertificateFiles:
    """The certificate, key and client CA as last loaded successfully.

    `current()` looks at the files at most every `reload_interval` seconds; it is called on
    handshakes, from gRPC's threads as well as the event loop.
    """

    def __init__(self, settings: TlsSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._checked = clock()
        self._refused: Material | None = None
        self.version = 0
        self._material = self._load()  # TlsError at start-up: the sidecar refuses to start

    def _load(self) -> Material:
        s = self.settings
        try:
            before = Material(_read(s.cert) or b"", _read(s.key) or b"", _read(s.client_ca))
        except OSError as exc:
            raise TlsError(f"{exc.filename}: {exc.strerror}") from None
        server_context(s, s.client_ca is not None)  # the pair and the bundle load
        after = Material(_read(s.cert) or b"", _read(s.key) or b"", _read(s.client_ca))
        if after != before:
            raise TlsError("the certificate files changed while they were read")
        return before

    def current(self) -> Material:
        now = self._clock()
        if now - self._checked < self.settings.reload_interval:
            return self._material
        with self._lock:
            if now - self._checked < self.settings.reload_interval:
                return self._material
            self._checked = now
            self._refresh()
            return self._material

    def _refresh(self) -> None:
        s = self.settings
        try:
            seen = Material(_read(s.cert) or b"", _read(s.key) or b"", _read(s.client_ca))
        except OSError as exc:
            seen = None
            problem = f"{exc.filename}: {exc.strerror}"
        else:
            if seen == self._material:
                return
            problem = ""
        if seen is not None and seen == self._refused:
            return  # already logged
        try:
            if seen is None:
                raise TlsError(problem)
            material = self._load()
        except TlsError as exc:
            if seen is None or seen != self._refused:
                log.error(
                    "TLS certificate files changed but do not load; still serving the previous "
                    "certificate",
                    extra={"problem": str(exc)},
                )
            self._refused = seen
            return
        self._material, self._refused = material, None
        self.version += 1
        log.info("TLS certificate reloaded", extra={"cert": s.cert, "version": self.version})


def grpc_credentials(files: CertificateFiles, mutual: bool) -> grpc.ServerCredentials:
    """Server credentials that ask `files` for the certificate on each new handshake."""

    def configuration(material: Material) -> Any:
        return grpc.ssl_server_certificate_configuration(
            [(material.key, material.cert)],
            root_certificates=material.client_ca if mutual else None,
        )

    served = [files.current()]

    def fetch() -> Any:
        # None keeps the configuration gRPC already has; it calls this before each handshake.
        material = files.current()
        if material is served[0]:
            return None
        served[0] = material
        return configuration(material)

    return grpc.dynamic_ssl_server_credentials(
        configuration(served[0]), fetch, require_client_authentication=mutual
    )


class ContextRotation:
    """An aiohttp listener's SSLContext that hands each new handshake the current certificate.

    The listening socket keeps one context; its SNI callback (run for every ClientHello, with or
    without a server name) moves the connection onto a context built from the current files.
    """

    def __init__(self, files: CertificateFiles, mutual: bool) -> None:
        self.files = files
        self.mutual = mutual
        self._version = files.version
        self._current = server_context(files.settings, mutual)
        self.context = server_context(files.settings, mutual)
        self.context.sni_callback = self._on_hello

    def _on_hello(self, connection: Any, _server_name: str | None, _context: Any) -> None:
        self.files.current()
        if self.files.version != self._version:
            # Files that do not load were logged by CertificateFiles; the previous context
            # keeps serving.
            with contextlib.suppress(TlsError):
                self._current = server_context(self.files.settings, self.mutual)
            self._version = self.files.version
        connection.context = self._current
