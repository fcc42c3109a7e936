"""The Python client's TLS and mTLS options against a sidecar serving real certificates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from cryptopay_sidecar_client import CryptoPayServiceStub, TlsConfigError, aio_channel, pb
from cryptopay_sidecar_client import channel as sync_channel
from cryptopay_sidecar_client.tls import (
    CA_FILE_ENV,
    CLIENT_CERT_FILE_ENV,
    CLIENT_KEY_FILE_ENV,
    SERVER_NAME_ENV,
)

from sidecar.server import Sidecar
from tests.helpers import rich_details
from tests.tls.conftest import Pki, target


async def test_tls_with_a_ca_file(tls_sidecar: Sidecar, pki: Pki) -> None:
    async with aio_channel(target(tls_sidecar), ca_file=str(pki.ca.cert)) as chan:
        me = await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=5)
    assert me.app.app_id > 0


async def test_the_blocking_channel_takes_the_same_options(tls_sidecar: Sidecar, pki: Pki) -> None:
    def get_me() -> pb.GetMeResponse:
        with sync_channel(target(tls_sidecar), ca_file=str(pki.ca.cert)) as chan:
            return CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=5)

    # In a thread: the sidecar serves on this test's event loop.
    me = await asyncio.to_thread(get_me)
    assert me.app.app_id > 0


async def test_server_name_is_the_name_checked(tls_sidecar: Sidecar, pki: Pki) -> None:
    # The certificate names localhost (and 127.0.0.1): the name given is what is checked,
    # whatever the target says.
    address = f"127.0.0.1:{tls_sidecar.grpc_port}"
    async with aio_channel(address, ca_file=str(pki.ca.cert), server_name="localhost") as chan:
        me = await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=5)
    assert me.app.app_id > 0
    async with aio_channel(
        address, ca_file=str(pki.ca.cert), server_name="payments.example"
    ) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=3)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_plaintext_channel_is_refused_by_a_tls_port(tls_sidecar: Sidecar) -> None:
    async with aio_channel(target(tls_sidecar), tls=False) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=3)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_system_roots_do_not_trust_a_private_ca(tls_sidecar: Sidecar) -> None:
    async with aio_channel(target(tls_sidecar), tls=True) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=3)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_another_ca_is_refused(tls_sidecar: Sidecar, pki: Pki) -> None:
    async with aio_channel(target(tls_sidecar), ca_file=str(pki.other_ca.cert)) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=3)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mtls_caller_known_by_its_spiffe_id(mtls_sidecar: Sidecar, pki: Pki) -> None:
    async with aio_channel(
        target(mtls_sidecar),
        ca_file=str(pki.ca.cert),
        cert_file=str(pki.checkout.cert),
        key_file=str(pki.checkout.key),
    ) as chan:
        stub = CryptoPayServiceStub(chan)
        me = await stub.GetMe(pb.GetMeRequest(), timeout=5)
        assert me.app.app_id > 0
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetBalance(pb.GetBalanceRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rich_details(caught.value)["ErrorInfo"].metadata["caller"] == "checkout"


async def test_mtls_from_the_environment(
    mtls_sidecar: Sidecar, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CA_FILE_ENV, str(pki.ca.cert))
    monkeypatch.setenv(CLIENT_CERT_FILE_ENV, str(pki.checkout.cert))
    monkeypatch.setenv(CLIENT_KEY_FILE_ENV, str(pki.checkout.key))
    monkeypatch.setenv(SERVER_NAME_ENV, "localhost")
    async with aio_channel(f"127.0.0.1:{mtls_sidecar.grpc_port}") as chan:
        me = await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=5)
    assert me.app.app_id > 0


async def test_mtls_without_a_client_certificate_is_refused(
    mtls_sidecar: Sidecar, pki: Pki
) -> None:
    async with aio_channel(target(mtls_sidecar), ca_file=str(pki.ca.cert)) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=3)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_an_expired_client_certificate_is_refused(mtls_sidecar: Sidecar, pki: Pki) -> None:
    async with aio_channel(
        target(mtls_sidecar),
        ca_file=str(pki.ca.cert),
        cert_file=str(pki.expired.cert),
        key_file=str(pki.expired.key),
    ) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await CryptoPayServiceStub(chan).GetMe(pb.GetMeRequest(), timeout=3)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(TlsConfigError, match=f"ca_file {missing}: cannot be read"):
        aio_channel("localhost:1", ca_file=str(missing))
