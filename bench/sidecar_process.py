"""A `python -m sidecar serve` process, started one way by the tests and by the benchmark.

It lives in bench/ because that is the one place both can import: the tests already import
bench (they test its pure parts), while the benchmark must not import the test suite (it runs
from a checkout without pytest, and the two importing each other would be a cycle), and the
sidecar package ships, so a harness has no place in it. It needs only the standard library, and
grpc for the health check.

    with SidecarProcess(demo=True, log_level="warning").wait_serving() as sidecar:
        channel = grpc.insecure_channel(sidecar.target)
        ...
    # leaving the block stopped it with SIGTERM; stop() returns its JSON log lines

Its output (stdout and stderr, in one file) goes to `log`, or to a temporary file that stop()
and kill() remove after reading it: a pipe that nobody reads would block the sidecar's logging
once full, and the sidecar with it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

# A flag's value: `--name value`; True is the bare flag; None and False leave it out.
Flag = str | int | float | Path | bool | None


class SidecarStartError(RuntimeError):
    """The sidecar exited, or was not ready in time; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_flags(flags: Mapping[str, Flag]) -> list[str]:
    """The flags as `serve` takes them, underscores as dashes: `redis_url=u` is `--redis-url u`."""
    argv: list[str] = []
    for name, value in flags.items():
        if value is None or value is False:
            continue
        argv.append("--" + name.replace("_", "-"))
        if value is not True:
            argv.append(str(value))
    return argv


def pinned(argv: Sequence[str], cpus: str | None = None, nice: int = 0) -> list[str]:
    """The command pinned to `cpus` (taskset) at priority `nice`. taskset and nice exec the
    command, so the pid started is the measured process itself."""
    command = ["taskset", "-c", cpus, *argv] if cpus else list(argv)
    return ["nice", "-n", str(nice), *command] if nice else command


def grpc_serving(port: int) -> bool:
    """One check of the gRPC health service on 127.0.0.1:`port`."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # A new channel each time: a channel's reconnect back-off (1 s and growing after a refused
    # connection) would see SERVING late, and the benchmark times start-up with this.
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            status = (
                health_pb2_grpc.HealthStub(channel)
                .Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                .status
            )
        except grpc.RpcError:
            return False
    return bool(status == health_pb2.HealthCheckResponse.SERVING)


def terminate(popen: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within `timeout` s."""
    if popen.poll() is None:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)


def wait_serving(
    popen: subprocess.Popen[Any],
    port: int,
    *,
    within: float = 60.0,
    ready: Callable[[], bool] | None = None,
    poll: float = 0.05,
    output: Callable[[], str] | None = None,
) -> float:
    """Seconds until the gRPC health service on `port` says SERVING (or `ready()` holds).
    SidecarStartError if the process exits first, with `output()` (read only once it has
    exited, so a pipe cannot block), or when `within` seconds pass."""
    check = ready or (lambda: grpc_serving(port))
    started = time.monotonic()
    while True:
        code = popen.poll()
        if code is not None:
            said = output() if output else ""
            raise SidecarStartError(f"exited with code {code} before it was ready\n{said}")
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise SidecarStartError(f"not ready within {within:.0f} s")
        time.sleep(poll)


def _port(listen: Flag) -> int | None:
    """The port of a listen address; None for `off`."""
    text = str(listen)
    return None if text == "off" else int(text.rpartition(":")[2])


class SidecarProcess:
    """`serve` started with these flags (see serve_flags) and raw `args` after them; gRPC and
    HTTP on free loopback ports unless `grpc_listen` or `http_listen` says otherwise. Not waited
    for (wait_serving does that), so several can start at once.

    `env` is added to this process's environment, or is all of it with `inherit_env=False`;
    `cpus` and `nice` pin it (the benchmark); `command` replaces `python -m sidecar serve`, for
    a wrapper such as valgrind."""

    def __init__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        log: Path | None = None,
        cpus: str | None = None,
        nice: int = 0,
        cwd: Path | None = None,
        command: Sequence[str] | None = None,
        name: str = "sidecar",
        **flags: Flag,
    ) -> None:
        flags.setdefault("grpc_listen", f"127.0.0.1:{free_port()}")
        flags.setdefault("http_listen", f"127.0.0.1:{free_port()}")
        grpc_port = _port(flags["grpc_listen"])
        if grpc_port is None:
            raise ValueError("the sidecar always serves gRPC")
        self.name = name
        self.grpc_port = grpc_port
        self._http_port = _port(flags["http_listen"])
        self._owns_log = log is None
        if log is None:
            fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
            os.close(fd)
            log = Path(path)
        self.log_path = log
        self._output: str | None = None  # the whole log, once the process has ended
        self.startup_seconds: float | None = None  # from exec to ready, once waited for
        argv = [*(command or (sys.executable, "-m", "sidecar", "serve")), *serve_flags(flags)]
        base = dict(os.environ) if inherit_env else {}
        self._spawned_at = time.monotonic()
        with log.open("wb") as sink:
            self.popen: subprocess.Popen[bytes] = subprocess.Popen(
                pinned([*argv, *args], cpus, nice),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env={**base, **(env or {})},
            )

    @property
    def http_port(self) -> int:
        if self._http_port is None:
            raise ValueError(f"{self.name} was started with --http-listen off")
        return self._http_port

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def wait_serving(
        self, within: float = 60.0, ready: Callable[[], bool] | None = None, poll: float = 0.05
    ) -> SidecarProcess:
        """Waits until gRPC health says SERVING, or `ready()` holds (for a listener that the
        plaintext health check cannot reach, such as mTLS). On failure the process is stopped
        and SidecarStartError carries the tail of its log."""
        try:
            wait_serving(self.popen, self.grpc_port, within=within, ready=ready, poll=poll)
        except SidecarStartError as error:
            self.stop(timeout=5)
            raise SidecarStartError(f"{self.name}: {error}\n{self.tail()}") from None
        self.startup_seconds = time.monotonic() - self._spawned_at
        return self

    def output(self) -> str:
        """Everything it wrote so far (all of it once stopped or killed)."""
        if self._output is not None:
            return self._output
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def lines(self) -> list[dict[str, Any]]:
        """Its JSON log lines so far."""
        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]

    def tail(self, chars: int = 4000) -> str:
        return self.output()[-chars:]

    def stop(self, timeout: float = 15.0) -> list[dict[str, Any]]:
        """SIGTERM (a graceful drain), SIGKILL if it has not exited within `timeout` s; its
        JSON log lines."""
        terminate(self.popen, timeout)
        self._ended()
        return self.lines()

    def kill(self) -> None:
        """SIGKILL: no drain and no goodbye, as a crash."""
        self.popen.kill()
        self.popen.wait(10)
        self._ended()

    def _ended(self) -> None:
        if self._output is None:
            self._output = self.output()
            if self._owns_log:
                self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> SidecarProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def stop_all(processes: Iterable[SidecarProcess], timeout: float = 15.0) -> None:
    """SIGTERM to every one first, so they drain at the same time; then stop() each."""
    processes = list(processes)
    for process in processes:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
    for process in processes:
        process.stop(timeout)
