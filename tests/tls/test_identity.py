"""Callers identified by the SPIFFE id of their verified client certificate, over real mTLS."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.policy.identity import key_digest
from sidecar.server import Sidecar
from sidecar.telemetry import metrics
from tests.conftest import EmulatorControl
from tests.helpers import rich_details
from tests.tls.conftest import CHECKOUT_ID, Pki, SecretVolume, channel, start, stub, tls_settings

LEGACY_KEY = "legacy-service-key"
POLICY = f"""
version: 1
identity: {{required: true, from: either}}
defaults: {{rpcs: {{allow: []}}}}
callers:
  checkout:
    certificate: {{spiffe_ids: ["{CHECKOUT_ID}"]}}
    rpcs: {{allow: [CreateInvoice]}}
    assets: {{allow: [USDT]}}
  legacy:
    key_sha256: {key_digest(LEGACY_KEY)}
    rpcs: {{allow: [GetMe]}}
"""


@pytest.fixture
async def sidecar(
    emulator: RunningEmulator,
    token: str,
    volume: SecretVolume,
    tmp_path: Path,
    running: list[Sidecar],
) -> Sidecar:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    started = await start(
        emulator, token, tls_settings(volume, mutual=True), policy_path=str(policy)
    )
    running.append(started)
    return started


def reason(error: grpc.aio.AioRpcError) -> str:
    return str(rich_details(error)["ErrorInfo"].reason)


async def test_a_spiffe_id_caller_is_allowed_exactly_what_the_policy_allows(
    sidecar: Sidecar, pki: Pki, control: EmulatorControl, token: str
) -> None:
    async with channel(sidecar.grpc_port, pki, pki.checkout) as c:
        created = await stub(c).CreateInvoice(
            pb.CreateInvoiceRequest(asset="USDT", amount="1.5"), timeout=5
        )
        assert created.invoice.invoice_id > 0
        for call in (
            stub(c).CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"), timeout=5),
            stub(c).GetMe(pb.GetMeRequest(), timeout=5),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert rich_details(caught.value)["ErrorInfo"].metadata["caller"] == "checkout"
    assert await control.api_requests(token) == 1  # only the allowed call went upstream


async def test_headers_cannot_claim_a_caller_defined_by_its_certificate(
    sidecar: Sidecar,
    pki: Pki,
    control: EmulatorControl,
    token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = (
        metrics.REGISTRY.get_sample_value(
            "cryptopay_sidecar_policy_decisions_total",
            {"rule": "identity", "mode": "enforce", "result": "deny"},
        )
        or 0.0
    )
    claim = (("x-cryptopay-caller", "checkout"), ("x-cryptopay-caller-key", LEGACY_KEY))
    caplog.set_level(logging.INFO)
    # Another workload's certificate from the same CA, naming checkout in its metadata.
    async with channel(sidecar.grpc_port, pki, pki.stranger) as c:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(c).CreateInvoice(
                pb.CreateInvoiceRequest(asset="USDT", amount="1"), metadata=claim, timeout=5
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason(caught.value) == "CALLER_NEEDS_CERTIFICATE"
        assert "spiffe://cluster.local/ns/shop/sa/stranger" in (caught.value.details() or "")
        assert LEGACY_KEY not in (caught.value.details() or "")
        # The same connection may still be the key-identified caller it proves.
        legacy = (("x-cryptopay-caller", "legacy"), ("x-cryptopay-caller-key", LEGACY_KEY))
        assert (await stub(c).GetMe(pb.GetMeRequest(), metadata=legacy, timeout=5)).app.app_id
        # A certificate that names no caller, with no key: refused with the reason.
        with pytest.raises(grpc.aio.AioRpcError) as unnamed:
            await stub(c).GetMe(pb.GetMeRequest(), timeout=5)
        assert unnamed.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason(unnamed.value) == "CALLER_REQUIRED"
    # The checkout certificate claiming another caller in its metadata.
    async with channel(sidecar.grpc_port, pki, pki.checkout) as c:
        with pytest.raises(grpc.aio.AioRpcError) as mismatch:
            await stub(c).GetMe(pb.GetMeRequest(), metadata=legacy, timeout=5)
        assert reason(mismatch.value) == "CALLER_MISMATCH"
    assert await control.api_requests(token) == 1  # the legacy GetMe only
    after = metrics.REGISTRY.get_sample_value(
        "cryptopay_sidecar_policy_decisions_total",
        {"rule": "identity", "mode": "enforce", "result": "deny"},
    )
    assert after == before + 3
    denials = [r for r in caplog.records if r.getMessage() == "policy denied the call"]
    assert [getattr(r, "peer", None) for r in denials] == [
        "spiffe://cluster.local/ns/shop/sa/stranger",
        "spiffe://cluster.local/ns/shop/sa/stranger",
        CHECKOUT_ID,
    ]
