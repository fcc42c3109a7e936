"""The GCRA maths: table-driven cases, and the no-over-admission bound as a property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.ratelimit.gcra import (
    COOLDOWN,
    NOT_LIMITED,
    Limit,
    decide,
    drained,
    remaining,
    rescale,
    reset_after,
)

TEN = Limit.per(10, 1, 5)  # one token every 100 ms, 5 at most
E = 100_000
NOW = 10_000_000


@pytest.mark.parametrize(
    ("name", "cooldown", "tats", "limits", "cost", "max_wait", "expected"),
    [
        ("fresh bucket", None, [None], [TEN], 1, 0, (True, 0, NOT_LIMITED, (NOW + E,))),
        (
            "idle bucket is full",
            None,
            [NOW - 60 * E],
            [TEN],
            5,
            0,
            (True, 0, NOT_LIMITED, (NOW + 5 * E,)),
        ),
        ("burst left", None, [NOW + 4 * E], [TEN], 1, 0, (True, 0, NOT_LIMITED, (NOW + 5 * E,))),
        ("empty: refuse", None, [NOW + 5 * E], [TEN], 1, 0, (False, E, 0, (NOW + 5 * E,))),
        ("empty: reserve", None, [NOW + 5 * E], [TEN], 1, E, (True, E, 0, (NOW + 6 * E,))),
        ("wait too long", None, [NOW + 5 * E], [TEN], 1, E - 1, (False, E, 0, (NOW + 5 * E,))),
        ("cost 3 needs 3 tokens", None, [NOW + 3 * E], [TEN], 3, 0, (False, E, 0, (NOW + 3 * E,))),
        ("cost 3 fits", None, [NOW + 2 * E], [TEN], 3, 0, (True, 0, NOT_LIMITED, (NOW + 5 * E,))),
        ("free call", None, [NOW + 5 * E], [TEN], 0, 0, (True, 0, NOT_LIMITED, (NOW + 5 * E,))),
        ("cooldown refuses", NOW + 7 * E, [None], [TEN], 1, 0, (False, 7 * E, COOLDOWN, (None,))),
        (
            "cooldown reserves its end",
            NOW + 7 * E,
            [None],
            [TEN],
            1,
            7 * E,
            (True, 7 * E, COOLDOWN, (NOW + 8 * E,)),
        ),
        ("cooldown over", NOW - 1, [None], [TEN], 1, 0, (True, 0, NOT_LIMITED, (NOW + E,))),
        (
            "the tightest bucket decides",
            None,
            [NOW + 5 * E, NOW + 9 * E],
            [TEN, Limit.per(10, 1, 5)],
            1,
            0,
            (False, 5 * E, 1, (NOW + 5 * E, NOW + 9 * E)),
        ),
        (
            "every bucket moves to the shared slot",
            None,
            [None, NOW + 9 * E],
            [TEN, TEN],
            1,
            5 * E,
            (True, 5 * E, 1, (NOW + 6 * E, NOW + 10 * E)),
        ),
        (
            "a fractional interval rounds the TAT up",
            None,
            [NOW + 50_000],
            [Limit.per(30, 1, 3)],  # 33 333.33 µs
            1,
            0,
            (True, 0, NOT_LIMITED, (NOW + 83_334,)),
        ),
        (
            "and a wait up: nothing is sent early",
            None,
            [NOW + 100_000],
            [Limit.per(30, 1, 3)],
            1,
            0,
            (False, 33_334, 0, (NOW + 100_000,)),
        ),
    ],
)
def test_decide(
    name: str,
    cooldown: int | None,
    tats: list[int | None],
    limits: list[Limit],
    cost: int,
    max_wait: int,
    expected: tuple[bool, int, int, tuple[int | None, ...]],
) -> None:
    verdict = decide(NOW, cooldown, tats, limits, cost, max_wait)
    assert (verdict.allowed, verdict.delay_us, verdict.limited_by, verdict.tats) == expected


def test_a_cost_above_the_burst_is_never_admissible() -> None:
    with pytest.raises(ValueError, match="exceeds the burst"):
        decide(NOW, None, [None], [TEN], 6, 10**9)


@pytest.mark.parametrize(
    ("tat", "left", "reset"),
    [
        (None, 5.0, 0),
        (NOW - E, 5.0, 0),
        (NOW + E, 4.0, E),
        (NOW + 5 * E, 0.0, 5 * E),
        (NOW + 7 * E, -2.0, 7 * E),  # two calls hold reservations
        (NOW + E // 2, 4.5, E // 2),
    ],
)
def test_remaining_and_reset(tat: int | None, left: float, reset: int) -> None:
    assert remaining(NOW, tat, TEN) == left
    assert reset_after(NOW, tat) == reset


@pytest.mark.parametrize(
    ("tat", "expected"),
    [
        (None, NOW + 4 * E),  # empty at the end of the pause: the first call goes then
        (NOW, NOW + 4 * E),
        (NOW + 9 * E, None),  # already emptier than that
    ],
)
def test_drained(tat: int | None, expected: int | None) -> None:
    assert drained(NOW, tat, TEN) == expected
    if expected is not None:
        first = decide(NOW, None, [expected], [TEN], 1, 0)
        assert first.allowed and first.delay_us == 0
        second = decide(NOW, None, list(first.tats), [TEN], 1, 0)
        assert not second.allowed and second.delay_us == E


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(1, 50),
    period=st.integers(1, 3),
    burst=st.integers(1, 10),
    steps=st.lists(
        st.tuples(st.integers(0, 400_000), st.integers(0, 3), st.integers(0, 2_000_000)),
        min_size=1,
        max_size=60,
    ),
)
def test_no_window_ever_sees_more_than_burst_plus_rate(
    count: int, period: int, burst: int, steps: list[tuple[int, int, int]]
) -> None:
    limit = Limit.per(count, period, burst)
    now, tat = 0, None
    sends: list[tuple[int, int]] = []
    for advance, cost, max_wait in steps:
        now += advance
        cost = min(cost, burst)
        verdict = decide(now, None, [tat], [limit], cost, max_wait)
        if verdict.allowed:
            tat = verdict.tats[0]
            sends.append((now + verdict.delay_us, cost))
    sends.sort()
    for i, (start, _) in enumerate(sends):
        sent = 0
        for at, cost in sends[i:]:
            sent += cost
            # Tokens sent within [start, at]; +1 µs for the rounding of stored times.
            assert sent <= burst + (at - start + 1) / limit.emission_us + 1e-9


@pytest.mark.parametrize(
    ("tat", "stored", "expected"),
    [
        (None, 50_000.0, None),
        (NOW - 5, 50_000.0, NOW - 5),  # full: nothing owed
        (NOW + 2 * E, float(E), NOW + 2 * E),  # same rate
        (NOW + 2 * E, 4.0 * E, NOW + E // 2),  # 2 tokens owed at 2.5/s are 2 tokens at 10/s
        (NOW + 2 * E, E / 3, NOW + 6 * E),
    ],
)
def test_rescale_keeps_the_tokens_owed(
    tat: int | None, stored: float, expected: int | None
) -> None:
    assert rescale(NOW, tat, stored, TEN) == expected
