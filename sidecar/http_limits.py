"""Limits of the HTTP side (flags in sidecar/config.py; docs/webhooks.md explains each default)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HttpLimits:
    # From a connection's first byte (or its opening) to a complete request head. Real
    # senders write a head at once; only a slow or stalled client takes longer.
    header_timeout: float = 10.0
    # To read a whole request body (the webhook endpoint's at most 64 KiB).
    body_timeout: float = 10.0
    # A kept-alive connection with no request in progress is closed after this. Longer than
    # the usual proxy upstream idle times (nginx 60 s), so that a proxy never sends a request
    # on a connection the sidecar is closing.
    idle_timeout: float = 75.0
    # Open connections at most; beyond it the longest-idle kept-alive connection is closed to
    # make room, or the new connection is closed when none is idle.
    max_connections: int = 1024
