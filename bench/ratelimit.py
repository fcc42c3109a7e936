"""Rate-limit decision cost: latency p50/p99 and Redis commands per decision.

Starts a private redis-server on a free port (never the machine's shared one), then runs
decisions through the shared backend (one EVALSHA each) from concurrent coroutines, the way
a busy sidecar would. Redis's own counters (INFO commandstats) give the commands per decision.

    python bench/ratelimit.py [--decisions 20000] [--concurrency 1 50] [--buckets 3]

"round trips" counts the commands the sidecar sent (EVALSHA, and a SCRIPT LOAD after a
NOSCRIPT); the commands a script runs inside Redis (TIME, GET, SET) are listed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis.asyncio as redis

from sidecar.ratelimit.backend import Backend, Request
from sidecar.ratelimit.config import parse_rate_limits
from sidecar.ratelimit.fallback import FallbackBackend
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.ratelimit.plan import plan_call
from sidecar.ratelimit.redis import RedisBackend
from sidecar.redis_connection import connect
from sidecar.secrets import Secret


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(port: int, directory: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", directory],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return proc
        except OSError:
            time.sleep(0.02)
    raise SystemExit("redis-server did not start")


async def run(backend: Backend, request: Request, decisions: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    left = decisions

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            started = time.perf_counter()
            await backend.decide(request)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--buckets", type=int, choices=(1, 2, 3), default=3)
    args = parser.parse_args()

    # Generous limits: every decision admits, so each one runs the whole script.
    section = {
        "app": {"rate": "1000000/s"},
        "callers": {"*": {"rate": "1000000/s"}},
        "rpcs": {"GetMe": {"rate": "1000000/s"}},
    }
    plan = plan_call(parse_rate_limits(section), "GetMe", "bench")
    request = Request("bench@example", plan.buckets[: args.buckets], 1, 0.0, 10.0)

    directory = tempfile.mkdtemp(prefix="redis-bench-")
    port = free_port()
    proc = start_redis(port, directory)
    client = connect(
        Secret(f"redis://127.0.0.1:{port}/0"),
        max_connections=max(args.concurrency),
        # Patient on a loaded machine: this measures decisions, not connection set-up.
        socket_connect_timeout=10,
        socket_timeout=10,
    )
    stats = redis.Redis(port=port)
    try:
        print(
            f"{args.decisions} decisions per row, {args.buckets} bucket(s) per decision, "
            f"private redis-server on 127.0.0.1:{port}\n"
        )
        print(
            f"{'backend':<24}{'concurrent':>11}{'p50 ms':>9}{'p99 ms':>9}{'decisions/s':>13}"
            f"{'round trips':>13}   commands run by the script, per decision"
        )
        shared = RedisBackend(client)
        await run(shared, request, 500, max(args.concurrency))  # warm the pool and the script
        for concurrency in args.concurrency:
            for name, backend in (
                ("memory", MemoryBackend()),
                ("redis (EVALSHA)", shared),
                ("redis behind fallback", FallbackBackend(shared)),
            ):
                await stats.config_resetstat()
                started = time.perf_counter()
                latencies = await run(backend, request, args.decisions, concurrency)
                wall = time.perf_counter() - started
                ms = [x * 1000 for x in latencies]
                line = (
                    f"{name:<24}{concurrency:>11}{statistics.median(ms):>9.3f}"
                    f"{percentile(ms, 0.99):>9.3f}{len(ms) / wall:>13.0f}"
                )
                if name != "memory":
                    commands = await stats.info("commandstats")
                    calls = {
                        k.removeprefix("cmdstat_"): int(v["calls"])
                        for k, v in commands.items()
                        if k not in ("cmdstat_config|resetstat", "cmdstat_info")
                    }
                    trips = calls.pop("evalsha", 0) + calls.pop("eval", 0)
                    inner = ", ".join(
                        f"{k} {v / args.decisions:g}" for k, v in sorted(calls.items())
                    )
                    line += f"{trips / args.decisions:>13.3f}   {inner}"
                print(line)
    finally:
        await client.aclose()
        await stats.aclose()
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
