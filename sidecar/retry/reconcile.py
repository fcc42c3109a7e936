"""What a getTransfers lookup by spend_id says about a transfer whose outcome was unclear (pure).

The upstream accepts a spend_id once per app, so the transfer it lists under our spend_id is
the one this call asked for, if the amounts and recipient agree.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from google.protobuf.message import Message

from sidecar.errors import upstream_error
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.methods import MethodSpec
from sidecar.outcome import Delivery, Outcome

SPEND_ID_ALREADY_USED = "SPEND_ID_ALREADY_USED"
_GONE = frozenset({"INVOICE_NOT_FOUND", "CHECK_NOT_FOUND"})


def needs_lookup(outcome: Outcome) -> bool:
    """An unknown outcome, or a refusal that says the spend_id was already used."""
    return outcome.delivery is Delivery.UNKNOWN or outcome.error_name == SPEND_ID_ALREADY_USED


def _same_amount(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return a == b


def matches(request: pb.TransferRequest, transfer: Message) -> bool:
    return (
        transfer.user_id == request.user_id  # type: ignore[attr-defined]
        and transfer.asset == request.asset  # type: ignore[attr-defined]
        and _same_amount(transfer.amount, request.amount)  # type: ignore[attr-defined]
    )


def interpret(request: Message, spend_id: str, original: Outcome, lookup: Outcome) -> Outcome:
    """The outcome to act on after a lookup: the real transfer, a conflict with an earlier
    transfer under the same spend_id, or the original (still unknown)."""
    if lookup.delivery is not Delivery.DONE or lookup.response is None:
        return original
    found = [t for t in lookup.response.items if t.spend_id == spend_id]  # type: ignore[attr-defined]
    if not found:
        if original.delivery is Delivery.UNKNOWN and original.error is not None:
            # Not listed (yet: a slow request may still land), so the answer stays unknown, but
            # the caller learns that a retry with the same spend_id is the safe next step.
            error = replace(
                original.error,
                message=f"{original.error.message}; getTransfers lists no transfer with this "
                "spend_id yet: retry with the same spend_id (the upstream accepts it only once)",
            )
            return replace(original, error=error)
        return original
    transfer = found[0]
    assert isinstance(request, pb.TransferRequest)
    if matches(request, transfer):
        return Outcome(
            Delivery.DONE, response=pb.TransferResponse(transfer=transfer), http_status=200
        )
    return Outcome(
        Delivery.REJECTED,
        error=upstream_error("transfer", 400, SPEND_ID_ALREADY_USED),
        http_status=400,
        error_name=SPEND_ID_ALREADY_USED,
    )


def settle_delete(spec: MethodSpec, outcome: Outcome, unknown_before: bool) -> Outcome:
    """A delete retried after an attempt with an unknown outcome, answered "not found": the
    earlier attempt (or someone else) deleted it, and a delete asks for exactly that."""
    if unknown_before and outcome.error_name in _GONE:
        return Outcome(
            Delivery.DONE,
            response=spec.response_type(**{spec.result_field: True}),
            http_status=200,
        )
    return outcome
