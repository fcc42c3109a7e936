"""Should this attempt be retried, and after how long? (pure)

The answer depends on what the attempt did (outcome.py), what the RPC does to money (its effect
class), how many attempts were made, the caller's remaining deadline and a random draw for jitter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sidecar.methods import Effect
from sidecar.outcome import Delivery, Outcome
from sidecar.retry.settings import RetryRule

# Transport failures, by the reason outcome.py gives them, as retry_on conditions.
_TRANSPORT_CONDITIONS = {
    "UPSTREAM_UNREACHABLE": "connect",
    "UPSTREAM_TIMEOUT": "timeout",
    "UPSTREAM_DISCONNECTED": "disconnect",
}


class Stop(enum.Enum):
    """Why a call is not retried (for logs and tests)."""

    DONE = "done"
    NOT_RETRYABLE = "not_retryable"
    CONDITION = "condition_not_configured"
    EFFECT = "effect_forbids"  # a create that may have reached the upstream
    ATTEMPTS = "attempts_exhausted"
    RETRY_AFTER = "retry_after_too_long"
    DEADLINE = "deadline"


@dataclass(frozen=True, slots=True)
class Decision:
    retry: bool
    delay: float = 0.0
    stop: Stop | None = None


def condition(outcome: Outcome) -> str | None:
    """The retry_on condition an outcome matches: an HTTP status or a transport failure kind."""
    if outcome.http_status is not None:
        return str(outcome.http_status)
    return _TRANSPORT_CONDITIONS.get(outcome.error_name or "")


def effect_allows(effect: Effect, outcome: Outcome) -> bool:
    """Reads, deletes and transfers (deduplicated by spend_id) retry after any transient failure;
    creates only when the upstream provably did not perform them: never sent, or refused (429)."""
    if effect is Effect.CREATE:
        return outcome.delivery in (Delivery.NOT_SENT, Delivery.REJECTED)
    return True


def backoff(retry_number: int, base: float, cap: float, draw: float) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^(n-1))) for the n-th retry (draw in [0, 1))."""
    ceiling = min(cap, base * 2.0 ** max(retry_number - 1, 0))
    return draw * ceiling


def decide(
    *,
    effect: Effect,
    outcome: Outcome,
    attempts_made: int,
    rule: RetryRule,
    remaining: float | None,
    draw: float,
) -> Decision:
    """Whether to make attempt number `attempts_made + 1`, and the delay before it."""
    if outcome.delivery is Delivery.DONE:
        return Decision(False, stop=Stop.DONE)
    if not outcome.retryable:
        return Decision(False, stop=Stop.NOT_RETRYABLE)
    if condition(outcome) not in rule.retry_on:
        return Decision(False, stop=Stop.CONDITION)
    if not effect_allows(effect, outcome):
        return Decision(False, stop=Stop.EFFECT)
    if attempts_made >= rule.max_attempts:
        return Decision(False, stop=Stop.ATTEMPTS)
    delay = backoff(attempts_made, rule.backoff_base, rule.backoff_cap, draw)
    if outcome.retry_after is not None:
        # Waiting less than the upstream asked would only earn another 429; waiting longer than
        # the cap would hold the caller, who gets the error with a RetryInfo instead.
        if outcome.retry_after > rule.retry_after_cap:
            return Decision(False, stop=Stop.RETRY_AFTER)
        delay = max(delay, outcome.retry_after)
    if remaining is not None and remaining - delay < rule.min_attempt_time:
        return Decision(False, stop=Stop.DEADLINE)
    return Decision(True, delay=delay)
