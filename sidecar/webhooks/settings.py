"""Webhook settings (flags and defaults in sidecar/options.py; docs/webhooks.md explains them)."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar import options as o
from sidecar.secrets import Secret

DEFAULT_PATH = o.WEBHOOK_PATH.default


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    # POST path of the ingest endpoint; may carry a secret segment.
    path: str = DEFAULT_PATH
    # The token before the current one, accepted for signatures during a rotation.
    previous_token: Secret | None = None
    # request_date may be at most this old. Generous on purpose: whether Crypto Pay's
    # redeliveries carry a fresh request_date is unknown, and a signed but stale update is
    # refused, so a short window could refuse a late redelivery of a real payment.
    freshness: float = o.WEBHOOK_FRESHNESS.default
    # ... and at most this far in the future (sender clock ahead of ours).
    clock_skew: float = o.WEBHOOK_CLOCK_SKEW.default
    body_limit: int = o.WEBHOOK_BODY_LIMIT.default
    # Events kept in the log (Redis Stream length, or ring-buffer size).
    retention: int = o.WEBHOOK_RETENTION.default
    # How long a (update_type, invoice_id) is remembered; never shorter than the window.
    dedupe_ttl: float = o.WEBHOOK_DEDUPE_TTL.default
    # Default time a consumer-group member has to acknowledge an event.
    visibility_timeout: float = o.WEBHOOK_VISIBILITY_TIMEOUT.default
    # Events buffered per live subscriber before it falls back to reading the log.
    subscriber_buffer: int = o.WEBHOOK_SUBSCRIBER_BUFFER.default
    # Redis key namespace; empty means cryptopay:webhooks:<app id>.
    namespace: str = o.WEBHOOK_NAMESPACE.default
    # Seconds between reconciliation sweeps (getInvoices); 0 disables them.
    reconcile_interval: float = o.WEBHOOK_RECONCILE_INTERVAL.default
    # How long after paid_at a webhook may still arrive before the sweep steps in.
    reconcile_grace: float = o.WEBHOOK_RECONCILE_GRACE.default

    @property
    def dedupe_seconds(self) -> float:
        """Dedupe records outlive every request_date the freshness window still accepts."""
        return max(self.dedupe_ttl, self.freshness + self.clock_skew)
