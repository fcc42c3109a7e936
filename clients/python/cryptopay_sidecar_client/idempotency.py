"""Idempotency keys: send a mutating call again without risking a second invoice, check or
transfer.

The sidecar records each `idempotency-key` with the request's outcome; the same key and request
gets the stored answer back (trailer `idempotent-replayed: true`) instead of a second upstream
call. `call_idempotent` generates one key per logical operation and resends only after answers
that prove it is safe (see `retry.may_resend`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from cryptopay_sidecar_client.errors import error_details
from cryptopay_sidecar_client.retry import REPEATABLE_REQUESTS, Backoff, may_resend, next_wait

IDEMPOTENCY_KEY = "idempotency-key"
REPLAYED = "idempotent-replayed"
MAX_KEY_LENGTH = 255

Response = TypeVar("Response")
DEFAULT_BACKOFF = Backoff()


def new_idempotency_key() -> str:
    """A fresh random key (a UUID4). Store it with the operation it belongs to (an order id,
    a payout row) so a process that restarts can retry with the same key."""
    return str(uuid.uuid4())


def idempotency_metadata(key: str) -> tuple[tuple[str, str], ...]:
    """The call metadata that carries `key`."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"an idempotency key has 1..{MAX_KEY_LENGTH} characters")
    return ((IDEMPOTENCY_KEY, key),)


@dataclass(frozen=True)
class Idempotent(Generic[Response]):
    """The answer to an idempotent call: the response, the key it was sent with, how many
    times it was sent, and whether the sidecar replayed a stored answer."""

    response: Response
    key: str
    attempts: int
    replayed: bool


def _replayed(trailers: Any) -> bool:
    return any(k == REPLAYED and str(v).lower() == "true" for k, v in trailers or ())


async def call_idempotent(
    rpc: Callable[..., Any],
    request: Any,
    *,
    key: str | None = None,
    timeout: float = 30.0,  # noqa: ASYNC109 (it becomes each attempt's gRPC deadline)
    max_attempts: int = 5,
    backoff: Backoff = DEFAULT_BACKOFF,
    metadata: tuple[tuple[str, str], ...] = (),
) -> Idempotent[Any]:
    """Sends `request` through the grpc.aio method `rpc` (e.g. `stub.CreateInvoice`) with an
    idempotency key, resending with the same key while that is safe, within `timeout` seconds.

    Raises the last grpc.aio.AioRpcError when the call fails for good."""
    key = key or new_idempotency_key()
    call_metadata = metadata + idempotency_metadata(key)
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        call = rpc(request, timeout=max(remaining, 0.001), metadata=call_metadata)
        try:
            response = await call
        except grpc.RpcError as error:
            wait = _wait_before_resend(error, request, attempt, max_attempts, backoff, deadline)
            if wait is None:
                raise
            await asyncio.sleep(wait)
            continue
        return Idempotent(response, key, attempt, _replayed(await call.trailing_metadata()))


def call_idempotent_sync(
    rpc: Callable[..., Any],
    request: Any,
    *,
    key: str | None = None,
    timeout: float = 30.0,
    max_attempts: int = 5,
    backoff: Backoff = DEFAULT_BACKOFF,
    metadata: tuple[tuple[str, str], ...] = (),
) -> Idempotent[Any]:
    """`call_idempotent` for blocking stubs (`rpc` is e.g. `stub.Transfer`)."""
    key = key or new_idempotency_key()
    call_metadata = metadata + idempotency_metadata(key)
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        try:
            response, call = rpc.with_call(  # type: ignore[attr-defined]
                request, timeout=max(remaining, 0.001), metadata=call_metadata
            )
        except grpc.RpcError as error:
            wait = _wait_before_resend(error, request, attempt, max_attempts, backoff, deadline)
            if wait is None:
                raise
            time.sleep(wait)
            continue
        return Idempotent(response, key, attempt, _replayed(call.trailing_metadata()))


def _wait_before_resend(
    error: grpc.RpcError,
    request: Any,
    attempt: int,
    max_attempts: int,
    backoff: Backoff,
    deadline: float,
) -> float | None:
    details = error_details(error)
    descriptor = getattr(request, "DESCRIPTOR", None)
    repeatable = getattr(descriptor, "name", None) in REPEATABLE_REQUESTS
    if attempt >= max_attempts:
        return None
    if not may_resend(details.code, details.reason, repeatable=repeatable):
        return None
    return next_wait(backoff, attempt - 1, details.retry_delay, deadline - time.monotonic())
