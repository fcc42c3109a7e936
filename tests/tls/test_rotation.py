"""A certificate rotated on disk (the Secret volume's symlink swap) is served to new
connections within seconds, while established calls and Subscribe streams keep going."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest
from cryptography import x509

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.server import Sidecar
from sidecar.tls import API, GRPC, WEBHOOK
from tests.helpers import eventually
from tests.tls.conftest import (
    Pki,
    SecretVolume,
    channel,
    served_certificate,
    start,
    stub,
    tls_settings,
)
from tests.webhooks.conftest import Events, WebhookStub, post_signed, subscribed, update_body


def der(pem: bytes) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


async def served_within(port: int, pki: Pki, expected: bytes, seconds: float = 10.0) -> float:
    """Seconds until a new connection to `port` is served `expected` (DER)."""
    started = time.monotonic()

    async def served() -> bool:
        return await served_certificate(port, pki) == expected

    await eventually(served, f"the new certificate on {port}", within=seconds)
    return time.monotonic() - started


async def test_a_rotated_certificate_reaches_new_connections_while_a_stream_survives(
    emulator: RunningEmulator,
    token: str,
    pki: Pki,
    volume: SecretVolume,
    running: list[Sidecar],
    http_session: aiohttp.ClientSession,
) -> None:
    settings = tls_settings(volume, mutual=True, listeners=frozenset((GRPC, API)))
    sidecar = await start(emulator, token, settings, api_listen="127.0.0.1:0")
    running.append(sidecar)
    port = sidecar.grpc_port
    assert await served_certificate(port, pki) == der(pki.server.cert_pem)

    old = channel(port, pki, pki.checkout)
    events = Events(WebhookStub(old).Subscribe(wpb.SubscribeRequest()))
    await subscribed(sidecar)  # on the old certificate's connection
    webhook_url = sidecar.webhook_url()
    assert webhook_url is not None
    status, _ = await post_signed(http_session, webhook_url, token, update_body(1001))
    assert status == 200
    assert [e.invoice.invoice_id for e in await events.take(1)] == [1001]

    renewed = pki.ca.issue("server-renewed", server=True)
    volume.write(renewed.cert_pem, renewed.key_pem, pki.ca.cert_pem)
    await served_within(port, pki, der(renewed.cert_pem))
    await served_within(sidecar.api_port, pki, der(renewed.cert_pem))

    # The stream opened before the rotation still delivers, and its channel still calls.
    status, _ = await post_signed(http_session, webhook_url, token, update_body(1002))
    assert status == 200
    assert [e.invoice.invoice_id for e in await events.take(1)] == [1002]
    assert (await stub(old).GetMe(pb.GetMeRequest(), timeout=5)).app.app_id > 0
    # New channels handshake with the renewed certificate.
    async with channel(port, pki, pki.checkout) as fresh:
        assert (await stub(fresh).GetMe(pb.GetMeRequest(), timeout=5)).app.app_id > 0
    events.call.cancel()
    await old.close(None)


async def test_files_that_do_not_load_keep_the_previous_certificate(
    emulator: RunningEmulator,
    token: str,
    pki: Pki,
    volume: SecretVolume,
    running: list[Sidecar],
    caplog: pytest.LogCaptureFixture,
) -> None:
    listeners = frozenset((GRPC, WEBHOOK))
    sidecar = await start(emulator, token, tls_settings(volume, mutual=False, listeners=listeners))
    running.append(sidecar)
    caplog.set_level(logging.INFO, logger="sidecar.tls")
    other = pki.ca.issue("mismatched", server=True)
    # A certificate with another certificate's key: a half-finished or botched renewal.
    volume.write(other.cert_pem, pki.server.key_pem, pki.ca.cert_pem)
    for _ in range(10):  # several reload intervals
        assert await served_certificate(sidecar.grpc_port, pki) == der(pki.server.cert_pem)
        assert await served_certificate(sidecar.http_port, pki) == der(pki.server.cert_pem)
        await asyncio.sleep(0.1)  # nothing may change meanwhile, so this waits a while
    refused = [r for r in caplog.records if "do not load" in r.getMessage()]
    assert len(refused) == 1, "logged once, not on every handshake"
    async with channel(sidecar.grpc_port, pki) as c:
        assert (await stub(c).GetMe(pb.GetMeRequest(), timeout=5)).app.app_id > 0
    # The renewal is fixed: served from then on.
    volume.write(other.cert_pem, other.key_pem, pki.ca.cert_pem)
    await served_within(sidecar.grpc_port, pki, der(other.cert_pem))
    await served_within(sidecar.http_port, pki, der(other.cert_pem))
