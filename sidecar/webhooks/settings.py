"""Webhook settings (flags in sidecar/config.py; docs/webhooks.md explains each default)."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.secrets import Secret

DEFAULT_PATH = "/webhooks/cryptopay"


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    # POST path of the ingest endpoint; may carry a secret segment.
    path: str = DEFAULT_PATH
    # The token before the current one, accepted for signatures during a rotation.
    previous_token: Secret | None = None
    # request_date may be at most this old. Generous on purpose: whether Crypto Pay's
    # redeliveries carry a fresh request_date is unknown, and a signed but stale update is
    # refused, so a short window could refuse a late redelivery of a real payment.
    freshness: float = 24 * 3600.0
    # ... and at most this far in the future (sender clock ahead of ours).
    clock_skew: float = 300.0
    body_limit: int = 64 * 1024
    # Events kept in the log (Redis Stream length, or ring-buffer size).
    retention: int = 100_000
    # How long a (update_type, invoice_id) is remembered; never shorter than the window.
    dedupe_ttl: float = 0.0
    # Default time a consumer-group member has to acknowledge an event.
    visibility_timeout: float = 30.0
    # Events buffered per live subscriber before it falls back to reading the log.
    subscriber_buffer: int = 256
    # Redis key namespace; empty means cryptopay:webhooks:<app id>.
    namespace: str = ""
    # Seconds between reconciliation sweeps (getInvoices); 0 disables them.
    reconcile_interval: float = 0.0
    # How long after paid_at a webhook may still arrive before the sweep steps in.
    reconcile_grace: float = 60.0

    @property
    def dedupe_seconds(self) -> float:
        """Dedupe records outlive every request_date the freshness window still accepts."""
        return max(self.dedupe_ttl, self.freshness + self.clock_skew)
