"""Rate-limit decisions against Redis: latency per decision and Redis commands per decision.

Runs in its own process (pinned like the sidecar) with the sidecar's own limiter backend, so
the figure is the decision alone: one EVALSHA round trip with the app, caller and RPC buckets a
CreateInvoice draws from. Limits are generous, so every decision admits at once.

    python -m bench.limiter --redis-url redis://127.0.0.1:6390/0 --decisions 5000
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.stats import Latency

GENEROUS = {
    "app": {"rate": "1000000/s", "burst": 100000},
    "callers": {"*": "1000000/s"},
    "rpcs": {"CreateInvoice": "1000000/s"},
}


@dataclass(frozen=True)
class LimiterResult:
    sequential: Latency  # one decision at a time
    concurrent: Latency  # 16 decisions in flight
    concurrency: int
    decisions_per_second: float  # at that concurrency
    commands: float  # Redis commands per decision (those inside the script included)
    scripts: float  # script calls (round trips) per decision
    buckets: int

    def markdown(self) -> str:
        from bench.report import ms, table

        rows = [
            [
                "one at a time",
                ms(self.sequential.p50),
                ms(self.sequential.p90),
                ms(self.sequential.p99),
                "",
            ],
            [
                f"{self.concurrency} in flight",
                ms(self.concurrent.p50),
                ms(self.concurrent.p90),
                ms(self.concurrent.p99),
                f"{self.decisions_per_second:.0f}",
            ],
        ]
        header = ["decisions", "p50 ms", "p90 ms", "p99 ms", "decisions/s"]
        return (
            table(header, rows)
            + f"\n\nRedis per decision ({self.buckets} buckets: app, caller, RPC): "
            f"**{self.commands:.1f} commands in {self.scripts:.1f} script call** (one round "
            "trip; envoyproxy/ratelimit needs one pipelined round trip of INCRBY + EXPIRE per "
            "descriptor)."
        )


def _commands(client: Any) -> tuple[int, int]:
    stats = client.info("commandstats")
    scripts = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_evalsha_ro", "cmdstat_fcall")
    mine = ("cmdstat_info", "cmdstat_ping")
    total = sum(int(v["calls"]) for k, v in stats.items() if k not in mine)
    return total, sum(int(v["calls"]) for k, v in stats.items() if k in scripts)


async def _measure(redis_url: str, decisions: int, concurrency: int) -> dict[str, Any]:
    import redis

    from sidecar.redis_connection import connect
    from sidecar.secrets import Secret

    # Looked up at run time: the harness also runs on checkouts without a limiter.
    def part(module: str, name: str) -> Any:
        return getattr(importlib.import_module(f"sidecar.ratelimit.{module}"), name)

    config = part("config", "parse_rate_limits")(GENEROUS)
    plan = part("plan", "plan_call")(config, "CreateInvoice", "default")
    client = connect(Secret(redis_url))
    backend = part("redis", "RedisBackend")(client)
    request = part("backend", "Request")(
        scope="bench", buckets=plan.buckets, cost=plan.cost, max_wait=0.0, timeout=1.0
    )
    for _ in range(200):  # warm-up: script loaded, connections open
        await backend.decide(request)

    counter = redis.Redis.from_url(redis_url)
    before = _commands(counter)
    sequential: list[float] = []
    for _ in range(decisions):
        started = time.perf_counter()
        decision = await backend.decide(request)
        sequential.append((time.perf_counter() - started) * 1000)
        if not decision.allowed:
            raise RuntimeError("a generous limit refused a call")
    after = _commands(counter)

    concurrent: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await backend.decide(request)
            concurrent.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(decisions // concurrency) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    counter.close()
    await client.aclose()
    return {
        "sequential": sequential,
        "concurrent": concurrent,
        "rate": len(concurrent) / elapsed,
        "commands": (after[0] - before[0]) / decisions,
        "scripts": (after[1] - before[1]) / decisions,
        "buckets": len(plan.buckets),
    }


def result_from(data: dict[str, Any], concurrency: int) -> LimiterResult:
    return LimiterResult(
        sequential=Latency.of(data["sequential"]),
        concurrent=Latency.of(data["concurrent"]),
        concurrency=concurrency,
        decisions_per_second=data["rate"],
        commands=data["commands"],
        scripts=data["scripts"],
        buckets=data["buckets"],
    )


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.limiter", description=__doc__)
    p.add_argument("--redis-url", required=True)
    p.add_argument("--decisions", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=16)
    args = p.parse_args(argv)
    run: Any = asyncio.run
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        pass
    try:
        data = run(_measure(args.redis_url, args.decisions, args.concurrency))
    except (ImportError, TypeError, AttributeError) as exc:
        # A checkout without the limiter, or with a different interface than this knows.
        data = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(data))


if __name__ == "__main__":
    main(sys.argv[1:])
