"""What to do with a call's spend reservations once its upstream attempts are over (pure).

Decided on the attempts this call actually made, not on the outcome it returns: a response
replayed by the idempotency step spent nothing new, so its reservation is released.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from sidecar.outcome import Delivery


class Settlement(enum.Enum):
    COMMIT = "commit"  # the money moved
    RELEASE = "release"  # the money definitely did not move
    KEEP = "keep"  # it may have moved: the reservation counts until it expires or is reconciled


def settlement(attempts: int, deliveries: Sequence[Delivery]) -> Settlement:
    """`attempts`: upstream attempts started; `deliveries`: what each finished attempt means.
    An attempt that started but did not finish (cancelled mid-flight) may have been performed."""
    if Delivery.DONE in deliveries:
        return Settlement.COMMIT
    if Delivery.UNKNOWN in deliveries or attempts > len(deliveries):
        return Settlement.KEEP
    return Settlement.RELEASE
