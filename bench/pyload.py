"""Open-loop gRPC load from Python processes (grpc.aio), for what h2load cannot send.

h2load repeats one request with fixed headers; a unique `idempotency-key` per request (the real
path of CreateInvoice with idempotency) needs a client that builds each call. It is also the
fallback when h2load is not installed. Each worker process drives its share of the
connections with the same shape as the h2load runs: one request in flight per connection,
sent on a fixed schedule, connections evenly staggered. Latency is measured from the scheduled
send time when a connection falls behind, so a stall is not hidden (no coordinated omission).

    python -m bench.pyload --target 127.0.0.1:50051 --body req.bin --rate 1000 \
        --total-connections 16 --connections 16 --duration 10 --start-at T --out rows.json [--keys]

A target starting with http:// is an upstream URL: JSON POSTs over HTTP/1.1 (direct runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.h2load import LoadResult, measured
from bench.procs import BENCH_TOKEN, pinned
from bench.stats import Latency

GENERATOR = "Python (grpc.aio / aiohttp) worker processes"

METHOD = "/cryptopay.v1.CryptoPayService/CreateInvoice"


async def _http_connection(
    url: str,
    body: bytes,
    period: float,
    start: float,
    end: float,
    rows: list[tuple[int, int, int]],
) -> None:
    import aiohttp

    headers = {"Crypto-Pay-API-Token": BENCH_TOKEN, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection, like h2load --h1
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        due = start
        while due < end and time.time() < end:
            now = time.time()
            if due > now:
                await asyncio.sleep(due - now)
            sent_at, sent = time.time(), time.perf_counter()
            try:
                async with session.post(url, data=body) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            elapsed = time.perf_counter() - sent
            rows.append((int(sent_at * 1e6), status, int(elapsed * 1e6)))
            due += period


async def _connection(
    target: str,
    body: bytes,
    index: int,
    period: float,
    start: float,
    end: float,
    keys: bool,
    rows: list[tuple[int, int, int]],
) -> None:
    if target.startswith("http://"):
        return await _http_connection(target, body, period, start, end, rows)
    import grpc

    # A channel of its own: grpc would otherwise share one connection between channels.
    options = [("grpc.use_local_subchannel_pool", 1), ("bench.connection", index)]
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        call = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
        await channel.channel_ready()
        due = start
        # Stop at the end of the run even when behind: the achieved rate shows the shortfall.
        while due < end and time.time() < end:
            now = time.time()
            if due > now:
                await asyncio.sleep(due - now)
            metadata = (("idempotency-key", uuid.uuid4().hex),) if keys else None
            code = 0
            sent_at, sent = time.time(), time.perf_counter()
            try:
                await call(body, metadata=metadata, timeout=10)
            except grpc.aio.AioRpcError as exc:
                code = exc.code().value[0]
            elapsed = time.perf_counter() - sent
            # Start time, HTTP-like status and latency in µs, like h2load's log.
            rows.append((int(sent_at * 1e6), 200 if code == 0 else 1000 + code, int(elapsed * 1e6)))
            due += period


async def _worker(args: argparse.Namespace, body: bytes) -> list[tuple[int, int, int]]:
    per_connection = args.rate / args.total_connections
    period = 1 / per_connection
    base = args.start_at
    rows: list[tuple[int, int, int]] = []
    tasks = []
    for i in range(args.first, args.first + args.connections):
        # Connection i starts i/rate after the first, so all sends are evenly spaced.
        start = base + i / args.rate
        end = base + args.warmup + args.duration
        tasks.append(_connection(args.target, body, i, period, start, end, args.keys, rows))
    await asyncio.gather(*tasks)
    return rows


def worker_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.pyload")
    p.add_argument("--target", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--rate", type=float, required=True, help="total rate of all workers")
    p.add_argument("--total-connections", type=int, required=True)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--warmup", type=float, default=0.0)
    p.add_argument("--start-at", type=float, required=True, help="time.time() of the first send")
    p.add_argument("--keys", action="store_true", help="a unique idempotency-key per request")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    body = Path(args.body).read_bytes()
    try:
        import uvloop
    except ImportError:
        rows = asyncio.run(_worker(args, body))
    else:
        rows = uvloop.run(_worker(args, body))
    Path(args.out).write_text(json.dumps(rows))


def run(
    target: str,
    body: bytes,
    *,
    rate: float,
    connections: int,
    duration_s: float,
    warmup_s: float,
    workdir: Path,
    cpus: str | None,
    keys: bool = False,
    processes: int = 2,
) -> LoadResult:
    """Runs `processes` worker processes and merges their per-request rows."""
    body_path = workdir / "pyload-body.bin"
    body_path.write_bytes(body)
    processes = max(1, min(processes, connections))
    start_at = time.time() + 1.5  # time for the workers to start and connect
    workers = []
    outs = []
    first = 0
    for n in range(processes):
        share = connections // processes + (1 if n < connections % processes else 0)
        out = workdir / f"pyload-{n}.json"
        out.unlink(missing_ok=True)
        command = [sys.executable, "-m", "bench.pyload", "--target", target]
        command += ["--body", str(body_path), "--rate", str(rate)]
        command += ["--total-connections", str(connections), "--first", str(first)]
        command += ["--connections", str(share), "--duration", str(duration_s)]
        command += ["--warmup", str(warmup_s), "--start-at", str(start_at), "--out", str(out)]
        if keys:
            command.append("--keys")
        command = pinned(command, cpus)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        workers.append(subprocess.Popen(command, env=env))
        outs.append(out)
        first += share
    budget = duration_s + warmup_s + 60
    for worker in workers:
        try:
            code = worker.wait(budget)
        except subprocess.TimeoutExpired:
            for other in workers:
                other.kill()
            raise RuntimeError("the Python load workers did not finish in time") from None
        if code != 0:
            raise RuntimeError("a Python load worker failed")
    rows: list[tuple[int, int, int]] = []
    for out in outs:
        rows += [tuple(r) for r in json.loads(out.read_text())]
    kept, achieved = measured(rows, warmup_s)
    codes = Counter(r[1] for r in rows)
    ok = [r for r in kept if 200 <= r[1] < 300]
    return LoadResult(
        generator=GENERATOR,
        target_rate=rate,
        achieved_rate=achieved,
        latency=Latency.of([r[2] / 1000 for r in ok]),
        sent=len(rows),
        succeeded=sum(n for c, n in codes.items() if 200 <= c < 300),
        failed=sum(n for c, n in codes.items() if not 200 <= c < 300),
        notes=tuple(_describe(c, n) for c, n in sorted(codes.items()) if not 200 <= c < 300),
    )


def _describe(code: int, count: int) -> str:
    if code >= 1000:
        return f"{count} x gRPC status {code - 1000}"
    return f"{count} x HTTP {code}" if code else f"{count} x connection errors"


if __name__ == "__main__":
    worker_main(sys.argv[1:])
