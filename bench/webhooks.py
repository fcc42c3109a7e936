"""Webhooks: from a signed POST on the sidecar's ingest endpoint to 10 gRPC subscribers.

Runs in its own process: 10 broadcast `WebhookService/Subscribe` streams, and signed
`invoice_paid` updates POSTed to the ingest endpoint, each for a new invoice (updates of the
same invoice are deduplicated). Two phases:

- latency: updates at a fixed rate; for every (update, subscriber) pair, the time from sending
  the POST to the subscriber receiving the event;
- throughput: a batch POSTed with 16 in flight; events per second until the last subscriber
  has the last event.

    python -m bench.webhooks --http http://127.0.0.1:8080/webhooks/cryptopay \
        --grpc 127.0.0.1:50051 --token TOKEN [--subscribers 10 --rate 200 --events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.stats import Latency

BASE_INVOICE = 5_000_000
WARM_UP = 1_000_000  # update ids from here on are warm-up updates


@dataclass(frozen=True)
class WebhookResult:
    subscribers: int
    latency: Latency
    rate: float
    events_per_second: float
    ingest_per_second: float
    lost: int

    def markdown(self) -> str:
        from bench.report import ms, table

        rows = [
            [
                f"ingest to subscriber, {self.rate:.0f} updates/s, {self.subscribers} subscribers",
                ms(self.latency.p50),
                ms(self.latency.p90),
                ms(self.latency.p99),
                ms(self.latency.max),
            ]
        ]
        verdict = (
            f"Throughput: **{self.events_per_second:.0f} events/s delivered to each of "
            f"{self.subscribers} subscribers** ({self.events_per_second * self.subscribers:.0f} "
            f"deliveries/s; ingest answered {self.ingest_per_second:.0f} POSTs/s)."
        )
        if self.lost:
            verdict += f" **{self.lost} deliveries missing.**"
        return table(["figure", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows) + "\n\n" + verdict


def update_body(update_id: int, invoice_id: int) -> bytes:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    invoice = {
        "invoice_id": invoice_id,
        "hash": f"IVbench{invoice_id}",
        "currency_type": "crypto",
        "asset": "USDT",
        "amount": "10",
        "paid_asset": "USDT",
        "paid_amount": "10",
        "fee_asset": "USDT",
        "fee_amount": "0.3",
        "bot_invoice_url": f"https://t.me/CryptoBot?start=IVbench{invoice_id}",
        "status": "paid",
        "created_at": stamp,
        "allow_comments": True,
        "allow_anonymous": True,
        "paid_usd_rate": "1",
        "paid_at": stamp,
        "paid_anonymously": False,
    }
    update = {
        "update_id": update_id,
        "update_type": "invoice_paid",
        "request_date": stamp,
        "payload": invoice,
    }
    return json.dumps(update).encode()


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp
    import grpc

    from sidecar.signature import HEADER, sign

    pb = importlib.import_module("sidecar.gen.cryptopay.v1.webhook_service_pb2")
    pb_grpc = importlib.import_module("sidecar.gen.cryptopay.v1.webhook_service_pb2_grpc")

    sent: dict[int, float] = {}
    received: list[dict[int, float]] = [{} for _ in range(args.subscribers)]
    expected = args.events + args.burst
    done = asyncio.Event()
    warm: list[set[int]] = [set() for _ in range(args.subscribers)]

    async def subscriber(index: int, stub: Any) -> None:
        stream = stub.Subscribe(pb.SubscribeRequest(start=pb.START_POSITION_LATEST))
        mine = received[index]
        async for message in stream:
            update_id = message.event.update_id
            if update_id >= WARM_UP:
                warm[index].add(update_id)
                continue
            mine[update_id] = time.perf_counter()
            if all(len(r) >= expected for r in received):
                done.set()
            if len(mine) >= expected:
                break

    async def post(session: aiohttp.ClientSession, update_id: int) -> int:
        body = update_body(update_id, BASE_INVOICE + update_id)
        headers = {HEADER: sign(args.token, body), "Content-Type": "application/json"}
        sent[update_id] = time.perf_counter()
        async with session.post(args.http, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async with (
        grpc.aio.insecure_channel(args.grpc) as channel,
        aiohttp.ClientSession() as session,
    ):
        stub = pb_grpc.WebhookServiceStub(channel)
        tasks = [asyncio.create_task(subscriber(i, stub)) for i in range(args.subscribers)]
        # Warm-up updates until every stream has one: all are attached to the log's tail.
        for n in range(WARM_UP, WARM_UP + 300):
            await post(session, n)
            await asyncio.sleep(0.1)
            if all(warm):
                break
        else:
            raise TimeoutError("the subscribers received no warm-up update within 30 s")

        # Phase 1: a fixed rate.
        statuses = []
        start = time.perf_counter()
        for i in range(args.events):
            due = start + i / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            statuses.append(asyncio.create_task(post(session, i + 1)))
        codes = await asyncio.gather(*statuses)

        # Phase 2: as fast as 16 concurrent posters go.
        queue = list(range(args.events + 1, expected + 1))
        burst_start = time.perf_counter()

        async def poster() -> None:
            while queue:
                codes.append(await post(session, queue.pop()))

        await asyncio.gather(*(poster() for _ in range(16)))
        ingest_done = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=30)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    latencies = [
        (got[u] - sent[u]) * 1000 for got in received for u in range(1, args.events + 1) if u in got
    ]
    burst_ids = range(args.events + 1, expected + 1)
    last = max((got[u] for got in received for u in burst_ids if u in got), default=ingest_done)
    return {
        "latencies": latencies,
        "events_per_second": args.burst / (last - burst_start),
        "ingest_per_second": args.burst / (ingest_done - burst_start),
        "lost": expected * args.subscribers - sum(len(r) for r in received),
        "refused": sum(1 for c in codes if c != 200),
    }


def result_from(data: dict[str, Any], subscribers: int, rate: float) -> WebhookResult:
    return WebhookResult(
        subscribers=subscribers,
        latency=Latency.of(data["latencies"]),
        rate=rate,
        events_per_second=data["events_per_second"],
        ingest_per_second=data["ingest_per_second"],
        lost=data["lost"],
    )


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    p.add_argument("--http", required=True, help="the ingest URL")
    p.add_argument("--grpc", required=True, help="the sidecar's gRPC host:port")
    p.add_argument("--token", required=True, help="the API token the updates are signed with")
    p.add_argument("--subscribers", type=int, default=10)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--events", type=int, default=2000, help="updates of the latency phase")
    p.add_argument("--burst", type=int, default=2000, help="updates of the throughput phase")
    args = p.parse_args(argv)
    run: Any = asyncio.run
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        pass
    try:
        data = run(_measure(args))
    except (ImportError, AttributeError) as exc:
        data = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(data))


if __name__ == "__main__":
    main(sys.argv[1:])
