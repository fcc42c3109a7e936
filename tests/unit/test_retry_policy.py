"""The retry decision (pure): effect classes, conditions, backoff, Retry-After, deadline."""

from __future__ import annotations

import pytest

from sidecar.methods import Effect
from sidecar.outcome import Delivery, Outcome
from sidecar.retry.policy import Stop, backoff, condition, decide, effect_allows
from sidecar.retry.settings import RetryRule

DONE = Outcome(Delivery.DONE, http_status=200)
CONNECT = Outcome(Delivery.NOT_SENT, retryable=True, error_name="UPSTREAM_UNREACHABLE")
TIMEOUT = Outcome(Delivery.UNKNOWN, retryable=True, error_name="UPSTREAM_TIMEOUT")
DROPPED = Outcome(Delivery.UNKNOWN, retryable=True, error_name="UPSTREAM_DISCONNECTED")
HTTP_500 = Outcome(Delivery.UNKNOWN, retryable=True, http_status=500, error_name="APP_ERROR")
HTTP_503 = Outcome(Delivery.UNKNOWN, retryable=True, http_status=503, error_name="X")
HTTP_429 = Outcome(Delivery.REJECTED, retryable=True, http_status=429, error_name="TOO_MANY")
HTTP_400 = Outcome(Delivery.REJECTED, http_status=400, error_name="NOT_ENOUGH_COINS")
MALFORMED = Outcome(Delivery.UNKNOWN, http_status=200, error_name="UPSTREAM_MALFORMED_RESPONSE")


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (CONNECT, "connect"),
        (TIMEOUT, "timeout"),
        (DROPPED, "disconnect"),
        (HTTP_500, "500"),
        (HTTP_429, "429"),
        (Outcome(Delivery.UNKNOWN), None),
    ],
)
def test_condition(outcome: Outcome, expected: str | None) -> None:
    assert condition(outcome) == expected


# Which effect classes may retry after which failure.
@pytest.mark.parametrize(
    ("effect", "outcome", "allowed"),
    [
        (Effect.READ, TIMEOUT, True),
        (Effect.READ, HTTP_500, True),
        (Effect.DELETE, DROPPED, True),
        (Effect.TRANSFER, TIMEOUT, True),  # deduplicated upstream by spend_id
        (Effect.TRANSFER, HTTP_500, True),
        (Effect.CREATE, CONNECT, True),  # provably never sent
        (Effect.CREATE, HTTP_429, True),  # refused: nothing was created
        (Effect.CREATE, TIMEOUT, False),  # may have been created
        (Effect.CREATE, DROPPED, False),
        (Effect.CREATE, HTTP_500, False),
    ],
)
def test_effect_classes(effect: Effect, outcome: Outcome, allowed: bool) -> None:
    assert effect_allows(effect, outcome) is allowed
    decision = decide(
        effect=effect, outcome=outcome, attempts_made=1, rule=RetryRule(), remaining=None, draw=0.5
    )
    assert decision.retry is allowed
    assert decision.stop is (None if allowed else Stop.EFFECT)


RULE = RetryRule(max_attempts=3, backoff_base=0.1, backoff_cap=1.0, retry_after_cap=5.0)


@pytest.mark.parametrize(
    ("outcome", "made", "remaining", "retry", "stop", "delay"),
    [
        (DONE, 1, None, False, Stop.DONE, 0.0),
        (HTTP_400, 1, None, False, Stop.NOT_RETRYABLE, 0.0),
        (MALFORMED, 1, None, False, Stop.NOT_RETRYABLE, 0.0),
        (HTTP_503, 1, None, True, None, 0.05),  # draw 0.5 x min(1.0, 0.1)
        (HTTP_503, 2, None, True, None, 0.1),  # 0.5 x 0.2
        (HTTP_503, 3, None, False, Stop.ATTEMPTS, 0.0),
        # Retry-After is honoured when the cap allows it...
        (Outcome(Delivery.REJECTED, retryable=True, retry_after=2.0, http_status=429), 1, None,
         True, None, 2.0),
        # ...waited out when the caller's deadline leaves room for it...
        (Outcome(Delivery.REJECTED, retryable=True, retry_after=2.0, http_status=429), 1, 10.0,
         True, None, 2.0),
        # ...and handed back to the caller when it is longer than the cap.
        (Outcome(Delivery.REJECTED, retryable=True, retry_after=30.0, http_status=429), 1, None,
         False, Stop.RETRY_AFTER, 0.0),
        # Never an attempt that cannot finish before the deadline.
        (HTTP_503, 1, 0.04, False, Stop.DEADLINE, 0.0),
        (Outcome(Delivery.REJECTED, retryable=True, retry_after=2.0, http_status=429), 1, 1.5,
         False, Stop.DEADLINE, 0.0),
        (HTTP_503, 1, 10.0, True, None, 0.05),
    ],
)  # fmt: skip
def test_decide(
    outcome: Outcome,
    made: int,
    remaining: float | None,
    retry: bool,
    stop: Stop | None,
    delay: float,
) -> None:
    decision = decide(
        effect=Effect.READ,
        outcome=outcome,
        attempts_made=made,
        rule=RULE,
        remaining=remaining,
        draw=0.5,
    )
    assert (decision.retry, decision.stop) == (retry, stop)
    assert decision.delay == pytest.approx(delay)


def test_conditions_can_be_narrowed() -> None:
    rule = RetryRule(retry_on=frozenset({"connect", "503"}))
    for outcome, retry in ((HTTP_500, False), (HTTP_503, True), (CONNECT, True), (TIMEOUT, False)):
        decision = decide(
            effect=Effect.READ,
            outcome=outcome,
            attempts_made=1,
            rule=rule,
            remaining=None,
            draw=0.0,
        )
        assert decision.retry is retry
        assert retry or decision.stop is Stop.CONDITION


@pytest.mark.parametrize(
    ("n", "draw", "expected"),
    [
        (1, 0.999, 0.0999),
        (2, 1.0, 0.2),
        (3, 1.0, 0.4),
        (5, 1.0, 1.0),
        (10, 0.5, 0.5),
        (1, 0.0, 0.0),
    ],
)
def test_full_jitter_backoff(n: int, draw: float, expected: float) -> None:
    assert backoff(n, 0.1, 1.0, draw) == pytest.approx(expected)
