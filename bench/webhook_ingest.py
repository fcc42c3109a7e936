"""Webhook ingest and delivery, measured against a real sidecar process.

    python bench/webhook_ingest.py [--redis] [--requests 5000] [--concurrency 32]
    python bench/webhook_ingest.py --redis --burst 500

Starts a sidecar (with a private redis-server when --redis is given), connects two broadcast
subscribers, POSTs signed updates with N concurrent clients, and reports ingest throughput,
ingest latency (POST to 200), and delivery latency (POST sent to event received by a
subscriber). Not part of the test suite: numbers depend on the machine.

--burst N sends N distinct genuine updates at the same instant, each on its own connection
(what a sender catching up after an outage does), and reports how many got 200 and 503, the
latency percentiles, and whether each event reached the subscribers exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sidecar_process import SidecarProcess, free_port
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2_grpc as wpb_grpc
from sidecar.policy.identity import new_token
from sidecar.signature import HEADER, sign


def body(invoice_id: int) -> bytes:
    now = datetime.now(UTC)
    update = {
        "update_id": invoice_id,
        "update_type": "invoice_paid",
        "request_date": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "payload": {
            "invoice_id": invoice_id,
            "hash": "IVbenchmark1",
            "currency_type": "crypto",
            "asset": "USDT",
            "amount": "10.5",
            "paid_asset": "USDT",
            "paid_amount": "10.5",
            "fee_amount": "0.315",
            "status": "paid",
            "description": "Оплата заказа №" + str(invoice_id),
            "created_at": "2025-08-23T09:28:15.220Z",
            "paid_at": "2025-08-23T09:36:31.568Z",
        },
    }
    return json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.2f}"


async def measure(args: argparse.Namespace, token: str, grpc_port: int, http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/webhooks/cryptopay"
    sent: dict[int, float] = {}
    received: list[dict[int, float]] = [{} for _ in range(args.subscribers)]
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = wpb_grpc.WebhookServiceStub(channel)

    async def subscriber(slot: int) -> None:
        async for response in stub.Subscribe(wpb.SubscribeRequest()):
            received[slot][response.event.invoice.invoice_id] = time.perf_counter()
            if len(received[slot]) >= args.requests:
                return

    readers = [asyncio.create_task(subscriber(i)) for i in range(args.subscribers)]
    await asyncio.sleep(0.5)
    bodies = [body(1_000_000 + n) for n in range(args.requests)]
    pending = list(range(args.requests))
    latencies: list[float] = []
    interval = args.concurrency / args.rate if args.rate else 0.0

    async def client(session: aiohttp.ClientSession) -> None:
        while pending:
            n = pending.pop()
            if interval:
                await asyncio.sleep(interval)
            raw = bodies[n]
            headers = {"Content-Type": "application/json", HEADER: sign(token, raw)}
            start = time.perf_counter()
            sent[1_000_000 + n] = start
            async with session.post(url, data=raw, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - start)

    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - began
    await asyncio.wait_for(asyncio.gather(*readers), 60)
    await channel.close(None)
    print(
        f"log={'redis' if args.redis else 'memory'} requests={args.requests} "
        f"concurrency={args.concurrency} rate={args.rate or 'max'}"
    )
    print(f"ingest: {args.requests / elapsed:,.0f} req/s")
    print(f"ingest latency ms: p50 {ms(latencies, 50)} p99 {ms(latencies, 99)}")
    if received:
        delivery = [received[0][i] - sent[i] for i in sent]
        print(f"delivery latency ms (POST -> event): p50 {ms(delivery, 50)} p99 {ms(delivery, 99)}")
        assert all(len(r) == args.requests for r in received)


async def burst(args: argparse.Namespace, token: str, grpc_port: int, http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/webhooks/cryptopay"
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = wpb_grpc.WebhookServiceStub(channel)
    received: list[list[int]] = [[] for _ in range(args.subscribers)]

    async def subscriber(slot: int, ok: asyncio.Event) -> None:
        async for response in stub.Subscribe(wpb.SubscribeRequest()):
            received[slot].append(response.event.invoice.invoice_id)
            if ok.is_set() and len(set(received[slot])) >= expected:
                return

    bodies = [body(2_000_000 + n) for n in range(args.burst)]
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    go = asyncio.Event()
    done = asyncio.Event()
    expected = args.burst
    readers = [asyncio.create_task(subscriber(i, done)) for i in range(args.subscribers)]
    await asyncio.sleep(0.5)

    async def client(session: aiohttp.ClientSession, raw: bytes) -> None:
        headers = {"Content-Type": "application/json", HEADER: sign(token, raw)}
        await go.wait()
        start = time.perf_counter()
        try:
            async with session.post(url, data=raw, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0  # refused, reset, or no answer within the client timeout
        latencies.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1

    # One connection per request, none reused: the worst case for the server.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(client(session, raw)) for raw in bodies]
        await asyncio.sleep(0.2)
        go.set()
        await asyncio.gather(*tasks)
    expected = statuses.get(200, 0)
    done.set()
    with contextlib.suppress(TimeoutError):  # the table says whether each arrived
        await asyncio.wait_for(asyncio.gather(*readers), 30)
    await channel.close(None)
    others = {k: v for k, v in statuses.items() if k not in (0, 200, 503)}
    exactly_once = all(len(r) == len(set(r)) == expected for r in received)
    print(f"log={'redis' if args.redis else 'memory'} burst={args.burst} (one connection each)")
    print("| 200 | 503 | no answer | other | p50 ms | p99 ms | max ms | each 200 published once |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {statuses.get(200, 0)} | {statuses.get(503, 0)} | {statuses.get(0, 0)} "
        f"| {sum(others.values())} | {ms(latencies, 50)} | {ms(latencies, 99)} "
        f"| {max(latencies) * 1000:.2f} | {'yes' if exactly_once else 'NO'} |"
    )


def run(args: argparse.Namespace) -> None:
    token = new_token()
    redis: subprocess.Popen[bytes] | None = None
    directory = tempfile.mkdtemp()
    extra: list[str] = []
    if args.redis:
        port = free_port()
        binary = shutil.which("redis-server") or "redis-server"
        redis = subprocess.Popen(
            [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL,
        )
        extra = ["--redis-url", f"redis://127.0.0.1:{port}/0"]
        time.sleep(0.3)
    sidecar = SidecarProcess(
        *extra,
        upstream="http://127.0.0.1:9",
        log_level="warning",
        env={"CRYPTOPAY_API_TOKEN": token},
    )
    try:
        sidecar.wait_serving()
        scenario = burst if args.burst else measure
        asyncio.run(scenario(args, token, sidecar.grpc_port, sidecar.http_port))
    finally:
        warnings = collections.Counter(
            str(entry.get("msg"))
            for entry in sidecar.stop()
            if entry.get("level") in ("warning", "error")
        )
        for message, count in warnings.most_common():
            print(f"sidecar warning x{count}: {message}")
        if redis is not None:
            redis.terminate()
            redis.wait(5)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=0, help="requests/s (default: flat out)")
    parser.add_argument("--burst", type=int, default=0, help="N updates at once, then stop")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
