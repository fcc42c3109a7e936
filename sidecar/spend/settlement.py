"""What to do with a call's spend reservations once its upstream attempts are over (pure).

Decided first on the attempts this call actually made: a response replayed by the idempotency
step (no attempt) spent nothing new, so its reservation is released. A final success counts even
when no attempt said so itself (a transfer found by its spend_id after an unclear attempt).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from sidecar.outcome import Delivery


class Settlement(enum.Enum):
    COMMIT = "commit"  # the money moved
    RELEASE = "release"  # the money definitely did not move
    KEEP = "keep"  # it may have moved: the reservation counts until it expires or is reconciled


def settlement(
    attempts: int, deliveries: Sequence[Delivery], final: Delivery | None = None
) -> Settlement:
    """`attempts`: upstream attempts started; `deliveries`: what each finished attempt means;
    `final`: the outcome the call answers with (None: it ended with an error). An attempt that
    started but did not finish (cancelled mid-flight) may have been performed."""
    if attempts == 0:
        return Settlement.RELEASE
    if Delivery.DONE in deliveries or final is Delivery.DONE:
        return Settlement.COMMIT
    if Delivery.UNKNOWN in deliveries or attempts > len(deliveries):
        return Settlement.KEEP
    return Settlement.RELEASE
