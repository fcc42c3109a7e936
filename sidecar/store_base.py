"""What every state store of the sidecar shares, whatever keeps its state (memory or Redis).

Pure: no network client, no telemetry. Redis stores turn their client's errors into
`StoreUnavailable` with `redis_connection.translate_errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# The clock of a memory twin, injected as `clock=` (tests move it instead of waiting): seconds,
# as a float. Twins whose times mean something outside the store default to the wall clock, as
# Redis' TIME does for their Redis twins: cached answers' ages, spend windows, event ids and
# delivery times. Twins that only time leases, expiries and rate buckets default to the
# monotonic clock, so that a step of the wall clock never ends a lease early or stalls a bucket.
Clock = Callable[[], float]


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time: nothing was decided, or its
    answer was lost. The message names the kind of failure, never an address or a secret."""


class Store(Protocol):
    """What every store's protocol starts from."""

    async def close(self) -> None:
        """Stops the store's background work and lets go of what it holds. A Redis client the
        store was given stays open: it is shared, and its owner closes it."""
