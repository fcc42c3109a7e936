"""The webhook component as the server assembles it: event log, tail, ingest, gRPC service,
reconciliation sweep and relay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sidecar import logs
from sidecar.pipeline import Next
from sidecar.policy.model import PolicySnapshot
from sidecar.redis_connection import describe
from sidecar.secrets import Secret
from sidecar.telemetry import metrics
from sidecar.telemetry.links import TraceContextStore
from sidecar.webhooks.groups import GroupMember
from sidecar.webhooks.log import EventLog
from sidecar.webhooks.memory import MemoryEventLog
from sidecar.webhooks.reconcile import Reconciler
from sidecar.webhooks.redis_streams import RedisEventLog
from sidecar.webhooks.relay import Relays
from sidecar.webhooks.settings import DEFAULT_PATH, WebhookSettings
from sidecar.webhooks.tail import Tail

log = logging.getLogger(__name__)


def default_namespace(token: Secret) -> str:
    """Per app, so apps sharing a Redis never see each other's events."""
    app_id = token.reveal().partition(":")[0]
    return f"cryptopay:webhooks:{app_id if app_id.isdigit() else 'app'}"


@dataclass
class Webhooks:
    settings: WebhookSettings
    event_log: EventLog
    tokens: tuple[Secret, ...]
    tail: Tail
    # Local members by (group, consumer), so that a local Ack frees their room at once.
    members: dict[tuple[str, str], GroupMember] = field(default_factory=dict)
    closing: bool = False
    reconciler: Reconciler | None = None
    # Where CreateInvoice remembered each invoice's trace, for span links.
    trace_links: TraceContextStore | None = None
    subscribers: int = 0
    relays: Relays | None = None

    def subscribed(self, delta: int) -> None:
        self.subscribers += delta
        metrics.webhook_subscribers(self.subscribers)

    @classmethod
    def create(cls, settings: WebhookSettings, token: Secret, redis_url: Secret | None) -> Webhooks:
        event_log: EventLog
        if redis_url is not None:
            namespace = settings.namespace or default_namespace(token)
            event_log = RedisEventLog(redis_url, namespace, settings.retention)
            where = f"redis stream {{{namespace}}}:events at {describe(redis_url)}"
        else:
            event_log = MemoryEventLog(settings.retention)
            where = "memory (lost on restart, not shared with other replicas)"
        tokens = (token,) if settings.previous_token is None else (token, settings.previous_token)
        for secret in tokens:
            logs.redact(secret.reveal())
        if settings.path != DEFAULT_PATH:
            logs.redact(settings.path)  # it may carry a secret segment
        log.info(
            "webhook event log",
            extra={"log": where, "retention": settings.retention, "tokens": len(tokens)},
        )
        return cls(settings, event_log, tokens, Tail(event_log))

    def start(self) -> None:
        self.tail.start()

    def reconcile(self, send: Next, policy: Callable[[], PolicySnapshot | None]) -> None:
        """Starts the reconciliation sweep (when configured); it sends through `send`, the
        rate-limited upstream, under the active policy's rate limits."""
        s = self.settings
        if s.reconcile_interval > 0:
            self.reconciler = Reconciler(
                self.event_log,
                send,
                policy,
                s.reconcile_interval,
                s.reconcile_grace,
                int(s.dedupe_seconds * 1000),
            )
            self.reconciler.start()

    def relay(self, policy: Callable[[], PolicySnapshot | None]) -> None:
        """Starts relaying events to the callers that have a `relay` in the active policy (and
        follows its reloads)."""
        self.relays = Relays(self.event_log, self.tail.signal, policy).start()

    async def begin_shutdown(self) -> None:
        """Ends every subscription (clients resume elsewhere) and the relay (another replica
        takes over); ingest keeps working."""
        self.closing = True
        if self.relays is not None:
            await self.relays.stop()
        if self.reconciler is not None:
            await self.reconciler.stop()
        await self.tail.stop()

    async def close(self) -> None:
        await self.event_log.close()
