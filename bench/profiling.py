"""A py-spy profile of the sidecar under the overhead load: where its CPU goes.

py-spy samples the running process from outside (no instrumentation in the sidecar), with
`--nonblocking` so the target is never paused. Time in the C parts (uvloop, gRPC C-core) is
charged to the innermost Python frame, which is why `Runner.run` shows large self time.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bench import scenarios
from bench.procs import BenchError, Cluster, start_redis, start_sidecar
from bench.report import table
from bench.scenarios import (
    Context,
    check_call,
    grpc_target,
    invoice_params,
    sidecar_args,
    start_upstream,
)


def aggregate(lines: Iterable[str]) -> tuple[int, Counter[str], Counter[str]]:
    """Total samples, self samples and inclusive samples per frame, from py-spy's raw
    (collapsed stack) output: `frame;frame;frame count` per line."""
    total = 0
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_counts[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return total, self_counts, inclusive


# Where a sample's time goes: the part its deepest recognised frame belongs to.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gRPC completion-queue poller thread", ("Thread.run", "_poll_wrapper")),
    ("Redis client (redis-py)", ("redis/",)),
    ("JSON <-> protobuf mapping, outcome", ("sidecar/mapping.py", "sidecar/outcome.py")),
    ("request validation", ("sidecar/validation.py",)),
    ("policy step", ("sidecar/policy/", "sidecar/spend/")),
    ("rate-limit step", ("sidecar/ratelimit/",)),
    ("idempotency step", ("sidecar/idempotency/",)),
    ("retry step", ("sidecar/retry/",)),
    # py-spy names files by their last two path parts: OpenTelemetry's are known by these.
    (
        "telemetry (OpenTelemetry, Prometheus)",
        (
            "sidecar/telemetry/",
            "OpenTelemetry",
            "aiohttp_client/",
            "trace/__init__.py",
            "trace/span.py",
            "context/__init__.py",
            "contextvars_context.py",
            "propagate/",
            "instrumentation/",
            "prometheus_client/",
            "aiosignal/",
        ),
    ),
    ("upstream HTTP call (aiohttp)", ("HttpUpstream.call", "aiohttp/client")),
    ("service and pipeline", ("sidecar/service.py", "sidecar/pipeline.py")),
)
LOOP = "gRPC C-core and event loop (C code, charged to the loop)"


def categorize(lines: Iterable[str]) -> tuple[int, Counter[str]]:
    total = 0
    counts: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        counts[_category(stack)] += int(count)
    return total, counts


def _category(stack: str) -> str:
    """The part of the deepest frame that belongs to one: the interceptor wraps the whole
    handler and the pipeline wraps the upstream call, but time spent below them is not theirs."""
    for frame in reversed(stack.split(";")):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    if stack.rsplit(";", 1)[-1].startswith("Runner.run"):
        return LOOP
    return "other Python (asyncio, logging...)"


def top(counts: Counter[str], total: int, limit: int, only: str | None = None) -> list[list[str]]:
    rows = []
    for frame, n in counts.most_common():
        if only and only not in frame:
            continue
        rows.append([f"{100 * n / total:.1f} %", f"`{frame}`"])
        if len(rows) == limit:
            break
    return rows


def run(ctx: Context, seconds: float = 20.0, upstream: str = "stub") -> str:
    """Profiles the real path: with a unique idempotency-key per request when the sidecar
    has idempotency (the Python workers then drive the load)."""
    keys = ctx.features.idempotency
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        return "### Profile\n\nn/a: py-spy is not installed (pip install py-spy)\n"
    s = ctx.settings
    params = invoice_params()
    out_path = Path(ctx.workdir) / "profile.txt"
    with Cluster(ctx.workdir / "profile") as cluster:
        _, upstream_url = start_upstream(ctx, cluster, upstream)
        redis_url = start_redis(cluster, ctx.pinning.others)[1] if ctx.features.redis else None
        args, path = sidecar_args(ctx, redis_url)
        sidecar = start_sidecar(cluster, ctx.pinning.sidecar, upstream_url, args)
        check_call(sidecar, params)
        ctx.log(f"profile: {s.rate:g} QPS for {seconds:g}s under py-spy")
        target = grpc_target(sidecar, params)
        load = threading.Thread(
            target=lambda: scenarios.load(
                ctx, target, cluster.workdir, duration=seconds + 2, warmup=1.0, keys=keys
            )
        )
        load.start()
        command = [py_spy, "record", "--pid", str(sidecar.proc.pid), "--duration"]
        command += [str(int(seconds)), "--rate", "250", "--format", "raw", "--nonblocking"]
        command += ["--output", str(out_path)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        load.join()
        if done.returncode != 0 or not out_path.exists():
            raise BenchError(f"py-spy failed: {done.stderr.strip()}")
        lines = out_path.read_text().splitlines()
        total, self_counts, inclusive = aggregate(lines)
        _, categories = categorize(lines)
    header = ["share of samples", "frame"]
    by_part = [[f"{100 * n / total:.1f} %", name] for name, n in categories.most_common()]
    return (
        "### Profile (py-spy, sidecar under the overhead load, upstream: "
        f"{upstream}; {path}{'; an idempotency-key per request' if keys else ''})\n\n"
        f"{total} samples; raw collapsed stacks kept in `{out_path}` "
        "(feed them to flamegraph.pl or speedscope).\n\n"
        "Where the time goes:\n\n"
        + table(["share of samples", "part"], by_part)
        + "\n\nInclusive time in the sidecar's own code:\n\n"
        + table(header, top(inclusive, total, 15, only="sidecar/"))
        + "\n\nSelf time (C code in uvloop and gRPC is charged to the Python frame that "
        "called it):\n\n" + table(header, top(self_counts, total, 15)) + "\n"
    )
