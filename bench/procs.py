"""The processes under test: Redis, the emulator or the stub, the sidecar; pinned with taskset.

Every process is a separate OS process started the way an operator would start it, so its CPU
and memory can be read from /proc without counting the harness or the load generator.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import sidecar_process
from bench.sidecar_process import SidecarProcess, SidecarStartError, free_port
from bench.stats import ProcSample, parse_proc_stat, parse_proc_status

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A well-formed token: the emulator gives it an app, the stub ignores it. Not a secret.
BENCH_TOKEN = "1000:" + "BenchmarkTokenForLocalUseOnly000000"


class BenchError(RuntimeError):
    """Something the harness needs did not start or answer; the message says what."""


@dataclass(frozen=True)
class Pinning:
    """Which CPUs each side runs on. With two or more CPUs and taskset, the sidecar gets CPU 0
    to itself and everything else (load generator, upstream, Redis) shares the others, so the
    sidecar's figures are its own and the load generator never steals its core."""

    sidecar: str | None
    others: str | None

    @classmethod
    def detect(cls, enabled: bool = True) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if not enabled or len(cpus) < 2 or shutil.which("taskset") is None:
            return cls(None, None)
        return cls(str(cpus[0]), ",".join(str(c) for c in cpus[1:]))

    def describe(self) -> str:
        priority = f"; every process at nice {_nice}" if _nice else ""
        if self.sidecar is None:
            return "not pinned" + priority
        return (
            f"sidecar on CPU {self.sidecar}; "
            f"load generator, upstream and Redis on CPU {self.others}{priority}"
        )


# Scheduling priority of every process the harness starts (see --nice): on a shared machine a
# negative value keeps other work from taking the measured processes' CPU time.
_nice = 0


def set_nice(value: int) -> None:
    global _nice
    _nice = value


def pinned(argv: Sequence[str], cpus: str | None) -> list[str]:
    """The command pinned to `cpus` at the chosen priority (see sidecar_process.pinned)."""
    return sidecar_process.pinned(argv, cpus, _nice)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def sample(self) -> ProcSample:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        rss, peak, anon = parse_proc_status(Path(f"/proc/{self.pid}/status").read_text())
        return ProcSample(parse_proc_stat(stat, CLOCK_TICKS), rss, peak, anon)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        sidecar_process.terminate(self.popen, timeout)


@dataclass
class Cluster:
    """Owns every process it starts and stops them all, whatever happens."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        cpus: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Proc:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                pinned(argv, cpus),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            )
        return self.adopt(Proc(name, popen, log_path))

    def adopt(self, proc: Proc) -> Proc:
        """A process started elsewhere, stopped with the others."""
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(what: str, check: object, proc: Proc, timeout: float = 30.0) -> float:
    """Polls `check()` until true; returns the seconds it took. Fails fast if `proc` died."""
    assert callable(check)
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited while waiting for {what}:\n{proc.log_tail()}")
        if check():
            return time.monotonic() - start
        time.sleep(0.01)
    raise BenchError(f"{proc.name}: {what} not reached within {timeout:.0f}s:\n{proc.log_tail()}")


def http_ok(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=0.5) as response:
            return bool(200 <= response.status < 300)
    except (OSError, urllib.error.URLError):
        return False


def redis_binary() -> str | None:
    return os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")


def start_redis(cluster: Cluster, cpus: str | None) -> tuple[Proc, str]:
    binary = redis_binary()
    if binary is None:
        raise BenchError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    directory = cluster.workdir / "redis"
    directory.mkdir()
    proc = cluster.spawn(
        "redis",
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--daemonize",
            "no",
        ],
        cpus,
    )

    def pong() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_until("PING", pong, proc, 10)
    return proc, f"redis://127.0.0.1:{port}/0"


def start_emulator(cluster: Cluster, cpus: str | None) -> tuple[Proc, str]:
    port = free_port()
    proc = cluster.spawn(
        "emulator",
        [
            sys.executable,
            "-m",
            "sidecar.emulator",
            "--listen",
            f"127.0.0.1:{port}",
            "--log-level",
            "WARNING",
        ],
        cpus,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(
        "HTTP",
        lambda: http_ok(f"{url}/_emulator/stats", {"Crypto-Pay-API-Token": BENCH_TOKEN}),
        proc,
    )
    return proc, url


def start_stub(cluster: Cluster, cpus: str | None, description_size: int) -> tuple[Proc, str]:
    port = free_port()
    proc = cluster.spawn(
        "stub",
        [
            sys.executable,
            "-m",
            "bench.stub",
            "--listen",
            f"127.0.0.1:{port}",
            "--description-size",
            str(description_size),
        ],
        cpus,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until("HTTP", lambda: http_ok(f"{url}/_stub/stats"), proc)
    return proc, url


@dataclass
class RunningSidecar:
    proc: Proc
    grpc_port: int
    http_port: int
    startup_seconds: float  # from exec to SERVING on the gRPC health service

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


def start_sidecar(
    cluster: Cluster,
    cpus: str | None,
    upstream_url: str,
    extra_args: Sequence[str] = (),
    name: str = "sidecar",
) -> RunningSidecar:
    sidecar = SidecarProcess(
        *extra_args,
        upstream=upstream_url,
        log_level="warning",
        env={"PYTHONPATH": str(REPO), "CRYPTOPAY_API_TOKEN": BENCH_TOKEN},
        log=cluster.workdir / f"{name}.log",
        cpus=cpus,
        nice=_nice,
        cwd=REPO,
        name=name,
    )
    proc = cluster.adopt(Proc(name, sidecar.popen, sidecar.log_path))
    try:
        # Polled often: start-up is timed with it.
        sidecar.wait_serving(within=30, poll=0.01)
    except SidecarStartError as error:
        raise BenchError(str(error)) from None
    assert sidecar.startup_seconds is not None
    return RunningSidecar(proc, sidecar.grpc_port, sidecar.http_port, sidecar.startup_seconds)
