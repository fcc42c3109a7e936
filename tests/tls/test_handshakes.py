"""Real handshakes with the gRPC listener: who gets in under TLS and under mTLS."""

from __future__ import annotations

import asyncio
import ssl

import grpc
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.server import Sidecar
from tests.certs import Issued
from tests.conftest import EmulatorControl
from tests.tls.conftest import (
    Pki,
    SecretVolume,
    channel,
    client_context,
    start,
    stub,
    tls_settings,
)


async def get_me(port: int, pki: Pki, client: Issued | None = None) -> pb.GetMeResponse:
    async with channel(port, pki, client) as c:
        response: pb.GetMeResponse = await stub(c).GetMe(pb.GetMeRequest(), timeout=5)
        return response


async def refused(port: int, pki: Pki, client: Issued | None, **kw: object) -> grpc.aio.AioRpcError:
    async with channel(port, pki, client, **kw) as c:  # type: ignore[arg-type]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(c).GetMe(pb.GetMeRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value.details()
    return caught.value


async def test_tls_serves_a_client_that_trusts_the_ca_and_refuses_plaintext(
    emulator: RunningEmulator,
    control: EmulatorControl,
    token: str,
    pki: Pki,
    volume: SecretVolume,
    running: list[Sidecar],
) -> None:
    sidecar = await start(emulator, token, tls_settings(volume, mutual=False))
    running.append(sidecar)
    port = sidecar.grpc_port
    assert (await get_me(port, pki)).app.app_id > 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as plain:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(plain).GetMe(pb.GetMeRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    # A client that does not trust the server's CA refuses the server.
    await refused(port, pki, None, ca=pki.other_ca)
    assert await control.api_requests(token) == 1


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_tls_1_1_and_older_are_refused(
    emulator: RunningEmulator, token: str, pki: Pki, volume: SecretVolume, running: list[Sidecar]
) -> None:
    sidecar = await start(emulator, token, tls_settings(volume, mutual=False))
    running.append(sidecar)
    context = client_context(pki)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    # The server resets the connection (gRPC logs UNSUPPORTED_PROTOCOL).
    with pytest.raises((ssl.SSLError, ConnectionResetError)) as caught:
        await asyncio.open_connection(
            "127.0.0.1", sidecar.grpc_port, ssl=context, server_hostname="localhost"
        )
    # The server's refusal, not the client's own inability to offer TLS 1.1.
    assert "NO_PROTOCOLS_AVAILABLE" not in str(caught.value)
    modern = client_context(pki)
    modern.minimum_version = modern.maximum_version = ssl.TLSVersion.TLSv1_2
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", sidecar.grpc_port, ssl=modern, server_hostname="localhost"
    )
    assert writer.get_extra_info("ssl_object").version() == "TLSv1.2"
    writer.close()


async def test_mtls_requires_a_valid_client_certificate_from_the_client_ca(
    emulator: RunningEmulator,
    control: EmulatorControl,
    token: str,
    pki: Pki,
    volume: SecretVolume,
    running: list[Sidecar],
) -> None:
    sidecar = await start(emulator, token, tls_settings(volume, mutual=True))
    running.append(sidecar)
    port = sidecar.grpc_port
    assert (await get_me(port, pki, pki.checkout)).app.app_id > 0
    await refused(port, pki, None)  # no client certificate
    await refused(port, pki, pki.foreign)  # signed by another CA
    await refused(port, pki, pki.expired)
    # None of the refused handshakes reached the upstream.
    assert await control.api_requests(token) == 1
