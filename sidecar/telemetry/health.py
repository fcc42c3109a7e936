"""Readiness: can the sidecar do its job right now, and if not, why.

One pure function (`evaluate`) decides from the facts; a `Readiness` per sidecar gathers them
and pushes every change to the gRPC health service, /readyz and the `ready` metric.

Facts come from two places:
- the process-wide dependency board, where components that own a dependency report it with
  `set_dependency("redis", ok, reason)` (Redis stores, the policy loader...). A dependency
  reported with `required=False` may fail without taking the sidecar out of service: it is
  then "degraded" (the component has a fallback the operator allowed);
- the sidecar's own checks (`Readiness.set`): the upstream session, draining on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sidecar import secrets
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    reason: str = ""
    required: bool = True  # False: failing only degrades the sidecar


@dataclass(frozen=True, slots=True)
class Verdict:
    ready: bool
    reason: str  # "ok", "draining", "starting", or what is wrong
    degraded: tuple[str, ...] = ()
    # Required dependencies that are down while readiness does not wait for them (the operator
    # chose `--readiness degraded`): the process stays ready, the API services report
    # NOT_SERVING in gRPC health so that clients which care can tell.
    impaired: tuple[str, ...] = ()

    @property
    def api_serving(self) -> bool:
        return self.ready and not self.impaired


def _describe(check: Check) -> str:
    return f"{check.name}: {check.reason}" if check.reason else check.name


def evaluate(
    *,
    started: bool,
    draining: bool,
    checks: Iterable[Check],
    relaxed: frozenset[str] = frozenset(),
) -> Verdict:
    """Whether to report SERVING (pure). Draining wins over everything, then start-up, then
    failing required checks; failing optional checks only add a degraded note. A required
    check named in `relaxed` does not take the sidecar out of service: it is reported as
    degraded and impaired instead (readiness mode `degraded`)."""
    items = sorted(checks, key=lambda c: c.name)
    impaired = tuple(_describe(c) for c in items if not c.ok and c.required and c.name in relaxed)
    degraded = tuple(
        _describe(c) for c in items if not c.ok and (not c.required or c.name in relaxed)
    )
    if draining:
        return Verdict(False, "draining", degraded, impaired)
    if not started:
        return Verdict(False, "starting", degraded, impaired)
    failing = [_describe(c) for c in items if not c.ok and c.required and c.name not in relaxed]
    if failing:
        return Verdict(False, "; ".join(failing), degraded, impaired)
    if degraded:
        return Verdict(True, "degraded: " + "; ".join(degraded), degraded, impaired)
    return Verdict(True, "ok")


# --- the process-wide dependency board -----------------------------------------------------------

Listener = Callable[[], None]


class Board:
    """Dependencies as their owners last reported them."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._listeners: list[Listener] = []

    def set(self, check: Check) -> None:
        check = Check(check.name, check.ok, secrets.scrub(check.reason), check.required)
        previous = self._checks.get(check.name)
        self._checks[check.name] = check
        metrics.dependency(check.name, check.ok)
        if previous is None or previous.ok != check.ok:
            _log_transition(check, first=previous is None)
        if previous != check:
            self._notify()

    def clear(self, name: str | None = None) -> None:
        """Forgets one dependency (or all): its owner stopped."""
        names = [name] if name is not None else list(self._checks)
        changed = False
        for item in names:
            changed |= self._checks.pop(item, None) is not None
        if changed:
            self._notify()

    def checks(self) -> tuple[Check, ...]:
        return tuple(self._checks.values())

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


def _log_transition(check: Check, *, first: bool) -> None:
    if check.ok:
        if not first:
            log.info("dependency recovered", extra={"dependency": check.name})
        return
    log.warning(
        "dependency degraded" if not check.required else "dependency down",
        extra={"dependency": check.name, "reason": check.reason, "required": check.required},
    )


BOARD = Board()


def set_dependency(name: str, ok: bool, reason: str = "", *, required: bool = True) -> None:
    """Reports a dependency's health, e.g. `set_dependency("redis", False, "connection refused")`.

    Call it on every change (repeating the same state is cheap). `required=False` says the
    caller has a fallback the operator allowed: the sidecar stays SERVING, marked degraded.
    """
    BOARD.set(Check(name, ok, reason or ("ok" if ok else "unavailable"), required))


def clear_dependency(name: str) -> None:
    BOARD.clear(name)


# --- one sidecar's readiness ---------------------------------------------------------------------

Publish = Callable[[Verdict], Awaitable[None]]

# Readiness modes (`--readiness`): which dependencies a failure of takes the sidecar out of
# service. Sidecar mode defaults to `degraded`: a pod whose Redis is down still serves the
# application's own traffic, which never touches Crypto Pay.
READINESS_MODES = ("strict", "degraded")
RELAXED_IN_DEGRADED = frozenset({"redis"})


