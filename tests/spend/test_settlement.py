"""What happens to a reservation once the call's attempts are over."""

from __future__ import annotations

import pytest

from sidecar.outcome import Delivery
from sidecar.spend.settlement import Settlement, settlement

D = Delivery


@pytest.mark.parametrize(
    ("attempts", "deliveries", "expected"),
    [
        (0, [], Settlement.RELEASE),  # denied later (limiter), or replayed by idempotency
        (1, [D.DONE], Settlement.COMMIT),
        (1, [D.REJECTED], Settlement.RELEASE),
        (1, [D.NOT_SENT], Settlement.RELEASE),
        (1, [D.UNKNOWN], Settlement.KEEP),
        (2, [D.NOT_SENT, D.REJECTED], Settlement.RELEASE),
        (2, [D.UNKNOWN, D.REJECTED], Settlement.KEEP),  # the first attempt may have happened
        (2, [D.UNKNOWN, D.DONE], Settlement.COMMIT),  # same spend_id: one transfer
        (1, [], Settlement.KEEP),  # cancelled while the request was in flight
        (2, [D.NOT_SENT], Settlement.KEEP),
    ],
)
def test_settlement(attempts: int, deliveries: list[Delivery], expected: Settlement) -> None:
    assert settlement(attempts, deliveries) is expected


@pytest.mark.parametrize(
    ("attempts", "deliveries", "final", "expected"),
    [
        (0, [], D.DONE, Settlement.RELEASE),  # a replayed answer spends nothing new
        (1, [D.UNKNOWN], D.DONE, Settlement.COMMIT),  # found by its spend_id afterwards
        (1, [D.UNKNOWN], D.REJECTED, Settlement.KEEP),  # spend_id taken by another transfer
        (1, [D.UNKNOWN], None, Settlement.KEEP),
        (1, [D.REJECTED], D.REJECTED, Settlement.RELEASE),
    ],
)
def test_settlement_with_the_final_outcome(
    attempts: int, deliveries: list[Delivery], final: Delivery | None, expected: Settlement
) -> None:
    assert settlement(attempts, deliveries, final) is expected
