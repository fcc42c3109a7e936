"""Event streams that survive disconnects: reopen after the last event id received.

The sidecar's event log keeps every verified webhook with a stable, ordered event id, and a
subscription can start after a given id. `resumable` turns any stream-opening function into an
endless iterator: when the stream breaks (sidecar restart, rolling update, network blip) it
waits with backoff and reopens after the last event it delivered, so the application sees each
event once, in order, with no gap (within the sidecar's retention window).

Consumer-group subscriptions track their position on the sidecar instead; for those, pass an
`open_stream` that ignores the id and simply rejoins the group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Collection
from typing import TypeVar

import grpc

from cryptopay_sidecar_client.retry import Backoff

log = logging.getLogger(__name__)
DEFAULT_BACKOFF = Backoff(base=0.2, cap=10.0)

Event = TypeVar("Event")

# Codes after which reopening the stream can help. Anything else (INVALID_ARGUMENT for an
# event id older than the retention window, PERMISSION_DENIED...) is raised to the caller.
RESUMABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)


async def resumable(
    open_stream: Callable[[str | None], AsyncIterable[Event]],
    event_id: Callable[[Event], str],
    *,
    after: str | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    resumable_codes: Collection[grpc.StatusCode] = RESUMABLE_CODES,
    max_failures: int | None = None,
) -> AsyncGenerator[Event, None]:
    """Yields the events of `open_stream(last_event_id)`, reopening it after each break.

    `open_stream(None)` starts wherever the subscription starts by default; `after` resumes a
    previous run (persist the last id you processed). `max_failures` consecutive failed opens
    end the iteration with the last error; None retries forever.
    """
    last = after
    failures = 0
    while True:
        received = False
        stream = open_stream(last)
        try:
            async for event in stream:
                received, failures = True, 0
                current = event_id(event)
                if current == last:
                    continue  # a server that re-sends the resume point: never deliver it twice
                last = current
                yield event
            # The server ended the stream (draining for a restart): reopen, at once unless it
            # keeps ending without sending anything.
            log.info("event stream ended by the server; resuming", extra={"after": last})
            if not received:
                failures += 1
                await asyncio.sleep(backoff.delay(failures))
            continue
        except grpc.RpcError as error:
            code = error.code() if callable(getattr(error, "code", None)) else None
            if code not in resumable_codes:
                raise
            failures += 1
            if max_failures is not None and failures >= max_failures:
                raise
            delay = backoff.delay(failures)
            log.warning(
                "event stream broke; resuming",
                extra={"code": getattr(code, "name", str(code)), "after": last, "in": delay},
            )
            await asyncio.sleep(delay)
        finally:
            await _close(stream)


async def _close(stream: object) -> None:
    """Ends a stream the consumer stopped reading (a gRPC call, or an async generator)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    cancel = getattr(stream, "cancel", None)
    if cancel is not None:
        cancel()
