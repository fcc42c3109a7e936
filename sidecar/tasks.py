"""Stopping the sidecar's background tasks."""

from __future__ import annotations

import asyncio
from typing import Any

# How long one cancellation is given before it is sent again: long enough for a cancelled task's
# own clean-up (a `finally` that releases a lease in Redis, within Redis's timeouts) to finish.
RECANCEL_AFTER = 2.0


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancels `task` and waits until it has ended; its result or error is dropped.

    The cancellation is sent again until the task ends: on Python 3.11, `asyncio.wait_for`
    (which redis-py wraps around each command it writes) loses a cancellation that arrives as its
    inner operation completes (python/cpython#86296), and the task then carries on as if it had
    never been cancelled.
    """
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_AFTER)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
