"""The idempotency state machine (pure): what a request does given the key's record, and what
an execution's outcome leaves behind.

    no record           -> claim it (in flight) and execute
    done, same request  -> replay the stored answer, no upstream call
    any, other request  -> INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED
    in flight           -> ABORTED IDEMPOTENCY_KEY_IN_USE (with RetryInfo)
    in flight, lease expired (its replica died):
        create          -> the dead replica may have created it: store OUTCOME_UNKNOWN, replay it
        other effects   -> take the record over and execute (transfers are deduplicated by
                           spend_id, deletes are idempotent)
"""

from __future__ import annotations

import enum

import grpc

from sidecar.errors import RpcError, error_info
from sidecar.idempotency.store import Claim, ClaimState
from sidecar.methods import Effect, MethodSpec
from sidecar.outcome import Delivery, Outcome

OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"

# Definite refusals about the sidecar's own setup or load, not about the request: an operator
# (or time) fixes them, so the same key must be able to succeed later.
_NOT_STORED_STATUSES = frozenset({401, 403, 405, 429})


class Action(enum.Enum):
    EXECUTE = "execute"
    REPLAY = "replay"
    REUSED = "reused"
    IN_USE = "in_use"
    TAKE_OVER = "take_over"
    MARK_UNKNOWN = "mark_unknown"


def on_claim(claim: Claim, fingerprint: str, effect: Effect) -> Action:
    if claim.state is ClaimState.CLAIMED:
        return Action.EXECUTE
    if claim.fingerprint != fingerprint:
        return Action.REUSED
    if claim.state is ClaimState.DONE:
        return Action.REPLAY
    if claim.state is ClaimState.IN_FLIGHT:
        return Action.IN_USE
    return Action.MARK_UNKNOWN if effect is Effect.CREATE else Action.TAKE_OVER


def should_store(outcome: Outcome, effect: Effect) -> bool:
    """Keep this outcome under the key (True) or release the key so a retry runs again."""
    if outcome.delivery is Delivery.DONE:
        return True
    if outcome.delivery is Delivery.REJECTED:
        return not outcome.retryable and outcome.http_status not in _NOT_STORED_STATUSES
    if outcome.delivery is Delivery.UNKNOWN:
        # A create may have happened and cannot be retried safely; a transfer or delete can.
        return effect is Effect.CREATE
    return False  # never sent


def store_on_abandon(effect: Effect, attempts: int) -> bool:
    """The call was cancelled mid-way: a create that may have been sent is an unknown outcome."""
    return effect is Effect.CREATE and attempts > 0


def outcome_unknown(spec: MethodSpec, cause: str | None) -> Outcome:
    """The answer for a create whose outcome is unknown (kept under the key, if any)."""
    thing = "invoice" if spec.rpc == "CreateInvoice" else "check"
    lister = "GetInvoices" if thing == "invoice" else "GetChecks"
    metadata = {"method": spec.api}
    if cause:
        metadata["cause"] = cause
    return Outcome(
        Delivery.UNKNOWN,
        error=RpcError(
            grpc.StatusCode.UNAVAILABLE,
            f"{spec.api}: the upstream may or may not have created the {thing} "
            f"({cause or 'the call was interrupted'}); it was not retried because the upstream "
            f"cannot deduplicate it. Check with {lister} before creating it again; a retry with "
            "the same idempotency-key returns this answer",
            (error_info(OUTCOME_UNKNOWN, **metadata),),
        ),
        error_name=OUTCOME_UNKNOWN,
    )