def relaxed_for(mode: str) -> frozenset[str]:
    """The dependencies readiness does not wait for in `mode` (pure)."""
    if mode not in READINESS_MODES:
        raise ValueError(f"readiness mode must be one of {', '.join(READINESS_MODES)}")
    return RELAXED_IN_DEGRADED if mode == "degraded" else frozenset()


class Readiness:
    """Combines the board with this sidecar's own checks and publishes every change."""

    def __init__(self, board: Board = BOARD, *, relaxed: frozenset[str] = frozenset()) -> None:
        self._board = board
        self._relaxed = relaxed
        self._own: dict[str, Check] = {}
        self._started = False
        self._draining = False
        self._publishers: list[Publish] = []
        self._last: Verdict | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = board.subscribe(self._changed)

    def verdict(self) -> Verdict:
        return evaluate(
            started=self._started,
            draining=self._draining,
            checks=[*self._board.checks(), *self._own.values()],
            relaxed=self._relaxed,
        )

    def relax(self, relaxed: frozenset[str]) -> None:
        """Sets the dependencies readiness does not wait for (from the readiness mode)."""
        self._relaxed = relaxed
        self._changed()

    def probe(self) -> tuple[bool, str]:
        """For /readyz: (ready, reason)."""
        verdict = self.verdict()
        return verdict.ready, verdict.reason

    def set(self, name: str, ok: bool, reason: str = "", *, required: bool = True) -> None:
        """This sidecar's own check (the upstream session...)."""
        self._own[name] = Check(name, ok, reason or ("ok" if ok else "unavailable"), required)
        self._changed()

    def started(self) -> None:
        self._started = True
        self._changed()

    def add_publisher(self, publish: Publish) -> None:
        """`publish(verdict)` is awaited on every change of the verdict's readiness."""
        self._publishers.append(publish)

    async def drain(self) -> None:
        """Reports NOT_SERVING for good (shutdown has begun) and waits until it is published."""
        self._draining = True
        self._changed()
        await self.settle()

    async def settle(self) -> None:
        """Waits until every change so far has been published."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def close(self) -> None:
        self._unsubscribe()

    def _changed(self) -> None:
        verdict = self.verdict()
        previous, self._last = self._last, verdict
        metrics.degraded(bool(verdict.degraded))
        if (
            previous is not None
            and previous.ready == verdict.ready
            and previous.api_serving == verdict.api_serving
        ):
            if previous.reason != verdict.reason:
                log.info("readiness reason changed", extra={"reason": verdict.reason})
            return
        metrics.ready(verdict.ready)
        if previous is not None:
            log.log(
                logging.INFO if verdict.ready or self._draining else logging.WARNING,
                "ready" if verdict.ready else "not ready",
                extra={"reason": verdict.reason},
            )
        self._publish()

    def _publish(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (unit tests): nothing to push to
            return
        for publish in self._publishers:
            # The task publishes the verdict current when it runs, so overlapping changes
            # always end on the latest state.
            task = loop.create_task(_published(publish, self.verdict))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def _published(publish: Publish, current: Callable[[], Verdict]) -> None:
    try:
        await publish(current())
    except Exception:
        log.exception("could not publish the health status")


def grpc_publisher(servicer: Any, services: Iterable[str]) -> Publish:
    """Publishes to grpc_health's aio HealthServicer: the overall status ("", what probes ask)
    follows readiness; each API service is SERVING only while nothing it needs is impaired."""
    from grpc_health.v1 import health_pb2

    names = tuple(services)

    def status(serving: bool) -> Any:
        return (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )

    async def publish(verdict: Verdict) -> None:
        await servicer.set("", status(verdict.ready))
        for name in names:
            await servicer.set(name, status(verdict.api_serving))

    return publish


# --- Redis probe ---------------------------------------------------------------------------------


async def watch_redis(
    client: Any,
    *,
    interval: float = 1.0,
    ping_timeout: float = 0.5,
    required: bool = True,
    name: str = "redis",
) -> None:
    """PINGs Redis every `interval` seconds and reports the result on the board (runs until
    cancelled). Other Redis users report failures as they meet them; this notices recovery."""
    while True:
        try:
            with tracing.untraced():
                await asyncio.wait_for(client.ping(), ping_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            set_dependency(name, False, _redis_reason(exc), required=required)
        else:
            set_dependency(name, True, "ok", required=required)
        await asyncio.sleep(interval)


def _redis_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer to PING"
    # redis-py's messages name host and port, never the password; scrubbed anyway on the board.
    return f"{type(exc).__name__}: {exc}"[:200]
