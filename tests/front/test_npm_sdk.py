"""crypto-bot-api, an npm Crypto Pay SDK, against the HTTP front served over TLS (the SDK only
speaks HTTPS), with only its endpoint and token changed; the upstream is the emulator."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import uuid
from pathlib import Path

import aiohttp

from sidecar.emulator.runner import RunningEmulator
from sidecar.policy.identity import new_token
from sidecar.telemetry import metrics
from sidecar.tls import API, TlsSettings
from tests.certs import CertificateAuthority
from tests.conftest import EmulatorControl, start_sidecar
from tests.front.test_python_sdks import LIMITED, POLICY, SHOP
from tests.helpers import REPO

SCRIPT = Path(__file__).with_name("npm_sdk.js")


async def test_crypto_bot_api_from_npm(
    node: str,
    emulator: RunningEmulator,
    token: str,
    tmp_path: Path,
    control: EmulatorControl,
) -> None:
    ca = CertificateAuthority(tmp_path / "pki")
    # The SDK accepts an endpoint with a dotted domain or an IPv4 address, not "localhost".
    server = ca.issue("front", server=True, ips=("127.0.0.1",))
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    tls = TlsSettings(cert=str(server.cert), key=str(server.key), listeners=frozenset((API,)))
    running = await start_sidecar(
        emulator, token, policy_path=str(policy), api_listen="127.0.0.1:0", tls=tls
    )
    try:
        await control.request("PUT", "balances", token, {"USDT": "1000"})
        endpoint = f"https://127.0.0.1:{running.sidecar.api_port}/api"
        env = {
            **os.environ,
            "NODE_EXTRA_CA_CERTS": str(ca.cert),  # trust the sidecar's CA, as Node allows
            "FRONT_ENDPOINT": endpoint,
            "SHOP_TOKEN": SHOP,
            "LIMITED_TOKEN": LIMITED,
            "STRANGER_TOKEN": new_token(),
            "SPEND_ID": uuid.uuid4().hex,
        }
        denied_before = denied_over_http()
        done = await _run(node, env)
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout)
        assert seen["me"]["id"] > 0
        assert seen["invoice"]["amount"] == "1.5" and seen["invoice"]["status"] == "active"
        assert seen["found"] == [seen["invoice"]["id"]]
        assert len(seen["checks"]) == 1 and len(seen["transfers"]) == 1
        assert seen["deleted"] is True
        # Refusals reach the SDK as its own errors, with Crypto Pay's code and name.
        assert seen["denied"] == 'Api response error {"code":403,"name":"POLICY_DENIED"}'
        assert seen["limited"] == 'Api response error {"code":429,"name":"RATE_LIMITED"}'
        assert seen["unknown"] == 'Api response error {"code":401,"name":"UNAUTHORIZED"}'
        # Counted with the gRPC calls' metrics, under the protocol label of the front.
        assert denied_over_http() == denied_before + 1

        # The SDK cannot send a header per call: the replay of a create with the same
        # Idempotency-Key is checked with a raw HTTPS client against the same front.
        context = ssl.create_default_context(cafile=str(ca.cert))
        key = uuid.uuid4().hex
        headers = {"Crypto-Pay-API-Token": SHOP, "Idempotency-Key": key}
        answers = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
            for _ in range(2):
                body = {"asset": "USDT", "amount": "4"}
                async with http.post(f"{endpoint}/createInvoice", json=body, headers=headers) as r:
                    answers.append((r.status, r.headers.get("Idempotent-Replayed"), await r.json()))
        (first_status, first_replayed, first), (again_status, replayed, again) = answers
        assert (first_status, again_status) == (200, 200)
        assert first_replayed is None and replayed == "true"
        assert again["result"]["invoice_id"] == first["result"]["invoice_id"]
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


def denied_over_http() -> float:
    labels = {"method": "CreateInvoice", "code": "PERMISSION_DENIED", "protocol": "http"}
    return metrics.REGISTRY.get_sample_value("cryptopay_sidecar_rpcs_total", labels) or 0.0


async def _run(node_binary: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # In a thread: the sidecar serving the script runs on this event loop.
    return await asyncio.to_thread(
        subprocess.run,
        [node_binary, str(SCRIPT)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
