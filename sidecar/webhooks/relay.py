"""The webhook relay: delivers every event of the log to the handler of each caller that has a
`relay` in the policy, signed with that caller's token, so an app can keep its SDK's webhook
handler while only the sidecar faces the internet.

Per caller: a consumer group `relay:<caller>` on the event log, and a lease of the same name.
Every replica runs a worker for every relaying caller; the one holding the lease delivers, one
event at a time, oldest first, and acknowledges an event only after a 2xx, retrying with backoff
until then. That is what keeps a caller's events in order (a second worker would overtake the
first) and at least once: an event the holder did not acknowledge stays pending in the group,
and whoever holds the lease next (the same process after a restart, or another replica once the
lease expires) takes the oldest pending event first. Different callers' relays spread over the
replicas as their leases are taken.

The workers follow the policy: a hot reload that adds, changes or removes a relay starts,
retargets or stops its worker within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

import aiohttp

from sidecar.policy.model import PolicySnapshot
from sidecar.store_base import StoreUnavailable
from sidecar.tasks import stop_task
from sidecar.telemetry import metrics, tracing
from sidecar.telemetry.links import LINK_INVOICE_CREATED
from sidecar.webhooks import relay_rules
from sidecar.webhooks.buffer import Signal
from sidecar.webhooks.events import Delivery, Event, fits_int64
from sidecar.webhooks.groups import default_consumer
from sidecar.webhooks.log import EventLog
from sidecar.webhooks.relay_rules import Outcome, Target

log = logging.getLogger(__name__)

# A holder renews its lease every RENEW seconds; a replica that dies leaves it for LEASE_TTL at
# most, and a Redis hiccup shorter than LEASE_TTL - RENEW costs nothing.
LEASE_TTL = 5.0
RENEW = 1.0
# How often a worker without the lease asks for it, and how often the policy is looked at.
ACQUIRE_EVERY = 1.0
POLICY_EVERY = 1.0
# With nothing to deliver, a holder waits for the tail's signal, looking again at least this often
# (the signal of another replica's ingest arrives through the tail anyway).
IDLE_WAIT = 1.0
# On shutdown an attempt in flight may finish for this long, so that a rolling restart does not
# deliver every in-flight event twice.
STOP_GRACE = 5.0


class CallerRelay:
    """The worker of one caller on this replica."""

    def __init__(
        self, event_log: EventLog, signal: Signal, target: Target, owner: str, session: Session
    ) -> None:
        self._log = event_log
        self._signal = signal
        self.target = target
        self._owner = owner
        self._session = session
        self._group = relay_rules.group(target.caller)
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # Set to cut a backoff short: the target changed (a fixed URL), or shutdown.
        self._wake = asyncio.Event()
        self.holding = False  # this replica holds the caller's lease
        self._head_received_ms = 0  # received_at of the event in hand, 0 when caught up

    @property
    def caller(self) -> str:
        return self.target.caller

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"webhook-relay-{self.caller}"
        )

    def retarget(self, target: Target) -> None:
        if target != self.target:
            self.target = target
            log.info("webhook relay retargeted", extra={"caller": self.caller, "to": target.where})
            self._wake.set()

    def close(self) -> None:
        """Starts closing: no new attempt begins (stop() waits for the one in flight)."""
        self._closing = True
        self._wake.set()

    async def stop(self) -> None:
        self.close()
        if self._task is None:
            return
        await asyncio.wait({self._task}, timeout=STOP_GRACE)
        await stop_task(self._task)

    def _lag(self) -> float:
        if not self._head_received_ms:
            return 0.0
        return max(0.0, time.time() - self._head_received_ms / 1000)

    # --- the lease -----------------------------------------------------------------------------

    async def _run(self) -> None:
        with tracing.untraced():  # polling the lease every second is not a trace
            await self._prepare()
        loop = asyncio.get_running_loop()
        while not self._closing:
            asked = loop.time()
            try:
                with tracing.untraced():
                    held = await self._log.hold_lease(
                        self._group, self._owner, int(LEASE_TTL * 1000)
                    )
            except StoreUnavailable:
                held = False
            if not held:
                await self._pause(ACQUIRE_EVERY * (0.5 + random.random()))
                continue
            log.info("webhook relay active on this replica", extra={"caller": self.caller})
            self.holding = True
            metrics.relay_active(self.caller, self._lag)
            try:
                failed = await self._while_held(asked + LEASE_TTL)
            finally:
                self.holding = False
                self._head_received_ms = 0
                metrics.relay_inactive(self.caller)
                with contextlib.suppress(StoreUnavailable), tracing.untraced():
                    await self._log.drop_lease(self._group, self._owner)
            if failed:
                await self._pause(ACQUIRE_EVERY)  # a bug: never a hot loop

    async def _prepare(self) -> None:
        """Creates the group (positioned after the newest event: a new relay starts with the
        events from now on) as soon as the relay is configured, whoever gets the lease."""
        delay = 0.1
        while not self._closing:
            try:
                if await self._log.create_group(self._group, None):
                    log.info("webhook relay group created", extra={"caller": self.caller})
                return
            except StoreUnavailable as exc:
                log.warning("webhook log unavailable; retrying", extra={"error": str(exc)})
                await self._pause(delay)
                delay = min(delay * 2, 2.0)

    async def _while_held(self, expires: float) -> bool:
        """Delivers while the lease is renewed; stops delivering (without acknowledging) the
        moment it cannot be sure it still holds it. True if delivering failed (a bug)."""
        loop = asyncio.get_running_loop()
        serving = loop.create_task(self._serve(), name=f"webhook-relay-{self.caller}-serve")
        try:
            while not serving.done():
                await asyncio.wait({serving}, timeout=RENEW)
                if serving.done():
                    break
                asked = loop.time()
                try:
                    # Bounded, so that each round takes at most 2 * RENEW and the check below
                    # stops delivering before the lease can have run out.
                    with tracing.untraced():
                        renewed = await asyncio.wait_for(
                            self._log.hold_lease(self._group, self._owner, int(LEASE_TTL * 1000)),
                            RENEW,
                        )
                except (StoreUnavailable, TimeoutError):
                    renewed = None  # unknown: keep going while the lease surely lasts
                if renewed:
                    expires = asked + LEASE_TTL
                elif renewed is False or loop.time() + 2 * RENEW >= expires:
                    log.warning("webhook relay lease lost", extra={"caller": self.caller})
                    break
        finally:
            serving.cancel()
            await asyncio.wait({serving})  # never raises: its outcome is read below
        if not serving.cancelled() and serving.exception() is not None:
            log.error(
                "webhook relay failed; retrying",
                extra={"caller": self.caller},
                exc_info=serving.exception(),
            )
            return True
        return False

    # --- delivering ----------------------------------------------------------------------------

    async def _serve(self) -> None:
        delay = 0.1
        while not self._closing:
            version = self._signal.version
            try:
                with tracing.untraced():
                    delivery = await self._next()
                if delivery is None:
                    await self._signal.wait(version, IDLE_WAIT)
                    continue
                await self._relay(delivery)
            except StoreUnavailable as exc:
                log.warning("webhook log unavailable; retrying", extra={"error": str(exc)})
                await self._pause(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1

    async def _next(self) -> Delivery | None:
        """The oldest event pending in the group (left by a previous holder, or by this one
        before a failed acknowledgement), else the next new one."""
        claimed = await self._log.claim_expired(self._group, self._owner, 0, 1)
        for lost in claimed.lost:
            metrics.relay_delivery(self.caller, Outcome.LOST.value)
            log.error(
                "webhook relay: event removed by retention before it was delivered",
                extra={"caller": self.caller, "event_id": str(lost)},
            )
        if claimed.deliveries:
            return claimed.deliveries[0]
        batch = await self._log.read_group(self._group, self._owner, 1)
        return batch[0] if batch else None

    async def _relay(self, delivery: Delivery) -> None:
        """Attempts until a 2xx, then acknowledges."""
        event = delivery.event
        self._head_received_ms = event.record.received_at_ms or int(time.time() * 1000)
        if not event.record.body:
            metrics.relay_delivery(self.caller, Outcome.SKIPPED.value)
            log.error(
                "webhook relay: event without a body skipped",
                extra={"caller": self.caller, "event_id": str(event.id)},
            )
        else:
            failures = 0
            while True:
                target = self.target
                outcome, status, asked = await self._attempt(target, event, failures + 1)
                metrics.relay_delivery(self.caller, outcome.value)
                if outcome is Outcome.DELIVERED:
                    break
                failures += 1
                wait = relay_rules.next_delay(failures, asked, random.random)
                log.warning(
                    "webhook relay attempt failed; retrying",
                    extra={
                        "caller": self.caller,
                        "event_id": str(event.id),
                        "target": target.where,
                        "outcome": outcome.value,
                        "status": status,
                        "attempt": failures,
                        "retry_in_seconds": round(wait, 3),
                    },
                )
                await self._pause(wait)
                if self._closing:
                    return  # left pending: the next holder delivers it
        await self._ack(event)
        self._head_received_ms = 0

    async def _attempt(
        self, target: Target, event: Event, attempt: int
    ) -> tuple[Outcome, int | None, float | None]:
        record = event.record
        links = (
            tracing.link(record.created_traceparent, LINK_INVOICE_CREATED),
            tracing.link(record.traceparent, "webhook.ingest"),
        )
        span_links = [link for link in links if link is not None]
        with tracing.span(
            "webhook relay",
            {
                tracing.CALLER: target.caller,
                tracing.UPDATE_TYPE: record.update_type,
                tracing.INVOICE_ID: record.invoice_id if fits_int64(record.invoice_id) else None,
                tracing.ATTEMPT: attempt,
            },
            links=span_links or None,
        ) as span:
            headers = relay_rules.headers(target, record.body, event.id)
            traceparent = tracing.current_traceparent()
            if traceparent:
                headers["traceparent"] = traceparent
            outcome, status, asked = await self._session.post(target, record.body, headers)
            tracing.annotate({tracing.HTTP_STATUS: status, tracing.OUTCOME: outcome.value}, span)
            if outcome is not Outcome.DELIVERED:
                tracing.fail(outcome.value, span)
            return outcome, status, asked

    async def _ack(self, event: Event) -> None:
        delay = 0.1
        while True:
            try:
                with tracing.untraced():
                    await self._log.ack(self._group, [event.id])
                return
            except StoreUnavailable:
                # Not acknowledged, it would be delivered again: keep trying while we hold
                # the lease (losing it cancels this).
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _pause(self, seconds: float) -> None:
        if self._closing:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()


class Session:
    """The HTTP client of the relay: one connection pool for every caller, no redirects
    followed (a 3xx is not a delivery), nothing of the answer read beyond its head."""

    def __init__(self) -> None:
        self._client: aiohttp.ClientSession | None = None

    async def post(
        self, target: Target, body: bytes, headers: dict[str, str]
    ) -> tuple[Outcome, int | None, float | None]:
        if self._client is None:
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64), auto_decompress=False
            )
        try:
            async with self._client.post(
                target.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=target.timeout),
            ) as response:
                status = response.status
                asked = relay_rules.retry_after(response.headers)
        except TimeoutError:
            return Outcome.TIMEOUT, None, None
        except (aiohttp.ClientError, OSError, ValueError):
            # ValueError: a URL aiohttp cannot use. The exception's text may hold the URL.
            return Outcome.UNREACHABLE, None, None
        return relay_rules.outcome_of(status), status, asked

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


class Relays:
    """Every relaying caller's worker on this replica, following the active policy."""

    def __init__(
        self,
        event_log: EventLog,
        signal: Signal,
        policy: Callable[[], PolicySnapshot | None],
        owner: str | None = None,
    ) -> None:
        self._log = event_log
        self._signal = signal
        self._policy = policy
        self.owner = owner or default_consumer()
        self._session = Session()
        self.workers: dict[str, CallerRelay] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()

    def start(self) -> Relays:
        self._apply(self._policy())
        self._task = asyncio.get_running_loop().create_task(self._follow(), name="webhook-relays")
        return self

    async def _follow(self) -> None:
        seen = self._policy()
        while True:
            await asyncio.sleep(POLICY_EVERY)
            current = self._policy()
            if current is not seen:
                seen = current
                try:
                    self._apply(current)
                except Exception:  # a bug here must not end relaying for every caller
                    log.exception("webhook relay: applying the policy failed")

    def _apply(self, snapshot: PolicySnapshot | None) -> None:
        wanted = relay_rules.targets(snapshot) if snapshot is not None else {}
        for caller in [c for c in self.workers if c not in wanted]:
            worker = self.workers.pop(caller)
            log.info("webhook relay removed", extra={"caller": caller})
            task = asyncio.get_running_loop().create_task(worker.stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)
        for caller, target in wanted.items():
            existing = self.workers.get(caller)
            if existing is not None:
                existing.retarget(target)
                continue
            worker = CallerRelay(self._log, self._signal, target, self.owner, self._session)
            self.workers[caller] = worker
            log.info("webhook relay configured", extra={"caller": caller, "to": target.where})
            worker.start()

    async def stop(self) -> None:
        await stop_task(self._task)
        workers, self.workers = list(self.workers.values()), {}
        for worker in workers:
            worker.close()
        self._signal.notify()  # idle workers wake and see they are closing
        await asyncio.gather(*(w.stop() for w in workers), *self._stopping)
        await self._session.close()
