"""Shared test helpers (not fixtures): sample payloads, tokens, free ports, waiting."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import secrets
import socket
import string
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

from sidecar import mapping
from sidecar.policy import build
from sidecar.policy.model import PolicySnapshot, freeze, permissive
from tests.tools import require_path

REPO = Path(__file__).resolve().parents[1]
# The project's own synthetic payloads (documented shapes and formats; tests/fixtures/README.md).
FIXTURES = REPO / "tests" / "fixtures"
# Payloads captured from the real API, kept outside the repository: tests that compare against
# them run when a `shared/` folder sits beside the clone (CI has one), and are skipped otherwise.
CAPTURES = REPO.parent / "shared" / "fixtures"
CAPTURED = "shared:"

T = TypeVar("T")


def fixture_path(name: str) -> Path:
    """`name` in tests/fixtures, or with the `shared:` prefix in ../shared/fixtures (skipped
    when that folder is absent; a failure under CI=true)."""
    if name.startswith(CAPTURED):
        require_path(CAPTURES, "put a copy of shared/ (the real captures) beside the clone")
        return CAPTURES / name.removeprefix(CAPTURED)
    return FIXTURES / name


def fixture(name: str) -> Any:
    """A payload (see fixture_path), numbers parsed as Decimal like the sidecar does."""
    return mapping.loads(fixture_path(name).read_bytes())


def new_token(app_id: int | None = None) -> str:
    """A fresh well-formed Crypto Pay token: the emulator gives each one its own app."""
    alphabet = string.ascii_letters + string.digits
    app = app_id if app_id is not None else 10_000 + secrets.randbelow(10**9)
    return f"{app}:" + "".join(secrets.choice(alphabet) for _ in range(35))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rich_details(error: Any) -> dict[str, Any]:
    """The google.rpc details of a gRPC error, by type name (ErrorInfo, BadRequest, RetryInfo)."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)
    out: dict[str, Any] = {}
    if status is None:
        return out
    for detail in status.details:
        for cls in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.RetryInfo,
        ):
            if detail.Is(cls.DESCRIPTOR):
                message = cls()
                detail.Unpack(message)
                out[cls.__name__] = message
    return out


@overload
async def eventually(
    condition: Callable[[], Awaitable[T | None]], what: str, *, within: float = 10.0
) -> T: ...
@overload
async def eventually(
    condition: Callable[[], T | None], what: str, *, within: float = 10.0
) -> T: ...
async def eventually(condition: Callable[[], Any], what: str, *, within: float = 10.0) -> Any:
    """Polls `condition` (sync or async) until it gives a truthy value, and returns that value
    (never None, so a check may answer None for "not yet").

    Fails after `within` seconds with `what` (what was awaited) and the last value seen; the
    limit also cuts a check in progress short. Exceptions from the condition propagate.
    """
    last: Any = None
    delay = _FIRST_POLL
    try:
        async with asyncio.timeout(within) as scope:
            while True:
                value = condition()
                if inspect.isawaitable(value):
                    value = await value
                if value:
                    return value
                last = value
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_POLL)
    except TimeoutError:
        if not scope.expired():
            raise  # the condition's own timeout, not ours
        raise AssertionError(_timed_out(what, within, last)) from None


def eventually_sync(condition: Callable[[], T | None], what: str, *, within: float = 10.0) -> T:
    """`eventually` for synchronous code (blocking gRPC stubs, subprocess fixtures): blocks the
    thread between checks, and cannot interrupt a check in progress."""
    deadline = time.monotonic() + within
    delay = _FIRST_POLL
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(what, within, value))
        time.sleep(delay)
        delay = min(delay * 2, _MAX_POLL)


# Quick to notice a change in this process, gentle on a busy machine for a slow one.
_FIRST_POLL = 0.005
_MAX_POLL = 0.05


def _timed_out(what: str, within: float, last: object) -> str:
    return f"timed out after {within:g} s waiting for {what} (last seen: {last!r})"


def snapshot(sections: Mapping[str, Any]) -> PolicySnapshot:
    """A policy snapshot with these raw sections (rate_limits, cache, ...) and no rules."""
    raw = freeze(sections)
    return dataclasses.replace(
        permissive(), sections=raw, parsed=build.parse_sections(raw), permissive=False
    )
