"""The pure core of idempotency: keys, fingerprints, the state machine, stored answers, and what a
getTransfers lookup says about an unclear transfer."""

from __future__ import annotations

import grpc
import pytest

from sidecar.errors import refusal, upstream_error
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.idempotency import codec
from sidecar.idempotency.fingerprint import (
    derive_spend_id,
    fingerprint,
    key_problem,
    record_key,
)
from sidecar.idempotency.store import Claim, ClaimState
from sidecar.idempotency.transitions import (
    OUTCOME_UNKNOWN,
    Action,
    on_claim,
    outcome_unknown,
    should_store,
    store_on_abandon,
)
from sidecar.methods import BY_RPC, Effect
from sidecar.outcome import Delivery, Outcome
from sidecar.retry import reconcile

TRANSFER = BY_RPC["Transfer"]
CHECK = BY_RPC["CreateCheck"]


def test_fingerprint_is_deterministic_and_request_specific() -> None:
    a = pb.TransferRequest(user_id=1, asset="TON", amount="1", comment="x")
    b = pb.TransferRequest(comment="x", amount="1", asset="TON", user_id=1)
    assert fingerprint(TRANSFER, a) == fingerprint(TRANSFER, b)
    assert fingerprint(TRANSFER, a) != fingerprint(TRANSFER, pb.TransferRequest(user_id=1))
    # The same bytes under another RPC are another request.
    empty_me, empty_balance = pb.GetMeRequest(), pb.GetBalanceRequest()
    assert fingerprint(BY_RPC["GetMe"], empty_me) != fingerprint(
        BY_RPC["GetBalance"], empty_balance
    )


def test_records_are_scoped_by_caller_rpc_and_key() -> None:
    base = record_key("billing", "Transfer", "k1")
    assert base == record_key("billing", "Transfer", "k1")
    assert (
        len(
            {
                base,
                record_key("shop", "Transfer", "k1"),
                record_key("billing", "CreateCheck", "k1"),
                record_key("billing", "Transfer", "k2"),
            }
        )
        == 4
    )
    # Parts cannot run into each other.
    assert record_key("a", "b", "cd") != record_key("ab", "", "cd")


def test_derived_spend_id_is_stable_short_and_scoped() -> None:
    spend_id = derive_spend_id("billing", "order-42")
    assert spend_id == derive_spend_id("billing", "order-42")
    assert spend_id != derive_spend_id("shop", "order-42")
    assert 1 <= len(spend_id) <= 64 and spend_id.startswith("idk-")


@pytest.mark.parametrize(
    ("key", "problem"),
    [("k", None), ("x" * 255, None), ("", "empty"), ("x" * 256, "256"), ("é", "ASCII"),
     ("a\tb", "ASCII")],
)  # fmt: skip
def test_key_problems(key: str, problem: str | None) -> None:
    found = key_problem(key)
    assert (found is None) if problem is None else (problem in (found or ""))


FP = "fp"


@pytest.mark.parametrize(
    ("claim", "effect", "action"),
    [
        (Claim(ClaimState.CLAIMED), Effect.CREATE, Action.EXECUTE),
        (Claim(ClaimState.DONE, FP, "o", b"R"), Effect.TRANSFER, Action.REPLAY),
        (Claim(ClaimState.DONE, "other", "o", b"R"), Effect.TRANSFER, Action.REUSED),
        (Claim(ClaimState.IN_FLIGHT, FP, "o"), Effect.TRANSFER, Action.IN_USE),
        (Claim(ClaimState.IN_FLIGHT, "other", "o"), Effect.TRANSFER, Action.REUSED),
        (Claim(ClaimState.STALE, FP, "o"), Effect.TRANSFER, Action.TAKE_OVER),
        (Claim(ClaimState.STALE, FP, "o"), Effect.DELETE, Action.TAKE_OVER),
        (Claim(ClaimState.STALE, FP, "o"), Effect.CREATE, Action.MARK_UNKNOWN),
    ],
)
def test_on_claim(claim: Claim, effect: Effect, action: Action) -> None:
    assert on_claim(claim, FP, effect) is action


@pytest.mark.parametrize(
    ("outcome", "effect", "store"),
    [
        (Outcome(Delivery.DONE), Effect.CREATE, True),
        (Outcome(Delivery.REJECTED, http_status=400), Effect.TRANSFER, True),  # definite error
        (Outcome(Delivery.REJECTED, retryable=True, http_status=429), Effect.CREATE, False),
        (Outcome(Delivery.REJECTED, http_status=401), Effect.CREATE, False),  # sidecar's token
        (Outcome(Delivery.REJECTED, http_status=403), Effect.TRANSFER, False),  # method disabled
        (Outcome(Delivery.NOT_SENT, retryable=True), Effect.CREATE, False),
        (Outcome(Delivery.UNKNOWN, retryable=True), Effect.CREATE, True),  # OUTCOME_UNKNOWN
        (Outcome(Delivery.UNKNOWN, retryable=True), Effect.TRANSFER, False),  # spend_id retries
        (Outcome(Delivery.UNKNOWN, retryable=True), Effect.DELETE, False),
    ],
)
def test_should_store(outcome: Outcome, effect: Effect, store: bool) -> None:
    assert should_store(outcome, effect) is store


