"""Shared test helpers (not fixtures): sample payloads, tokens, free ports."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import socket
import string
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Polls `condition` until it holds; fails after `within` seconds (generous on purpose)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.005)


def snapshot(sections: Mapping[str, Any]) -> PolicySnapshot:
    """A policy snapshot with these raw sections (rate_limits, cache, ...) and no rules."""
    raw = freeze(sections)
    return dataclasses.replace(
        permissive(), sections=raw, parsed=build.parse_sections(raw), permissive=False
    )
