"""Listeners by audience: the webhook listener (the one an Ingress exposes) serves the webhook
path only; metrics, health, /policy and /admin are on the admin listener; the HTTP front and
the webhook listener can serve TLS, the front mTLS."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.policy.identity import key_digest
from sidecar.server import Sidecar
from sidecar.tls import API, WEBHOOK, TlsSettings
from tests.conftest import start_sidecar
from tests.helpers import new_token
from tests.tls.conftest import (
    CHECKOUT_ID,
    Pki,
    SecretVolume,
    client_context,
    start,
    tls_settings,
)
from tests.webhooks.conftest import post_signed, update_body

FLUSH = "/admin/cache/flush"


async def test_admin_endpoints_are_refused_on_the_webhook_listener(
    emulator: RunningEmulator, token: str, http_session: aiohttp.ClientSession
) -> None:
    running = await start_sidecar(emulator, token, admin_listen="127.0.0.1:0")
    sidecar = running.sidecar
    try:
        public = f"http://127.0.0.1:{sidecar.http_port}"
        admin = f"http://127.0.0.1:{sidecar.admin_port}"
        assert sidecar.admin_port not in (0, sidecar.http_port)
        for method, path in (
            ("POST", FLUSH),
            ("GET", "/admin/cache"),
            ("GET", "/metrics"),
            ("GET", "/policy"),
            ("GET", "/readyz"),
            ("GET", "/healthz"),
        ):
            async with http_session.request(method, public + path) as response:
                assert response.status == 404, path
                assert "--admin-listen" in (await response.json())["error"]
        async with http_session.post(admin + FLUSH) as response:
            assert response.status == 200, await response.text()
        for path in ("/metrics", "/policy", "/readyz", "/healthz"):
            async with http_session.get(admin + path) as response:
                assert response.status == 200, path
        # Webhooks arrive on the public listener, and only there.
        assert (
            await post_signed(http_session, public + "/webhooks/cryptopay", token, update_body(7))
        )[0] == 200
        assert (
            await post_signed(http_session, admin + "/webhooks/cryptopay", token, update_body(8))
        )[0] == 404
    finally:
        await running.channel.close(None)
        await sidecar.stop()


async def test_one_http_listener_still_serves_everything_by_default(
    emulator: RunningEmulator, token: str, http_session: aiohttp.ClientSession
) -> None:
    running = await start_sidecar(emulator, token)
    try:
        base = f"http://127.0.0.1:{running.sidecar.http_port}"
        async with http_session.post(base + FLUSH) as response:
            assert response.status == 200
        async with http_session.get(base + "/metrics") as response:
            assert response.status == 200
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


async def test_the_webhook_listener_can_serve_tls(
    emulator: RunningEmulator, token: str, pki: Pki, volume: SecretVolume, running: list[Sidecar]
) -> None:
    settings = tls_settings(volume, mutual=True, listeners=frozenset((WEBHOOK,)))
    sidecar = await start(emulator, token, settings)
    running.append(sidecar)
    url = sidecar.webhook_url()
    assert url is not None and url.startswith("https://")
    # Crypto Pay presents no client certificate: the webhook listener never asks for one.
    connector = aiohttp.TCPConnector(ssl=client_context(pki))
    async with aiohttp.ClientSession(connector=connector) as session:
        status, _ = await post_signed(
            session, url.replace("127.0.0.1", "localhost"), token, update_body(9)
        )
    assert status == 200


async def test_the_http_front_under_mtls(
    emulator: RunningEmulator,
    token: str,
    pki: Pki,
    volume: SecretVolume,
    running: list[Sidecar],
    tmp_path: Path,
) -> None:
    shop_token, checkout_token = new_token(), new_token()
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"""
version: 1
identity: {{required: true, from: either}}
defaults: {{rpcs: {{allow: []}}}}
callers:
  shop: {{token_sha256: {key_digest(shop_token)}}}
  checkout:
    token_sha256: {key_digest(checkout_token)}
    certificate: {{spiffe_ids: ["{CHECKOUT_ID}"]}}
"""
    )
    settings = tls_settings(volume, mutual=True, listeners=frozenset((API,)))
    sidecar = await start(
        emulator, token, settings, api_listen="127.0.0.1:0", policy_path=str(policy)
    )
    running.append(sidecar)
    url = f"https://localhost:{sidecar.api_port}/api/getMe"

    async def get_me(context: ssl.SSLContext, caller_token: str) -> tuple[int, dict[str, object]]:
        connector = aiohttp.TCPConnector(ssl=context)
        headers = {"Crypto-Pay-API-Token": caller_token}
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(url, headers=headers) as r,
        ):
            return r.status, await r.json()

    assert (await get_me(client_context(pki, pki.checkout), checkout_token))[0] == 200
    assert (await get_me(client_context(pki, pki.stranger), shop_token))[0] == 200
    # checkout's token from another workload's certificate: the token alone does not prove it.
    status, body = await get_me(client_context(pki, pki.stranger), checkout_token)
    assert status == 401 and body["error"] == {"code": 401, "name": "CALLER_NEEDS_CERTIFICATE"}
    with pytest.raises(aiohttp.ClientError):
        await get_me(client_context(pki), shop_token)  # no client certificate


def test_tls_settings_say_where_mtls_applies() -> None:
    settings = TlsSettings(
        cert="c", key="k", client_ca="ca", listeners=frozenset(("grpc", "webhook"))
    )
    assert settings.mutual("grpc") and not settings.mutual("webhook") and not settings.on("api")
    assert settings.describe() == "grpc+mtls,webhook"
    assert TlsSettings().describe() == "off"
