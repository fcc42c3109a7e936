"""python -m bench: runs the benchmark scenarios and prints a markdown table.

    python -m bench                      # everything, Dapr's parameters (about 6 minutes)
    python -m bench --quick              # a short pass to check the harness (under a minute)
    python -m bench --only overhead --upstream stub --duration 30
    python -m bench --profile            # and a py-spy profile of the sidecar under load

See docs/performance.md for the method and the latest figures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from bench import h2load, machine, procs, profiling, scenarios
from bench.features import Features
from bench.procs import BenchError, Pinning
from bench.report import render

T = TypeVar("T")
ALL = ("overhead", "throughput", "limiter", "webhooks", "startup")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {ALL}")
    p.add_argument("--upstream", choices=["emulator", "stub", "both"], default="both")
    p.add_argument("--rate", type=float, default=1000.0, help="QPS of the overhead runs")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=float, default=60.0, help="seconds measured per run")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds discarded per run")
    p.add_argument("--step-duration", type=float, default=10.0, help="seconds per throughput step")
    p.add_argument("--throughput-max", type=float, default=6000.0)
    p.add_argument("--quick", action="store_true", help="short runs: checks the harness only")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes with taskset")
    p.add_argument("--no-install", action="store_true", help="never apt-get install h2load")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of every process started (e.g. -10 on a shared machine; "
        "negative values need root)",
    )
    p.add_argument(
        "--python-load", action="store_true", help="drive the load with Python workers only"
    )
    p.add_argument("--profile", action="store_true", help="py-spy profile of the sidecar")
    p.add_argument("--output", type=Path, help="also write the markdown here")
    return p


def settings_from(args: argparse.Namespace) -> scenarios.Settings:
    upstreams = ("emulator", "stub") if args.upstream == "both" else (args.upstream,)
    if args.quick:
        return scenarios.Settings(
            rate=args.rate,
            connections=args.connections,
            duration=min(args.duration, 3.0),
            warmup=min(args.warmup, 1.0),
            upstreams=upstreams,
            step_duration=min(args.step_duration, 2.0),
            throughput_start=1000.0,
            throughput_max=1500.0,
            startup_runs=1,
            idle_seconds=0.5,
            pin=not args.no_pin,
        )
    return scenarios.Settings(
        rate=args.rate,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        upstreams=upstreams,
        step_duration=args.step_duration,
        throughput_max=args.throughput_max,
        pin=not args.no_pin,
    )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(ALL)
    if unknown:
        print(f"python -m bench: unknown scenario(s) {sorted(unknown)}; pick from {ALL}")
        return 2
    settings = settings_from(args)
    binary = None if args.python_load else h2load.find()
    if binary is None and not (args.python_load or args.no_install):
        binary = h2load.install()
    if binary is None and not args.python_load:
        log("h2load not found (Debian's nghttp2-client): the Python workers drive the load")
    procs.set_nice(args.nice)
    features = Features.detect()
    pinning = Pinning.detect(settings.pin)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    ctx = scenarios.Context(settings, features, pinning, binary, workdir, log)
    ctx.policy_path = scenarios.write_policy(ctx)
    log(f"features: {features.summary()}; {pinning.describe()}")

    results = scenarios.Results()
    failed = False

    def attempt(name: str, run: Callable[[], T]) -> T | scenarios.NotAvailable:
        # One scenario failing must not lose the others' figures.
        nonlocal failed
        try:
            return run()
        except (BenchError, RuntimeError, OSError) as exc:
            failed = True
            log(f"{name} failed: {exc}")
            return scenarios.NotAvailable(f"failed: {str(exc)[:300]}")

    try:
        if "overhead" in only:
            for kind in settings.upstreams:
                # The idempotency-key runs once, on the last (least noisy) upstream; a quick
                # pass only checks the harness.
                keys = features.idempotency and kind == settings.upstreams[-1] and not args.quick
                row = attempt(f"overhead/{kind}", partial(scenarios.overhead, ctx, kind, keys))
                if isinstance(row, scenarios.Overhead):
                    results.overhead.append(row)
        if "throughput" in only:
            results.throughput = attempt("throughput", partial(scenarios.throughput, ctx))
        if "limiter" in only:
            results.limiter = attempt("limiter", partial(scenarios.limiter, ctx))
        if "webhooks" in only:
            results.webhooks = attempt("webhooks", partial(scenarios.webhooks, ctx))
        if "startup" in only:
            results.startup = attempt("startup", partial(scenarios.startup, ctx))
        profile_text = attempt("profile", partial(profiling.run, ctx)) if args.profile else None
    finally:
        if not args.profile:  # the profile's raw stacks stay for flame graphs
            shutil.rmtree(workdir, ignore_errors=True)

    preamble = machine.describe(ctx)
    text = render(results, preamble)
    if isinstance(profile_text, str):
        text += "\n" + profile_text
    print(text)
    if args.output:
        args.output.write_text(text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
