"""Instructions per CreateInvoice, counted by valgrind's callgrind: repeatable whatever else
the machine is doing, so two versions of the sidecar compare without noise.

Starts a private redis-server and the stub upstream, then the sidecar (`python -m sidecar
serve` with the benchmark's policy and Redis: every capability on) under callgrind twice: once
answering `--calls` sequential CreateInvoice calls and once answering none. The difference,
divided by the calls, is what one call costs, start-up and shutdown cancelled out.

    python bench/instructions.py [--calls 300] [--key]   # --key: a new idempotency-key per call
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import procs, scenarios
from bench.procs import Cluster
from bench.sidecar_process import SidecarProcess


def run_once(
    cluster: Cluster, upstream: str, redis_url: str, policy: Path, calls: int, key: bool
) -> int:
    out = cluster.workdir / f"callgrind.{calls}.out"
    name = f"sidecar-{calls}"
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    sidecar = SidecarProcess(
        upstream=upstream,
        log_level="warning",
        policy=policy,
        redis_url=redis_url,
        command=[*callgrind, sys.executable, "-m", "sidecar", "serve"],
        env={"PYTHONPATH": str(procs.REPO), "CRYPTOPAY_API_TOKEN": procs.BENCH_TOKEN},
        log=cluster.workdir / f"{name}.log",
        cwd=procs.REPO,
        name=name,
    )
    cluster.adopt(procs.Proc(name, sidecar.popen, sidecar.log_path))
    sidecar.wait_serving(within=600)
    asyncio.run(send(sidecar.grpc_port, calls, key))
    sidecar.stop(timeout=600)  # callgrind writes its counts at exit, slowly
    text = out.read_text(errors="replace") if out.exists() else ""
    totals = re.findall(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if not totals:
        raise SystemExit(f"callgrind wrote no totals (sidecar log: {sidecar.tail(500)})")
    return int(totals[-1])


async def send(port: int, calls: int, key: bool) -> None:
    import grpc

    from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc

    request = scenarios.invoice_message(scenarios.invoice_params())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.CryptoPayServiceStub(channel)
        for _ in range(calls):
            metadata = (("idempotency-key", uuid.uuid4().hex),) if key else ()
            await stub.CreateInvoice(request, metadata=metadata, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--key", action="store_true", help="an idempotency-key per call")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with Cluster() as cluster:
        _redis, redis_url = procs.start_redis(cluster, None)
        _stub, upstream = procs.start_stub(
            cluster, None, len(scenarios.invoice_params()["description"])
        )
        policy = cluster.workdir / "policy.yaml"
        policy.write_text(scenarios.POLICY + scenarios.RATE_LIMITS)
        started = time.monotonic()
        idle = run_once(cluster, upstream, redis_url, policy, 0, args.key)
        busy = run_once(cluster, upstream, redis_url, policy, args.calls, args.key)
        per_call = (busy - idle) / args.calls
        print(
            f"instructions per CreateInvoice ({'with' if args.key else 'no'} idempotency-key): "
            f"{per_call / 1e6:.2f} M ({args.calls} calls; start-up and shutdown: "
            f"{idle / 1e6:.0f} M; {time.monotonic() - started:.0f} s)"
        )


if __name__ == "__main__":
    main()
