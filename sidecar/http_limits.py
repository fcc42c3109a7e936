"""Limits of the HTTP side (flags and defaults: sidecar/options.py; docs/webhooks.md says why)."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar import options as o


@dataclass(frozen=True, slots=True)
class HttpLimits:
    # From a connection's first byte (or its opening) to a complete request head. Real
    # senders write a head at once; only a slow or stalled client takes longer.
    header_timeout: float = o.HTTP_HEADER_TIMEOUT.default
    # To read a whole request body (the webhook endpoint's at most 64 KiB).
    body_timeout: float = o.HTTP_BODY_TIMEOUT.default
    # A kept-alive connection with no request in progress is closed after this. Longer than
    # the usual proxy upstream idle times (nginx 60 s), so that a proxy never sends a request
    # on a connection the sidecar is closing.
    idle_timeout: float = o.HTTP_IDLE_TIMEOUT.default
    # Open connections at most; beyond it the longest-idle kept-alive connection is closed to
    # make room, or the new connection is closed when none is idle.
    max_connections: int = o.HTTP_MAX_CONNECTIONS.default
