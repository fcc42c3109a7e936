"""Which counter a spend goes to: rolling windows and calendar days in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sidecar.policy.build import window
from sidecar.policy.model import Mode, SpendCap
from sidecar.spend.window import GRACE_MS, bucket_for, calendar_day


def cap(text: str, zone: str = "UTC") -> SpendCap:
    return SpendCap(
        0, "USDT", Decimal("10"), window(text, zone), frozenset({"Transfer"}), Mode.ENFORCE, False
    )


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_rolling_windows_keep_one_bucket() -> None:
    a = bucket_for("123", "payouts", cap("rolling_24h"), ts("2025-01-01T00:00:00"))
    b = bucket_for("123", "payouts", cap("rolling_24h"), ts("2025-03-01T12:00:00"))
    assert a == b
    assert a.key == "123:payouts:USDT:rolling_24h"
    assert a.window_ms == 86_400_000 and a.ttl_ms == 86_400_000 + GRACE_MS
    assert bucket_for("123", "payouts", cap("rolling_2d"), 0).key.endswith("rolling_2d")
    assert bucket_for("123", "payouts", cap("rolling_48h"), 0).key.endswith("rolling_2d")
    assert bucket_for("123", "payouts", cap("rolling_1h"), 0).window_ms == 3_600_000


@pytest.mark.parametrize(
    ("now", "zone", "day", "hours_left"),
    [
        ("2025-01-31T22:30:00", "UTC", "2025-01-31", 1.5),
        ("2025-01-31T22:30:00", "Europe/Berlin", "2025-01-31", 0.5),  # 23:30 local
        ("2025-01-31T23:30:00", "Europe/Berlin", "2025-02-01", 23.5),
        ("2025-03-30T00:30:00", "Europe/Berlin", "2025-03-30", 21.5),  # the 23-hour DST day
        ("2025-01-31T03:00:00", "America/New_York", "2025-01-30", 2.0),
    ],
)
def test_calendar_days_follow_the_time_zone(
    now: str, zone: str, day: str, hours_left: float
) -> None:
    local_day, end = calendar_day(ts(now), zone)
    assert local_day == day
    assert (end - ts(now)) / 3600 == pytest.approx(hours_left)
    bucket = bucket_for("123", "payouts", cap("calendar_day", zone), ts(now))
    assert bucket.key == f"123:payouts:USDT:calendar_day@{zone}:{day}"
    assert bucket.window_ms == 0
    assert bucket.ttl_ms == pytest.approx(hours_left * 3_600_000 + GRACE_MS, abs=1)
