"""Slow and excess HTTP clients over real sockets: a slowloris (head or body trickled a byte at a
time), a silent connection and an idle kept-alive one are closed by their deadlines, a burst of
connections beyond the cap cannot lock out a genuine update, and genuine updates keep working.
Short limits keep the test fast; the defaults are in docs/webhooks.md."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest

from sidecar import http_server
from sidecar.emulator.runner import RunningEmulator
from sidecar.http_limits import HttpLimits
from tests.conftest import RunningSidecar, Samples, sample, scrape, start_sidecar
from tests.helpers import eventually
from tests.webhooks.conftest import ingest_url, post_signed, update_body

CLOSED = "cryptopay_sidecar_http_connections_closed_total"
LIMITS = HttpLimits(header_timeout=0.5, body_timeout=0.5, idle_timeout=1.0, max_connections=64)
# Far beyond every limit above: a connection still open then was not closed by them.
PATIENCE = 8.0

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def running_with(emulator: RunningEmulator, token: str, limits: HttpLimits) -> RunningSidecar:
    return await start_sidecar(emulator, token, http=limits)


@pytest.fixture
async def limited(emulator: RunningEmulator, token: str) -> AsyncIterator[RunningSidecar]:
    running = await running_with(emulator, token, LIMITS)
    yield running
    await running.channel.close(None)
    await running.sidecar.stop()


async def connect(running: RunningSidecar) -> Conn:
    return await asyncio.open_connection("127.0.0.1", running.sidecar.http_port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent until it closed the connection; fails if it did not."""
    received = b""
    async with asyncio.timeout(seconds):
        while True:
            try:
                chunk = await reader.read(4096)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk


async def no_connections(running: RunningSidecar) -> None:
    """Waits until the sidecar has seen every connection to it close."""
    runner = running.sidecar._http
    assert runner is not None

    async def none_open() -> bool:
        return http_server.open_connections(runner) == 0

    await eventually(none_open, "every connection to close", within=20)


async def scrape_once(running: RunningSidecar) -> Samples:
    """/metrics on a connection of its own, closed after the answer (it takes no slot)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        samples = await scrape(session, running.sidecar.http_port)
    await no_connections(running)
    return samples


async def trickle(writer: asyncio.StreamWriter, data: bytes, every: float = 0.05) -> None:
    """Sends one byte at a time until the data runs out or the server closes."""
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)  # the trickle is the attack under test


async def test_slowloris_heads_and_bodies_are_cut_off_while_updates_go_through(
    limited: RunningSidecar, http_session: aiohttp.ClientSession, token: str
) -> None:
    url = ingest_url(limited)
    path = url.split(str(limited.sidecar.http_port), 1)[1]
    before = sample(
        await scrape(http_session, limited.sidecar.http_port), CLOSED, reason="header_timeout"
    )
    head = f"POST {path} HTTP/1.1\r\nHost: sidecar\r\nX-Slow: {'a' * 400}\r\n\r\n".encode()
    slow_heads = [await connect(limited) for _ in range(20)]
    feeders = [asyncio.create_task(trickle(w, head)) for _r, w in slow_heads]
    silent = [await connect(limited) for _ in range(5)]
    body = update_body(4242)
    slow_body = await connect(limited)
    slow_body[1].write(
        f"POST {path} HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    body_feeder = asyncio.create_task(trickle(slow_body[1], body))

    # Meanwhile genuine updates are stored as usual.
    for n in range(3):
        status, answer = await post_signed(http_session, url, token, update_body(4300 + n))
        assert status == 200 and answer["ok"] is True

    for reader, _writer in [*slow_heads, *silent]:
        assert await closed_within(reader, PATIENCE) == b""  # nothing answered: just closed
    answered = await closed_within(slow_body[0], PATIENCE)
    assert answered.startswith(b"HTTP/1.1 408") and b"BODY_TIMEOUT" in answered
    for task in [*feeders, body_feeder]:
        task.cancel()
    for _reader, writer in [*slow_heads, *silent, slow_body]:
        writer.close()

    samples = await scrape(http_session, limited.sidecar.http_port)
    assert sample(samples, CLOSED, reason="header_timeout") - before >= 25
    assert sample(samples, "cryptopay_sidecar_webhooks_rejected_total", reason="body_timeout") >= 1
    status, _answer = await post_signed(http_session, url, token, update_body(4400))
    assert status == 200


async def test_an_idle_kept_alive_connection_is_closed(limited: RunningSidecar) -> None:
    reader, writer = await connect(limited)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: sidecar\r\n\r\n")
    await writer.drain()
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    await closed_within(reader, PATIENCE)  # the idle timeout (1 s), not the client
    writer.close()


async def test_connections_beyond_the_cap_cannot_lock_out_an_update(
    emulator: RunningEmulator, token: str
) -> None:
    limits = HttpLimits(header_timeout=30.0, body_timeout=5.0, idle_timeout=60.0, max_connections=4)
    running = await running_with(emulator, token, limits)
    try:
        url = ingest_url(running)
        before = await scrape_once(running)
        # Four kept-alive connections, idle after one request each: the cap is reached.
        kept = [await connect(running) for _ in range(4)]
        for reader, writer in kept:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: sidecar\r\n\r\n")
            await writer.drain()
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        # Idle long enough (IDLE_AFTER, 1 s) to be closed to make room: idleness is measured in
        # time, so this waits it out.
        await asyncio.sleep(1.2)
        # A genuine update on a new connection gets through: an idle one made room.
        fresh = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=fresh) as session:
            status, _answer = await post_signed(session, url, token, update_body(4500))
        assert status == 200
        # Now four silent connections (not idle: each may be starting a request) fill the cap:
        # the next connection is closed at once, and nothing else is.
        silent = [await connect(running) for _ in range(4)]
        # Each one past the first closed an idle kept one: all four closed means all four in.
        for reader, _writer in kept:
            await closed_within(reader, PATIENCE)
        extra_reader, extra_writer = await connect(running)
        assert await closed_within(extra_reader, PATIENCE) == b""
        for _reader, writer in [*kept, *silent, (extra_reader, extra_writer)]:
            writer.close()
        await no_connections(running)  # room for the scrape again
        after = await scrape_once(running)
        for reason, count in (("evicted_idle", 4), ("limit", 1)):
            grown = sample(after, CLOSED, reason=reason) - sample(before, CLOSED, reason=reason)
            assert grown == count, reason
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()
