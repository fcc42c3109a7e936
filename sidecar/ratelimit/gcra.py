"""GCRA (the generic cell rate algorithm): the exact token bucket behind every limit (pure).

A bucket is one number, its TAT (theoretical arrival time): the instant at which it would be
full again. A call of `cost` tokens may be sent at `t` when, for every bucket,

    max(tat, t) + cost * emission - burst * emission <= t

and sending it moves each TAT to `max(tat, t) + cost * emission`. Whatever order decisions
arrive in, no window of length W ever sees more than `burst + W / emission` tokens sent.

Calls that must wait get a *reservation*: the earliest `t` that satisfies every bucket (and
the end of an upstream cooldown) is committed now and the caller sleeps until then. That keeps
the queue first-come first-served across every replica without a second round trip.

All times are integer microseconds, rounded so that nothing is ever sent early. The Redis
script in `sidecar/ratelimit/redis.py` performs exactly these steps; the in-memory backend
calls these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MICROS = 1_000_000

# `limited_by` values that are not a bucket index.
NOT_LIMITED = -2
COOLDOWN = -1


@dataclass(frozen=True, slots=True)
class Limit:
    """A bucket's shape: one token every `emission_us` microseconds, at most `burst` tokens."""

    emission_us: float
    burst: int

    @classmethod
    def per(cls, count: int, period_seconds: float, burst: int) -> Limit:
        return cls(period_seconds * MICROS / count, burst)

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return MICROS / self.emission_us


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    # Allowed: how long the caller waits before sending. Refused: when it could be admitted.
    delay_us: int
    # Index of the bucket that decided the delay, COOLDOWN, or NOT_LIMITED (no delay at all).
    limited_by: int
    # The buckets' TATs after the decision (unchanged when refused).
    tats: tuple[int | None, ...]


def decide(
    now: int,
    cooldown_until: int | None,
    tats: Sequence[int | None],
    limits: Sequence[Limit],
    cost: int,
    max_wait_us: int,
) -> Verdict:
    """Admits (possibly after a wait of at most `max_wait_us`) or refuses one call."""
    send: float = now
    limited_by = NOT_LIMITED
    if cooldown_until is not None and cooldown_until > send:
        send, limited_by = cooldown_until, COOLDOWN
    for index, (tat, limit) in enumerate(zip(tats, limits, strict=True)):
        if cost > limit.burst:
            raise ValueError(f"cost {cost} exceeds the burst {limit.burst}: never admissible")
        if tat is not None:
            earliest = tat + (cost - limit.burst) * limit.emission_us
            if earliest > send:
                send, limited_by = earliest, index
    delay = math.ceil(send - now)
    if delay > max_wait_us:
        return Verdict(False, delay, limited_by, tuple(tats))
    start = now + delay
    if cost == 0:
        # A free call changes no bucket.
        return Verdict(True, delay, limited_by, tuple(tats))
    new_tats = tuple(
        math.ceil(max(start if tat is None else tat, start) + cost * limit.emission_us)
        for tat, limit in zip(tats, limits, strict=True)
    )
    return Verdict(True, delay, limited_by, new_tats)


def rescale(now: int, tat: int | None, stored_emission_us: float, limit: Limit) -> int | None:
    """A TAT stored under another rate, moved to `limit`'s rate keeping the tokens owed.

    A TAT is time; what a bucket owes is `(tat - now) / emission` tokens. When the policy
    changes a rate, the debt carries over in tokens, so raising a limit helps at once.
    """
    if tat is None or tat <= now or stored_emission_us == limit.emission_us:
        return tat
    return math.ceil(now + (tat - now) * limit.emission_us / stored_emission_us)


def remaining(now: int, tat: int | None, limit: Limit) -> float:
    """Tokens available at `now` (negative while later reservations are queued)."""
    if tat is None:
        return float(limit.burst)
    left = (now - (tat - limit.burst * limit.emission_us)) / limit.emission_us
    return min(float(limit.burst), left)


def reset_after(now: int, tat: int | None) -> int:
    """Microseconds until the bucket is full again."""
    return 0 if tat is None else max(0, tat - now)


def drained(until: int, tat: int | None, limit: Limit) -> int | None:
    """The TAT after an upstream cooldown ending at `until`: empty then, refilling at the rate.

    The first call after the pause goes at `until`; later ones follow at the configured rate,
    so the end of a pause never releases a whole burst into an upstream that just said 429.
    """
    floor = math.ceil(until + (limit.burst - 1) * limit.emission_us)
    if tat is not None and tat >= floor:
        return None  # already at least that empty: leave it
    return floor
