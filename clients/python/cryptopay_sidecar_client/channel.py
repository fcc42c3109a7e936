"""Channels to the sidecar with the settings a long-lived service wants.

- Keepalive every 30 s (the sidecar accepts pings down to every 10 s), so a dead connection is
  noticed in seconds, not at the next call's deadline.
- Fast reconnects (at most 5 s apart): a sidecar restarting in the same pod is back quickly.
- Reads (Get*) are retried by gRPC itself on UNAVAILABLE, with backoff and retry throttling.
  Mutating calls are never retried by the channel: use `call_idempotent` with a key.
- A default deadline (30 s) for unary calls that set none, so nothing waits forever.
- Metadata added to every call (for example the caller identity a policy asks for).
- TLS or mTLS when asked for (`tls=True`, a CA file, a client certificate, or the
  CRYPTOPAY_SIDECAR_TLS* environment); plaintext otherwise (see `tls.py`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import grpc

from cryptopay_sidecar_client import tls as _tls

if TYPE_CHECKING:
    _AioUnaryUnary = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _AioUnaryStream = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.UnaryStreamClientInterceptor[Any, Any]
else:
    _AioUnaryUnary = grpc.aio.UnaryUnaryClientInterceptor
    _AioUnaryStream = grpc.aio.UnaryStreamClientInterceptor
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.UnaryStreamClientInterceptor

DEFAULT_TARGET = "127.0.0.1:50051"
TARGET_ENV = "CRYPTOPAY_SIDECAR_TARGET"
SERVICE = "cryptopay.v1.CryptoPayService"
# Calls with no effect upstream: safe for the channel to send again.
READ_METHODS = (
    "GetMe",
    "GetInvoices",
    "GetTransfers",
    "GetChecks",
    "GetBalance",
    "GetExchangeRates",
    "GetCurrencies",
    "GetStats",
)

Metadata = Sequence[tuple[str, str]]


def resolve_target(target: str | None = None) -> str:
    """The explicit target, else $CRYPTOPAY_SIDECAR_TARGET, else the sidecar's default port."""
    return target or os.environ.get(TARGET_ENV) or DEFAULT_TARGET


def service_config(retry_reads: bool = True) -> dict[str, Any]:
    """The gRPC service config: retries for reads only, throttled when most calls fail."""
    if not retry_reads:
        return {}
    return {
        "methodConfig": [
            {
                "name": [{"service": SERVICE, "method": method} for method in READ_METHODS],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
        # Stop retrying when more than about 1 call in 10 fails, so retries cannot pile up.
        "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
    }


def channel_options(
    *,
    retry_reads: bool = True,
    keepalive_seconds: float = 30.0,
    extra: Sequence[tuple[str, Any]] = (),
) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = [
        ("grpc.keepalive_time_ms", int(keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 5_000),
        # The sidecar sends up to 16 MiB (large getInvoices pages).
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
        ("grpc.enable_retries", 1 if retry_reads else 0),
        ("grpc.service_config", json.dumps(service_config(retry_reads), sort_keys=True)),
    ]
    return options + list(extra)


def _with_metadata(existing: Any, extra: Metadata) -> list[tuple[str, Any]]:
    current = list(existing or ())
    present = {key for key, _ in current}
    return current + [(key, value) for key, value in extra if key not in present]


class _AioDefaults(_AioUnaryUnary, _AioUnaryStream):
    def __init__(self, metadata: Metadata, default_timeout: float | None) -> None:
        self._metadata = tuple(metadata)
        self._timeout = default_timeout

    def _details(self, details: Any, unary: bool) -> grpc.aio.ClientCallDetails:
        timeout = details.timeout
        if timeout is None and unary:
            timeout = self._timeout
        return grpc.aio.ClientCallDetails(
            details.method,
            timeout,
            grpc.aio.Metadata(*_with_metadata(details.metadata, self._metadata)),
            details.credentials,
            details.wait_for_ready,
        )

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(details, unary=True), request)

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(details, unary=False), request)


class _SyncCallDetails(grpc.ClientCallDetails):
    def __init__(self, base: Any, timeout: float | None, metadata: list[tuple[str, Any]]) -> None:
        self.method = base.method
        self.timeout = timeout
        self.metadata = cast(Any, metadata)
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class _SyncDefaults(_UnaryUnary, _UnaryStream):
    def __init__(self, metadata: Metadata, default_timeout: float | None) -> None:
        self._metadata = tuple(metadata)
        self._timeout = default_timeout

    def _details(self, details: Any, unary: bool) -> _SyncCallDetails:
        timeout = details.timeout
        if timeout is None and unary:
            timeout = self._timeout
        return _SyncCallDetails(details, timeout, _with_metadata(details.metadata, self._metadata))

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details, unary=True), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details, unary=False), request)


