"""When a client may send a call again, and how long it waits: pure decisions, no I/O.

A mutating call is only ever resent with the same idempotency key. A create (CreateInvoice,
CreateCheck) is resent only after an answer that proves nothing happened, or that the sidecar
holds the outcome under the key: Crypto Pay cannot deduplicate creates, so after an unknown
outcome a resend could make a second one. A Transfer or a delete is "repeatable": the upstream
itself refuses a second transfer with the same spend_id (derived from the key), and a delete
cannot move money, so they are resent after unknown outcomes too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import grpc

# ErrorInfo reasons after which a resend with the same key is safe.
RETRYABLE_REASONS = frozenset(
    {
        "UPSTREAM_UNREACHABLE",  # the sidecar could not connect: the request was not sent
        "IDEMPOTENCY_KEY_IN_USE",  # the first call with this key is still in flight
    }
)
# ErrorInfo reasons that mean the upstream may have acted: never resent automatically.
UNKNOWN_OUTCOME_REASONS = frozenset(
    {
        "OUTCOME_UNKNOWN",
        "UPSTREAM_DISCONNECTED",
        "UPSTREAM_TIMEOUT",
        "UPSTREAM_MALFORMED_RESPONSE",
    }
)


# RPCs whose repetition with the same key cannot have a second effect.
REPEATABLE_REQUESTS = frozenset({"TransferRequest", "DeleteInvoiceRequest", "DeleteCheckRequest"})


def may_resend(code: grpc.StatusCode, reason: str | None, *, repeatable: bool = False) -> bool:
    """Whether a call that failed with `code` (and ErrorInfo `reason`, if any) may be sent
    again with the same idempotency key; `repeatable` for Transfer and deletes."""
    if reason == "OUTCOME_UNKNOWN":
        return False  # kept under the key: every resend gets this same answer
    if repeatable and (
        code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        or reason in UNKNOWN_OUTCOME_REASONS
    ):
        return True
    if reason in UNKNOWN_OUTCOME_REASONS:
        return False
    if reason in RETRYABLE_REASONS:
        return True
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        # Rate limits and load shedding refuse a call before it reaches the upstream.
        return True
    if code == grpc.StatusCode.UNAVAILABLE:
        # Without a reason the sidecar itself was unreachable (restarting, draining, not yet
        # listening). With a reason, an upstream 5xx: the upstream may have acted.
        return reason is None
    return False


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2^n))."""

    base: float = 0.1
    cap: float = 5.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** max(attempt, 0))
        return ceiling * rand()


def next_wait(
    backoff: Backoff,
    attempt: int,
    server_delay: float | None,
    remaining: float,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when it could not finish in time.

    The server's RetryInfo delay is a floor: waiting less would only be refused again.
    """
    wait = backoff.delay(attempt, rand)
    if server_delay is not None:
        wait = max(wait, server_delay)
    # Leave the next attempt at least a little time to run.
    if wait >= remaining - 0.05:
        return None
    return wait
