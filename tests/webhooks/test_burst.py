"""A burst of genuine updates, all at once, each on its own connection (a sender catching up
after an outage), against a sidecar process on a real Redis: every one is stored (200), and
each is published exactly once; and 503 only when Redis itself does not answer. Correctness
only; bench/webhook_ingest.py --burst measures."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import grpc
import redis.asyncio as redis

from bench.sidecar_process import SidecarProcess
from sidecar.emulator.runner import RunningEmulator
from sidecar.secrets import Secret
from sidecar.signature import sign
from tests.conftest import RedisServer, start_sidecar
from tests.helpers import eventually
from tests.webhooks.conftest import WebhookStub, ingest_url, post, subscribe, update_body

BURST = 500


async def test_a_burst_of_500_genuine_updates_is_stored_and_published_once(
    redis_server: RedisServer, token: str
) -> None:
    sidecar = SidecarProcess(
        upstream="http://127.0.0.1:9",  # never called
        redis_url=redis_server.url,
        log_level="error",
        env={"CRYPTOPAY_API_TOKEN": token},
    )
    channel = grpc.aio.insecure_channel(sidecar.target)
    try:
        sidecar.wait_serving()
        events = subscribe(WebhookStub(channel))
        await events.none_within(0.3)
        url = f"http://127.0.0.1:{sidecar.http_port}/webhooks/cryptopay"
        bodies = [update_body(700_000 + n) for n in range(BURST)]
        go = asyncio.Event()
        # No connection reuse and no client-side limit: BURST connections at once.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            at_the_line: list[bytes] = []

            async def one(body: bytes) -> int:
                at_the_line.append(body)
                await go.wait()
                status, _answer = await post(session, url, body, sign(token, body))
                return status

            tasks = [asyncio.create_task(one(body)) for body in bodies]
            await eventually(lambda: len(at_the_line) == BURST, "every sender at the line")
            go.set()
            statuses = await asyncio.gather(*tasks)
        assert {status: statuses.count(status) for status in set(statuses)} == {200: BURST}

        received = await events.take(BURST, within=60)
        ids = sorted(e.invoice.invoice_id for e in received)
        assert ids == list(range(700_000, 700_000 + BURST))
        assert len({e.event_id for e in received}) == BURST
        await events.none_within(0.5)
        events.cancel()
        client = redis.Redis.from_url(redis_server.url)
        try:
            streams = [key async for key in client.scan_iter(match="*:events")]
            assert len(streams) == 1 and await client.xlen(streams[0]) == BURST
        finally:
            await client.aclose()
    finally:
        await channel.close(None)
        sidecar.stop()


async def test_a_stalled_redis_gets_503_and_the_redelivery_is_stored_once(
    emulator: RunningEmulator, token: str, redis_server: RedisServer
) -> None:
    """503 is for a Redis that does not answer (here: stopped with SIGSTOP, its socket still
    open), and the sender's redelivery is stored once Redis answers again."""
    running = await start_sidecar(emulator, token, redis_url=Secret(redis_server.url))
    try:
        url = ingest_url(running)
        events = subscribe(WebhookStub(running.channel))
        await events.none_within(0.3)
        async with aiohttp.ClientSession() as session:
            warm = update_body(800_000)
            assert (await post(session, url, warm, sign(token, warm)))[0] == 200
            body = update_body(800_001)
            redis_server.process.send_signal(signal.SIGSTOP)
            try:
                status, answer = await post(session, url, body, sign(token, body))
            finally:
                redis_server.process.send_signal(signal.SIGCONT)
            assert (status, answer["error"]) == (503, "EVENT_LOG_UNAVAILABLE")
            status, answer = await post(session, url, body, sign(token, body))
            assert status == 200
        received = await events.take(2, within=30)
        assert [e.invoice.invoice_id for e in received] == [800_000, 800_001]
        await events.none_within(0.5)
        events.cancel()
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()
