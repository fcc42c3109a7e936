"""Which counter a spend goes to (pure): rolling windows keep one bucket per caller and asset,
calendar days one bucket per local day in the cap's time zone."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

from sidecar.policy.model import SpendCap, WindowKind
from sidecar.spend.store import Bucket

# Keep a bucket this long past its window, so a reservation made just before the window ends
# can still be committed or released.
GRACE_MS = 3_600_000


def bucket_for(namespace: str, caller: str, cap: SpendCap, now: float) -> Bucket:
    """`namespace` separates Crypto Pay apps sharing one Redis (the app id)."""
    base = f"{namespace}:{caller}:{cap.asset}:{cap.window.label}"
    if cap.window.kind is WindowKind.ROLLING:
        window_ms = cap.window.seconds * 1000
        return Bucket(base, window_ms, window_ms + GRACE_MS)
    day, end = calendar_day(now, cap.window.time_zone)
    ttl_ms = max(int((end - now) * 1000), 0) + GRACE_MS
    return Bucket(f"{base}:{day}", 0, ttl_ms)


def calendar_day(now: float, time_zone: str) -> tuple[str, float]:
    """The local date at `now` in the zone, and when that day ends (epoch seconds; DST-aware)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    local = datetime.fromtimestamp(now, UTC).astimezone(zone)
    start_of_next = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return local.date().isoformat(), start_of_next.timestamp()