def aio_channel(
    target: str | None = None,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    metadata: Metadata = (),
    default_timeout: float | None = 30.0,
    retry_reads: bool = True,
    keepalive_seconds: float = 30.0,
    options: Sequence[tuple[str, Any]] = (),
    tls: bool | None = None,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    server_name: str | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel to the sidecar: plaintext, or TLS as `tls`, `ca_file`, `cert_file`,
    `key_file` and `server_name` (or their CRYPTOPAY_SIDECAR_* variables) ask; `credentials`
    of your own replace all of those.

    Create it inside the running event loop that will use it."""
    address = resolve_target(target)
    credentials, extra = _security(credentials, tls, ca_file, cert_file, key_file, server_name)
    opts = channel_options(
        retry_reads=retry_reads, keepalive_seconds=keepalive_seconds, extra=[*extra, *options]
    )
    interceptors = cast(Any, [_AioDefaults(metadata, default_timeout)])
    if credentials is None:
        return grpc.aio.insecure_channel(address, options=opts, interceptors=interceptors)
    return grpc.aio.secure_channel(address, credentials, options=opts, interceptors=interceptors)


def channel(
    target: str | None = None,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    metadata: Metadata = (),
    default_timeout: float | None = 30.0,
    retry_reads: bool = True,
    keepalive_seconds: float = 30.0,
    options: Sequence[tuple[str, Any]] = (),
    tls: bool | None = None,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    server_name: str | None = None,
) -> grpc.Channel:
    """A blocking channel to the sidecar, with the same defaults and TLS options as
    `aio_channel`."""
    address = resolve_target(target)
    credentials, extra = _security(credentials, tls, ca_file, cert_file, key_file, server_name)
    opts = channel_options(
        retry_reads=retry_reads, keepalive_seconds=keepalive_seconds, extra=[*extra, *options]
    )
    base = (
        grpc.insecure_channel(address, options=opts)
        if credentials is None
        else grpc.secure_channel(address, credentials, options=opts)
    )
    return grpc.intercept_channel(base, _SyncDefaults(metadata, default_timeout))


def _security(
    credentials: grpc.ChannelCredentials | None,
    tls: bool | None,
    ca_file: str | None,
    cert_file: str | None,
    key_file: str | None,
    server_name: str | None,
) -> tuple[grpc.ChannelCredentials | None, list[tuple[str, Any]]]:
    """The channel credentials and the options they need (None: plaintext)."""
    if credentials is not None:
        if tls or any(v is not None for v in (ca_file, cert_file, key_file, server_name)):
            raise _tls.TlsConfigError(
                "pass either credentials or the TLS options (tls, ca_file, cert_file, key_file, "
                "server_name), not both"
            )
        return credentials, []
    resolved = _tls.resolve_tls(
        tls, ca_file=ca_file, cert_file=cert_file, key_file=key_file, server_name=server_name
    )
    if resolved is None:
        return None, []
    return _tls.credentials(resolved), list(_tls.channel_options(resolved))
