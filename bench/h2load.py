"""Open-loop load with h2load (Debian's nghttp2-client), in its own process.

h2load speaks HTTP/1.1 (direct runs against the upstream) and h2c (gRPC runs against the
sidecar): a gRPC unary call is an HTTP/2 POST whose body is the 5-byte gRPC frame header plus
the serialized request, with `content-type: application/grpc` and `te: trailers`.

Load shape, as Dapr's Fortio runs it: C connections, each sending one request at a time at
rate/C per second. h2load's per-client timers all start together, which would fire the 16
clients in bursts; connections are therefore opened 1/rate apart (`-r 1 --rate-period`), so the
requests arrive evenly spaced. Per-request latencies come from `--log-file`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import pinned
from bench.stats import Latency

GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")


def grpc_frame(message: bytes) -> bytes:
    """A length-prefixed gRPC message (uncompressed), as it travels in the HTTP/2 DATA frame."""
    return b"\x00" + struct.pack(">I", len(message)) + message


@dataclass(frozen=True)
class Target:
    url: str
    body: bytes
    headers: tuple[str, ...] = ()
    http1: bool = False


@dataclass(frozen=True)
class LoadResult:
    generator: str
    target_rate: float
    achieved_rate: float
    latency: Latency
    sent: int
    succeeded: int
    failed: int
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.sent > 0


def parse_log(lines: Iterable[str]) -> list[tuple[int, int, int]]:
    """(start µs since epoch, HTTP status, µs until the end of the response) per request."""
    rows = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].isdigit():
            rows.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return rows


def measured(
    rows: Sequence[tuple[int, int, int]], warmup_s: float
) -> tuple[list[tuple[int, int, int]], float]:
    """The rows after the warm-up, and the rate they were sent at (requests per second)."""
    if not rows:
        return [], 0.0
    first = min(r[0] for r in rows)
    cut = first + int(warmup_s * 1_000_000)
    kept = [r for r in rows if r[0] >= cut]
    if len(kept) < 2:
        return kept, 0.0
    span = (max(r[0] for r in kept) - min(r[0] for r in kept)) / 1_000_000
    return kept, (len(kept) - 1) / span if span > 0 else 0.0


_SUMMARY = re.compile(
    r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
    r"(\d+) errored, (\d+) timeout"
)


def parse_summary(text: str) -> dict[str, int]:
    match = _SUMMARY.search(text)
    if match is None:
        return {}
    keys = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
    return dict(zip(keys, map(int, match.groups()), strict=True))


def stagger_ms(rate: float) -> int:
    """Milliseconds between connection starts so C clients at rate/C each interleave evenly
    (h2load's smallest period is 1 ms)."""
    return max(1, round(1000 / rate))


def argv(
    binary: str,
    target: Target,
    body_path: Path,
    log_path: Path,
    rate: float,
    connections: int,
    duration_s: float,
    warmup_s: float,
) -> list[str]:
    total = max(connections, round(rate * (duration_s + warmup_s)))
    args = [
        binary,
        "--clients",
        str(connections),
        "--max-concurrent-streams",
        "1",
        "--rps",
        f"{rate / connections:.6g}",
        "--requests",
        str(total),
        "--rate",
        "1",
        "--rate-period",
        f"{stagger_ms(rate)}ms",
        "--data",
        str(body_path),
        "--log-file",
        str(log_path),
    ]
    if target.http1:
        args.append("--h1")
    for header in target.headers:
        args += ["--header", header]
    args.append(target.url)
    return args


def describe(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout.strip() or "h2load") + " (one process)"


def find() -> str | None:
    return shutil.which("h2load")


def install() -> str | None:
    """Installs Debian's nghttp2-client when running as root with apt-get; None if impossible."""
    if find() is not None:
        return find()
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "install", "-y", "-qq", "nghttp2-client"],):
        done = subprocess.run(step, env=env, capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
            subprocess.run(step, env=env, capture_output=True, check=False)
    return find()


def run(
    target: Target,
    *,
    rate: float,
    connections: int,
    duration_s: float,
    warmup_s: float,
    workdir: Path,
    cpus: str | None,
    binary: str,
) -> LoadResult:
    body_path = workdir / "h2load-body.bin"
    body_path.write_bytes(target.body)
    log_path = workdir / "h2load.tsv"
    log_path.unlink(missing_ok=True)
    command = argv(binary, target, body_path, log_path, rate, connections, duration_s, warmup_s)
    command = pinned(command, cpus)
    # A target that cannot keep up stretches the run (the requests are counted, not timed):
    # past twice the planned time it is stopped, and the run reports what it got.
    budget = (duration_s + warmup_s) * 2 + 10
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    notes: tuple[str, ...] = ()
    try:
        stdout, stderr = process.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        notes = (f"stopped after {budget:.0f} s: the target did not keep up with the rate",)
    summary = parse_summary(stdout)
    if not notes and (process.returncode != 0 or not summary):
        raise RuntimeError(f"h2load failed ({process.returncode}): {stderr or stdout}")
    rows: list[tuple[int, int, int]] = []
    if log_path.exists():
        with log_path.open() as log:
            rows = parse_log(log)
    kept, achieved = measured(rows, warmup_s)
    ok = [r for r in kept if 200 <= r[1] < 300]
    total = summary.get("total", len(rows))
    succeeded = summary.get("succeeded", sum(1 for r in rows if 200 <= r[1] < 300))
    return LoadResult(
        generator="h2load",
        target_rate=rate,
        achieved_rate=achieved,
        latency=Latency.of([r[2] / 1000 for r in ok]),
        sent=total,
        succeeded=succeeded,
        failed=total - succeeded if not notes else max(total - succeeded, 1),
        notes=notes,
    )