def test_abandoned_calls() -> None:
    assert store_on_abandon(Effect.CREATE, attempts=1)
    assert not store_on_abandon(Effect.CREATE, attempts=0)
    assert not store_on_abandon(Effect.TRANSFER, attempts=2)


def test_outcome_unknown_tells_how_to_reconcile() -> None:
    outcome = outcome_unknown(CHECK, "UPSTREAM_TIMEOUT")
    assert outcome.error is not None and outcome.error.code is grpc.StatusCode.UNAVAILABLE
    assert outcome.error.reason == OUTCOME_UNKNOWN
    assert "GetChecks" in outcome.error.message and "UPSTREAM_TIMEOUT" in outcome.error.message
    invoice = outcome_unknown(BY_RPC["CreateInvoice"], None).error
    assert invoice is not None and "GetInvoices" in invoice.message


def test_codec_round_trips_responses_and_errors() -> None:
    response = pb.CreateCheckResponse(check=types.Check(check_id=7, amount="1.5", asset="TON"))
    back = codec.decode(CHECK, codec.encode(Outcome(Delivery.DONE, response=response)))
    assert back.response == response and back.delivery is Delivery.DONE

    error = refusal(grpc.StatusCode.ABORTED, "SOME_REASON", "msg", retry_after=1.5)
    back = codec.decode(CHECK, codec.encode(Outcome(Delivery.REJECTED, error=error)))
    assert back.error is not None
    assert (back.error.code, back.error.message, back.error.reason) == (
        grpc.StatusCode.ABORTED,
        "msg",
        "SOME_REASON",
    )
    assert list(back.error.details) == list(error.details)
    with pytest.raises(ValueError, match="tag"):
        codec.decode(CHECK, b"?")


# --- reconciling a transfer by spend_id ----------------------------------------------------------

REQUEST = pb.TransferRequest(user_id=5, asset="USDT", amount="1.50", spend_id="s1")
UNKNOWN = Outcome(
    Delivery.UNKNOWN,
    error=refusal(grpc.StatusCode.UNAVAILABLE, "UPSTREAM_DISCONNECTED", "dropped"),
    retryable=True,
    error_name="UPSTREAM_DISCONNECTED",
)


def listing(*transfers: types.Transfer) -> Outcome:
    return Outcome(Delivery.DONE, response=pb.GetTransfersResponse(items=transfers))


def test_lookup_finds_the_transfer() -> None:
    found = types.Transfer(transfer_id=9, spend_id="s1", user_id=5, asset="USDT", amount="1.5")
    result = reconcile.interpret(REQUEST, "s1", UNKNOWN, listing(found))
    assert result.delivery is Delivery.DONE
    assert result.response == pb.TransferResponse(transfer=found)


def test_lookup_finds_nothing_yet() -> None:
    result = reconcile.interpret(REQUEST, "s1", UNKNOWN, listing())
    assert result.delivery is Delivery.UNKNOWN and result.retryable
    assert result.error is not None and "same spend_id" in result.error.message


def test_lookup_finds_another_transfer_under_the_spend_id() -> None:
    other = types.Transfer(transfer_id=9, spend_id="s1", user_id=6, asset="USDT", amount="1.5")
    result = reconcile.interpret(REQUEST, "s1", UNKNOWN, listing(other))
    assert result.delivery is Delivery.REJECTED
    assert result.error is not None and result.error.reason == "SPEND_ID_ALREADY_USED"


def test_failed_lookup_keeps_the_original() -> None:
    failed = Outcome(Delivery.UNKNOWN, error=upstream_error("getTransfers", 500, "APP_ERROR"))
    assert reconcile.interpret(REQUEST, "s1", UNKNOWN, failed) is UNKNOWN


def test_needs_lookup() -> None:
    assert reconcile.needs_lookup(UNKNOWN)
    assert reconcile.needs_lookup(Outcome(Delivery.REJECTED, error_name="SPEND_ID_ALREADY_USED"))
    assert not reconcile.needs_lookup(Outcome(Delivery.REJECTED, error_name="NOT_ENOUGH_COINS"))
    assert not reconcile.needs_lookup(Outcome(Delivery.DONE))


def test_a_retried_delete_that_finds_nothing_was_deleted() -> None:
    spec = BY_RPC["DeleteInvoice"]
    gone = Outcome(Delivery.REJECTED, http_status=400, error_name="INVOICE_NOT_FOUND")
    settled = reconcile.settle_delete(spec, gone, unknown_before=True)
    assert settled.delivery is Delivery.DONE
    assert settled.response == pb.DeleteInvoiceResponse(deleted=True)
    # Without an earlier unknown attempt, "not found" means what it says.
    assert reconcile.settle_delete(spec, gone, unknown_before=False) is gone
