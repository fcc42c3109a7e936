"""Two sidecar processes sharing one Redis: fan-out across replicas, and a consumer group that
survives one replica being killed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from bench.sidecar_process import SidecarProcess
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2_grpc as wpb_grpc
from tests.conftest import EmulatorControl, RedisServer
from tests.webhooks.conftest import WebhookStub, route_webhooks, subscribe


@dataclass
class Replica:
    proc: SidecarProcess
    channel: grpc.aio.Channel
    http_port: int

    @property
    def api(self) -> pb_grpc.CryptoPayServiceAsyncStub:
        return pb_grpc.CryptoPayServiceStub(self.channel)

    @property
    def webhooks(self) -> wpb_grpc.WebhookServiceAsyncStub:
        return WebhookStub(self.channel)

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/webhooks/cryptopay"


StartReplicas = Callable[[int], Awaitable[list[Replica]]]


@pytest.fixture
async def start_replicas(
    emulator: RunningEmulator, token: str, redis_server: RedisServer
) -> AsyncIterator[StartReplicas]:
    started: list[Replica] = []

    async def start(count: int) -> list[Replica]:
        spawned = []
        for _ in range(count):  # all start at once: process start-up dominates these tests
            proc = SidecarProcess(
                upstream=emulator.base_url,
                redis_url=redis_server.url,
                log_level="warning",
                env={"CRYPTOPAY_API_TOKEN": token},
            )
            channel = grpc.aio.insecure_channel(proc.target)
            started.append(Replica(proc, channel, proc.http_port))
            spawned.append(proc)
        for proc in spawned:
            proc.wait_serving()
        return started[-count:]

    yield start
    for replica in started:
        await replica.channel.close(None)
        replica.proc.stop()


async def pay(replica: Replica, control: EmulatorControl, token: str) -> int:
    created = await replica.api.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="4"))
    await control.pay(token, created.invoice.invoice_id)
    return int(created.invoice.invoice_id)


async def test_fan_out_across_replicas_and_a_group_surviving_a_killed_replica(
    start_replicas: StartReplicas, control: EmulatorControl, token: str
) -> None:
    # One pair of processes for both halves: process start-up dominates this test.
    a, b = await start_replicas(2)
    await fan_out(a, b, control, token)
    await killed_member(a, b, control, token)


async def fan_out(a: Replica, b: Replica, control: EmulatorControl, token: str) -> None:
    """An event received by replica A reaches the subscribers of replica B (and A)."""
    await route_webhooks(control, token, a.ingest_url)
    on_a, on_b = subscribe(a.webhooks), subscribe(b.webhooks)
    await on_a.none_within(0.3)
    await on_b.none_within(0.3)
    paid = [await pay(a, control, token) for _ in range(3)]
    got_b = await on_b.take(3)
    got_a = await on_a.take(3)
    # The emulator, like Crypto Pay, delivers each update on its own: they may arrive in any
    # order. What the log guarantees is one order, the same for every subscriber on any replica.
    assert sorted(e.invoice.invoice_id for e in got_b) == sorted(paid)
    assert [e.event_id for e in got_b] == [e.event_id for e in got_a]
    on_a.cancel()
    on_b.cancel()


async def killed_member(a: Replica, b: Replica, control: EmulatorControl, token: str) -> None:
    """A group member on replica A holds unacknowledged events when A is killed: they go to
    the member on replica B after the visibility timeout."""
    await route_webhooks(control, token, b.ingest_url)
    second = Duration(seconds=1)
    group = {"group": "billing", "visibility_timeout": second}
    doomed = subscribe(a.webhooks, consumer="on-a", max_in_flight=2, **group)
    await doomed.none_within(0.5)
    held_ids = [await pay(b, control, token) for _ in range(2)]
    held = await doomed.take(2)
    assert sorted(e.invoice.invoice_id for e in held) == sorted(held_ids)

    survivor = subscribe(b.webhooks, consumer="on-b", **group)
    await survivor.none_within(0.3)
    later_ids = [await pay(b, control, token) for _ in range(2)]
    later = await survivor.take(2)  # the doomed member is full
    assert sorted(e.invoice.invoice_id for e in later) == sorted(later_ids)
    acked = await b.webhooks.Ack(
        wpb.AckRequest(group="billing", event_ids=[e.event_id for e in later])
    )
    assert acked.acknowledged == 2

    a.proc.kill()  # no goodbye: its events are released only by the visibility timeout
    doomed.cancel()
    recovered = await survivor.take(2, within=20)
    assert sorted(e.event_id for e in recovered) == sorted(e.event_id for e in held)
    assert all(e.delivery_attempt >= 2 for e in recovered)
    await b.webhooks.Ack(wpb.AckRequest(group="billing", event_ids=[e.event_id for e in recovered]))
    await survivor.none_within(1.5)
    survivor.cancel()
