"""The cache step of the request path: answers cacheable reads from a store shared by replicas.

It runs after validation and the policy step and before idempotency, retries and rate limits,
so a hit sends nothing upstream and spends no rate-limit token. Per key, one caller at a time
(across all replicas) refreshes; the others serve what they may (see freshness.py) or wait for
that refresh within their deadline. The store being down never fails a call: the step steps
aside and the call goes upstream as if there were no cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from sidecar.cache.config import SECTION, CacheConfig, MethodRule
from sidecar.cache.freshness import (
    Freshness,
    Next,
    Served,
    StaleReason,
    after_contention,
    classify,
    effective_rule,
    has_invalid_rates,
    parse_cache_control,
    stale_on_error,
    stale_reason,
)
from sidecar.cache.metrics import CacheCounters, CacheMetrics
from sidecar.cache.store import CacheStore, Entry, Lease, cache_key
from sidecar.config_section import SectionSetting
from sidecar.errors import RpcError, refusal
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call
from sidecar.pipeline import Next as Fetch  # freshness has its own Next
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import tracing

log = logging.getLogger(__name__)

T = TypeVar("T")

TRAILER = "cryptopay-cache"
AGE_TRAILER = "cryptopay-cache-age"
STALE_TRAILER = "cryptopay-cache-stale"
CACHE_CONTROL = "cache-control"

# A waiter holding a stale answer stops waiting this long before its deadline, to serve it.
STALE_MARGIN = 0.05
# Below this much time left there is no point starting an upstream call.
MIN_FETCH_TIME = 0.05
# Store failures are logged at most this often (per operation), not once per call.
LOG_EVERY = 10.0


@dataclass(frozen=True, slots=True)
class Fallback:
    """A previous answer a caller may serve instead of a fresh one, while younger than
    max_stale: its age is checked again when it is served, after any wait or refresh."""

    response: Message
    age_at_read: float
    read_at: float  # time.monotonic() when it was read
    max_stale: float

    def age(self) -> float:
        return self.age_at_read + (time.monotonic() - self.read_at)

    def usable(self) -> bool:
        return self.age() < self.max_stale


class CacheStep:
    def __init__(
        self,
        store: CacheStore,
        config: CacheConfig | None = None,
        *,
        scope: str,
        metrics: CacheMetrics | None = None,
    ) -> None:
        self.store = store
        self.scope = scope
        self.counters = CacheCounters(metrics)
        self._section = SectionSetting(SECTION, config or CacheConfig())
        self._current = self._section.default
        self._tasks: set[asyncio.Task[Any]] = set()
        self._logged: dict[str, float] = {}
        self._decoded: dict[str, tuple[bytes, Message]] = {}

    # --- configuration ---------------------------------------------------------------------

    def config_for(self, call: Call) -> CacheConfig:
        """The call's policy snapshot's `cache` section if it has one, else the constructor's."""
        self._current = self._section.get(call.policy)
        return self._current

    @property
    def config(self) -> CacheConfig:
        """The settings the latest call ran under."""
        return self._current

    # --- the step --------------------------------------------------------------------------

    async def run(self, call: Call, next: Fetch) -> Outcome:
        if call.spec.mutating:
            return await next(call)  # only reads can be cached: others pass through, unspanned
        with tracing.span("cache"):
            return await self._run(call, next)

    async def _run(self, call: Call, fetch: Fetch) -> Outcome:
        config = self.config_for(call)
        rule = config.rule(call.spec.rpc)
        if rule is None:
            return await fetch(call)
        control = parse_cache_control(call.metadata.get(CACHE_CONTROL))
        key = cache_key(config.key_prefix, self.scope, call.spec.rpc, call.params)
        if control.bypass and config.allow_bypass:
            return await self._bypass(call, fetch, key, rule, keep=not control.no_store)
        return await self._serve(call, fetch, key, rule, config, control.max_age)

    async def _serve(
        self,
        call: Call,
        fetch: Fetch,
        key: str,
        rule: MethodRule,
        config: CacheConfig,
        max_age: float | None,
    ) -> Outcome:
        started = time.monotonic()
        for _ in range(1000):  # each round is a wait or a newer answer; bounded all the same
            try:
                snapshot = await self.store.get(key)
            except StoreUnavailable as exc:
                return await self._without_store(call, fetch, "get", exc)
            read_at = time.monotonic()
            response = self._decode(call, key, snapshot.entry)
            degraded = snapshot.entry is not None and snapshot.entry.degraded
            effective = effective_rule(rule, degraded=degraded, max_age=max_age)
            freshness = classify(snapshot.age if response is not None else None, effective)
            if freshness is Freshness.FRESH:
                assert response is not None
                return self._answer(call, Served.HIT, response, snapshot.age)
            seen = snapshot.entry.fetched_at if snapshot.entry is not None else None
            try:
                acquired = await self.store.acquire(key, seen, config.lock_ttl)
            except StoreUnavailable as exc:
                return await self._without_store(call, fetch, "acquire", exc)
            fallback = None
            if response is not None and freshness is not Freshness.UNUSABLE:
                age = snapshot.age or 0.0
                fallback = Fallback(response, age, read_at, effective.max_stale)
            if acquired.lease is not None:
                revalidate = freshness is Freshness.REVALIDATE
                mode = "background" if revalidate else "foreground"
                task, copy = self._start_refresh(
                    call, fetch, key, rule, config, acquired.lease, mode
                )
                if revalidate:
                    assert fallback is not None
                    return self._stale(call, fallback, StaleReason.REVALIDATING)
                return await self._await_refresh(call, task, copy, fallback)
            assert acquired.contention is not None
            budget = self._wait_budget(call, started, config, fallback is not None)
            remaining = call.remaining()
            can_fetch = remaining is None or remaining > MIN_FETCH_TIME
            step = after_contention(freshness, acquired.contention, budget > 0.001, can_fetch)
            if step is Next.LOOK_AGAIN:
                continue
            if step is Next.WAIT:
                await self.store.wait(key, seen, min(budget, config.lock_ttl))
                continue
            if step is Next.SERVE_STALE:
                assert fallback is not None
                return self._stale(call, fallback, stale_reason(freshness, acquired.contention))
            if step is Next.FETCH_ALONE:
                return await self._fetch_alone(call, fetch, key, rule, config)
            raise self._pending(call, "another caller is fetching it from the upstream and did not")
        return await self._fetch_alone(call, fetch, key, rule, config)

    def _wait_budget(
        self, call: Call, started: float, config: CacheConfig, has_fallback: bool
    ) -> float:
        """Seconds this caller may still wait for another caller's refresh."""
        # A lease lasts lock_ttl; waiting twice that covers a holder that died mid-refresh.
        budget = started + 2 * config.lock_ttl - time.monotonic()
        remaining = call.remaining()
        if remaining is not None:
            budget = min(budget, remaining - (STALE_MARGIN if has_fallback else 0.0))
        return budget

    def _start_refresh(
        self,
        call: Call,
        fetch: Fetch,
        key: str,
        rule: MethodRule,
        config: CacheConfig,
        lease: Lease,
        mode: str,
    ) -> tuple[asyncio.Task[Outcome], Call]:
        """Starts the refresh of the lease holder as a task of its own, on a copy of the call
        bounded by the lease: the caller may give up (or already have its answer), the refresh
        goes on and its answer serves everyone, and it ends before its lease does, so no second
        caller starts another one."""
        copy = dataclasses.replace(
            call,
            trailing=[],
            attempts=0,
            deliveries=[],
            params=dict(call.params),
            deadline=time.monotonic() + config.lock_ttl,
        )
        work = self._fetch_and_store(copy, fetch, key, rule, config, lease, mode)
        return self._spawn(work, name=f"cache-refresh-{mode}"), copy

    async def _await_refresh(
        self,
        call: Call,
        task: asyncio.Task[Outcome],
        copy: Call,
        fallback: Fallback | None,
    ) -> Outcome:
        remaining = call.remaining()
        within = None
        if remaining is not None:
            within = remaining - (STALE_MARGIN if fallback is not None else 0.0)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(task), within)
        except TimeoutError:
            if fallback is not None and fallback.usable():
                return self._stale(call, fallback, StaleReason.TIMEOUT)
            raise self._pending(call, "the upstream did not") from None
        call.attempts += copy.attempts
        call.deliveries.extend(copy.deliveries)
        call.trailing.extend(copy.trailing)
        return self._conclude(call, outcome, fallback)

    async def _fetch_alone(
        self, call: Call, fetch: Fetch, key: str, rule: MethodRule, config: CacheConfig
    ) -> Outcome:
        """Fetches without the lease, within the caller's own deadline."""
        outcome = await self._fetch_and_store(call, fetch, key, rule, config, None, "foreground")
        return self._conclude(call, outcome, None)

    async def _fetch_and_store(
        self,
        call: Call,
        fetch: Fetch,
        key: str,
        rule: MethodRule,
        config: CacheConfig,
        lease: Lease | None,
        mode: str,
    ) -> Outcome:
        """Fetches from the upstream, stores a good answer, and releases the lease."""
        if lease is not None:
            fetched_at: float | None = lease.started_at
        else:
            try:
                fetched_at = await self.store.now()
            except StoreUnavailable as exc:
                self._store_failed("now", exc)
                fetched_at = None
        try:
            outcome = await fetch(call)
        except RpcError as exc:
            outcome = Outcome(Delivery.NOT_SENT, error=exc)
        except BaseException:
            if lease is not None:  # cancelled: let another caller refresh at once
                self._spawn(self._release(key, lease, 0.0))
            raise
        method = call.spec.rpc
        if outcome.response is not None:
            self.counters.refreshed(method, mode)
            if fetched_at is not None:
                entry = Entry(
                    outcome.response.SerializeToString(deterministic=True),
                    fetched_at,
                    has_invalid_rates(outcome.response),
                )
                try:
                    await self.store.put(key, entry, max(rule.max_stale, rule.ttl), lease)
                except StoreUnavailable as exc:
                    self._store_failed("put", exc)
            return outcome
        assert outcome.error is not None
        failure = outcome.error
        reason = failure.reason or failure.code.name
        self.counters.refresh_failed(method, reason)
        log.info("cache refresh failed", extra={"method": call.spec.api, "reason": reason})
        if lease is not None:
            transient = stale_on_error(failure.code)
            await self._release(key, lease, config.failure_cooldown if transient else 0.0)
        return outcome

    def _conclude(self, call: Call, outcome: Outcome, fallback: Fallback | None) -> Outcome:
        """The caller's answer from a refresh: its result, or the previous answer if the
        upstream is unavailable for now."""
        if outcome.response is None:
            assert outcome.error is not None
            transient = stale_on_error(outcome.error.code)
            if fallback is not None and fallback.usable() and transient:
                log.warning(
                    "upstream failed; serving a stale cached answer",
                    extra={
                        "method": call.spec.api,
                        "reason": outcome.error.reason or outcome.error.code.name,
                    },
                )
                return self._stale(call, fallback, StaleReason.UPSTREAM_ERROR)
        call.trailing.append((TRAILER, Served.MISS.value))
        self._served(call, Served.MISS.value)
        return outcome

    def _pending(self, call: Call, who: str) -> RpcError:
        call.trailing.append((TRAILER, Served.MISS.value))
        self._served(call, Served.MISS.value)
        return refusal(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "CACHE_REFRESH_PENDING",
            f"{call.spec.api}: {who} answer within this call's deadline; the refresh goes on "
            "and its answer will serve the next calls: retry, or call with a longer deadline",
            metadata={"method": call.spec.api},
        )

    async def _bypass(
        self, call: Call, fetch: Fetch, key: str, rule: MethodRule, keep: bool
    ) -> Outcome:
        call.trailing.append((TRAILER, Served.BYPASS.value))
        self._served(call, Served.BYPASS.value)
        fetched_at: float | None = None
        if keep:
            try:
                fetched_at = await self.store.now()
            except StoreUnavailable as exc:
                self._store_failed("now", exc)
        outcome = await fetch(call)
        if outcome.response is not None and fetched_at is not None:
            entry = Entry(
                outcome.response.SerializeToString(deterministic=True),
                fetched_at,
                has_invalid_rates(outcome.response),
            )
            try:
                await self.store.put(key, entry, max(rule.max_stale, rule.ttl), None)
            except StoreUnavailable as exc:
                self._store_failed("put", exc)
        return outcome

    async def _without_store(
        self, call: Call, fetch: Fetch, operation: str, exc: StoreUnavailable
    ) -> Outcome:
        self._store_failed(operation, exc)
        call.trailing.append((TRAILER, Served.MISS.value))
        self._served(call, Served.MISS.value)
        return await fetch(call)

    # --- helpers ---------------------------------------------------------------------------

    def _decode(self, call: Call, key: str, entry: Entry | None) -> Message | None:
        if entry is None:
            return None
        memo = self._decoded.get(key)
        if memo is not None and memo[0] == entry.data:
            return memo[1]  # responses are never mutated once built: share the parsed one
        try:
            message = call.spec.response_type.FromString(entry.data)
        except DecodeError:
            log.warning("unreadable cache entry ignored", extra={"method": call.spec.api})
            return None
        self._decoded[key] = (entry.data, message)
        return message

    def _answer(self, call: Call, served: Served, response: Message, age: float | None) -> Outcome:
        call.trailing.append((TRAILER, served.value))
        if age is not None:
            call.trailing.append((AGE_TRAILER, f"{max(age, 0.0):.3f}"))
        self._served(call, served.value)
        return Outcome(Delivery.DONE, response=response)

    def _served(self, call: Call, result: str) -> None:
        self.counters.served(call.spec.rpc, result)
        tracing.annotate({tracing.CACHE_RESULT: result})

    def _stale(self, call: Call, fallback: Fallback, reason: StaleReason) -> Outcome:
        response, age = fallback.response, fallback.age()
        call.trailing.append((STALE_TRAILER, reason.value))
        self.counters.stale(call.spec.rpc, reason.value)
        return self._answer(call, Served.STALE, response, age)

    async def _release(self, key: str, lease: Lease, cooldown: float) -> None:
        try:
            await self.store.release(key, lease, cooldown)
        except StoreUnavailable as exc:
            self._store_failed("release", exc)  # the lease expires by itself

    def _store_failed(self, operation: str, exc: StoreUnavailable) -> None:
        self.counters.store_error(operation)
        now = time.monotonic()
        if now - self._logged.get(operation, -LOG_EVERY) >= LOG_EVERY:
            self._logged[operation] = now
            log.warning(
                "cache store unavailable; calls go to the upstream uncached",
                extra={"operation": operation, "error": str(exc)},
            )

    def _spawn(self, work: Coroutine[Any, Any, T], name: str = "cache-release") -> asyncio.Task[T]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("cache task failed", exc_info=task.exception())

    # --- operations ------------------------------------------------------------------------

    async def flush(self, rpc: str | None = None) -> int:
        """Deletes this app's cached answers (of one method, or all) in the shared store."""
        deleted = await self.store.flush(self.config.key_prefix, self.scope, rpc)
        self._decoded.clear()
        log.info("cache flushed", extra={"method": rpc or "*", "entries": deleted})
        return deleted

    async def drain(self) -> None:
        """Stops background refreshes (their leases are released), then closes the store."""
        for task in list(self._tasks):
            if task.get_name().startswith("cache-refresh"):
                task.cancel()
        for _ in range(2):  # a cancelled refresh spawns the release of its lease
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=1.0)
        await self.store.close()
