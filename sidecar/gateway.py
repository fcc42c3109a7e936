"""The request path: the one place that orders the steps every RPC goes through.

    validate -> policy -> cache -> idempotency -> retries -> (rate limit -> upstream attempt)

Each step is a small interface with a null implementation here, so the steps that guard money
(policy, rate limits, retries, idempotency) plug in without changing the order, and each can be
tested alone. Pure decisions live in the steps' own modules; this file only sequences them.

Each configured step runs in its own child span of the RPC's server span (policy, idempotency,
ratelimit), each upstream attempt gets a span, and every attempt is counted in the metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message
from opentelemetry import trace

from sidecar.errors import RpcError, bad_request
from sidecar.idempotency.fingerprint import IDEMPOTENCY_KEY, derive_spend_id
from sidecar.mapping import to_params
from sidecar.methods import Effect, MethodSpec
from sidecar.outcome import Delivery, HttpAnswer, Outcome, from_answer, from_failure
from sidecar.telemetry import links, metrics, tracing
from sidecar.upstream import Upstream
from sidecar.validation import validate

log = logging.getLogger(__name__)

# Leave the caller this much of its deadline to receive our answer.
DEADLINE_MARGIN = 0.02


@dataclass
class Call:
    """One RPC as it travels the request path."""

    spec: MethodSpec
    request: Message
    metadata: Mapping[str, str]
    deadline: float | None  # time.monotonic() by which the caller gives up; None: no deadline
    caller: str = "default"
    trailing: list[tuple[str, str]] = field(default_factory=list)
    attempts: int = 0
    deliveries: list[Delivery] = field(default_factory=list)  # what each finished attempt means
    params: dict[str, Any] = field(default_factory=dict)
    # The policy snapshot this call runs under (set by the policy step); later steps read their
    # settings from it, so a reload never changes the rules in the middle of a call.
    policy: Any = None
    # Upper bound of one upstream attempt, set by the retry step (None: the sidecar's default).
    attempt_timeout: float | None = None

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic() - DEADLINE_MARGIN


Attempt = Callable[[], Awaitable[Outcome]]
Execute = Callable[[], Awaitable[Outcome]]
Fetch = Callable[[Call], Awaitable[Outcome]]


class Decision(Protocol):
    async def settle(self, outcome: Outcome | None) -> None:
        """Runs once the call is over (outcome None: it ended with an error); never raises."""


class Policy(Protocol):
    async def check(self, call: Call) -> Decision:
        """Identifies the caller (sets call.caller), attaches the policy snapshot (call.policy)
        and raises RpcError if the call is denied; the decision settles what it reserved."""


class Cache(Protocol):
    async def run(self, call: Call, fetch: Fetch) -> Outcome:
        """Answers cacheable reads from the shared cache; calls `fetch` (the rest of the path,
        for this call or a copy of it) when the upstream must be asked."""


class Idempotency(Protocol):
    async def run(self, call: Call, execute: Execute) -> Outcome:
        """Runs `execute` at most once per idempotency key, replaying stored outcomes."""


class Retrier(Protocol):
    async def run(self, call: Call, attempt: Attempt) -> Outcome:
        """Runs `attempt` until it gives a final outcome, within budget and deadline."""


class Limiter(Protocol):
    async def acquire(self, call: Call) -> None:
        """Waits for (or refuses with RpcError) the permission to send one upstream attempt."""

    async def observe(self, call: Call, outcome: Outcome) -> None:
        """Learns from an upstream answer (for example a 429 cooldown) before anyone else
        sees it, so a pause is shared before the caller can react to the 429."""


class Allowed:
    async def settle(self, outcome: Outcome | None) -> None:
        return None


ALLOWED = Allowed()


class AllowAll:
    async def check(self, call: Call) -> Decision:
        return ALLOWED


class NoCache:
    async def run(self, call: Call, fetch: Fetch) -> Outcome:
        return await fetch(call)


class NoIdempotency:
    async def run(self, call: Call, execute: Execute) -> Outcome:
        return await execute()


class SingleAttempt:
    async def run(self, call: Call, attempt: Attempt) -> Outcome:
        return await attempt()


class Unlimited:
    async def acquire(self, call: Call) -> None:
        return None

    async def observe(self, call: Call, outcome: Outcome) -> None:
        return None


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    request_timeout: float = 30.0  # per upstream attempt, when the caller's deadline allows


class Gateway:
    def __init__(
        self,
        upstream: Upstream,
        settings: GatewaySettings | None = None,
        *,
        policy: Policy | None = None,
        cache: Cache | None = None,
        idempotency: Idempotency | None = None,
        retrier: Retrier | None = None,
        limiter: Limiter | None = None,
        trace_links: links.TraceContextStore | None = None,
    ) -> None:
        self._upstream = upstream
        self._settings = settings or GatewaySettings()
        self.policy: Policy = policy or AllowAll()
        self.cache: Cache = cache or NoCache()
        self.idempotency: Idempotency = idempotency or NoIdempotency()
        self.retrier: Retrier = retrier or SingleAttempt()
        self.limiter: Limiter = limiter or Unlimited()
        # Where CreateInvoice remembers its trace for the webhook's span link (None: nowhere).
        self.trace_links = trace_links

    async def handle(self, call: Call) -> Message:
        """Runs one call to completion; raises RpcError for every failure."""
        with tracing.rpc_scope():
            return await self._handle(call)

    async def _handle(self, call: Call) -> Message:
        tracing.annotate({tracing.RPC: call.spec.rpc, tracing.API_METHOD: call.spec.api})
        key = call.metadata.get(IDEMPOTENCY_KEY)
        violations = validate(call.request, spend_id_derived=bool(key))
        if violations:
            tracing.annotate({tracing.OUTCOME: "invalid"})
            raise bad_request(violations)
        tracing.annotate({tracing.ASSET: _asset(call.request)})
        try:
            with _step_span(self.policy, "policy"):
                decision = await self.policy.check(call)
            tracing.annotate({tracing.CALLER: call.caller})
            outcome: Outcome | None = None
            try:
                call.params = to_params(call.request)
                if key and call.spec.effect is Effect.TRANSFER and not call.params.get("spend_id"):
                    # The upstream deduplicates transfers by spend_id; one derived from the
                    # caller and the key keeps a retry safe even if the sidecar's own record is
                    # lost.
                    call.params["spend_id"] = derive_spend_id(call.caller, key)
                # Only reads can be cached: other calls pass through, unspanned.
                with _step_span(None if call.spec.mutating else self.cache, "cache"):
                    outcome = await self.cache.run(call, self._fetch)
            finally:
                await decision.settle(outcome)
        except RpcError:
            tracing.annotate({tracing.OUTCOME: "refused", tracing.ATTEMPTS: call.attempts})
            raise
        tracing.annotate(
            {
                tracing.OUTCOME: outcome.delivery.value,
                tracing.ATTEMPTS: call.attempts,
                tracing.ERROR_NAME: outcome.error_name,
            }
        )
        if outcome.response is not None:
            await self._remember_trace(call, outcome.response)
            return outcome.response
        assert outcome.error is not None
        raise outcome.error

    async def _remember_trace(self, call: Call, response: Message) -> None:
        # Only a call that reached the upstream created the invoice (a replay did not).
        if call.spec.rpc != "CreateInvoice" or not call.attempts:
            return
        invoice_id = int(getattr(getattr(response, "invoice", None), "invoice_id", 0))
        tracing.annotate({tracing.INVOICE_ID: invoice_id})
        # An unsampled trace is never exported, so nothing could link to it: skip the write
        # (without an exporter this saves a Redis round trip per CreateInvoice).
        if (
            self.trace_links is not None
            and trace.get_current_span().get_span_context().trace_flags.sampled
        ):
            await links.remember_invoice(self.trace_links, invoice_id)

    async def _fetch(self, call: Call) -> Outcome:
        # Reads are idempotent already: the step passes them through, unspanned.
        idempotency = self.idempotency if call.spec.mutating else None
        with _step_span(idempotency, "idempotency"):
            return await self.idempotency.run(call, lambda: self._execute(call))

    async def _execute(self, call: Call) -> Outcome:
        previous: list[Outcome] = []

        async def attempt() -> Outcome:
            if previous:
                metrics.retry(call.spec.api, previous[-1].error_name or "unknown")
            outcome = await self._attempt(call)
            previous[:] = [outcome]
            return outcome

        return await self.retrier.run(call, attempt)

    async def _attempt(self, call: Call) -> Outcome:
        with _step_span(self.limiter, "ratelimit", call):
            await self.limiter.acquire(call)
        outcome = await self.attempt(call, call.params)
        call.deliveries.append(outcome.delivery)
        await self.limiter.observe(call, outcome)
        return outcome

    async def lookup(self, call: Call, spec: MethodSpec, params: Mapping[str, Any]) -> Outcome:
        """One extra upstream request on behalf of `call` (e.g. reconciling a transfer by its
        spend_id); it passes the rate limiter but is not counted as one of the call's attempts."""
        side = Call(
            spec=spec,
            request=spec.request_type(),
            metadata=call.metadata,
            deadline=call.deadline,
            caller=call.caller,
            policy=call.policy,
            attempt_timeout=call.attempt_timeout,
        )
        await self.limiter.acquire(side)
        outcome = await self.attempt(side, params)
        await self.limiter.observe(side, outcome)
        return outcome

    async def attempt(self, call: Call, params: Mapping[str, Any]) -> Outcome:
        """One upstream attempt within the caller's deadline."""
        timeout = self._settings.request_timeout
        if call.attempt_timeout is not None:
            timeout = min(timeout, call.attempt_timeout)
        remaining = call.remaining()
        if remaining is not None:
            if remaining <= 0:
                raise RpcError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"{call.spec.api}: the caller's deadline left no time for an upstream call",
                )
            timeout = min(timeout, remaining)
        call.attempts += 1
        with tracing.attempt_span(call.spec.api, call.attempts) as span:
            started = time.perf_counter()
            answer = await self._upstream.call(call.spec.api, params, timeout)
            seconds = time.perf_counter() - started
            if isinstance(answer, HttpAnswer):
                outcome = from_answer(call.spec, answer)
                status: int | str = answer.status
            else:
                outcome = from_failure(call.spec, answer)
                status = answer.kind.value
            metrics.upstream_attempt(call.spec.api, status, seconds)
            tracing.annotate(
                {
                    tracing.HTTP_STATUS: answer.status if isinstance(answer, HttpAnswer) else None,
                    tracing.OUTCOME: outcome.delivery.value,
                    tracing.ERROR_NAME: outcome.error_name,
                },
                span,
            )
            if outcome.error is not None:
                tracing.fail(outcome.error_name or outcome.error.code.name, span)
                _log_failed_attempt(call, outcome, status)
        return outcome


_NULL_STEPS = (AllowAll, NoCache, NoIdempotency, SingleAttempt, Unlimited, type(None))


def _step_span(step: object, name: str, call: Call | None = None) -> AbstractContextManager[object]:
    # A step that is not configured does nothing worth a span (spans cost ~20 us each). A step
    # configured per call (by the policy snapshot) says so through `active(call)`.
    active = getattr(step, "active", None)
    if isinstance(step, _NULL_STEPS) or (
        call is not None and callable(active) and not active(call)
    ):
        return nullcontext()
    return tracing.span(name)


def _log_failed_attempt(call: Call, outcome: Outcome, status: int | str) -> None:
    # Failures worth an operator's attention (the upstream or the network) are warnings; a
    # refused parameter is the caller's business and only shows at debug.
    level = logging.WARNING if outcome.retryable else logging.DEBUG
    log.log(
        level,
        "upstream attempt failed",
        extra={
            "method": call.spec.api,
            "attempt": call.attempts,
            "status": status,
            "error_name": outcome.error_name,
            "delivery": outcome.delivery.value,
        },
    )


def _asset(request: Message) -> str | None:
    for name in ("asset", "fiat"):
        value = getattr(request, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def metadata_dict(metadata: Sequence[tuple[str, str | bytes]] | None) -> dict[str, str]:
    """Invocation metadata as a dict of text values (binary `-bin` entries are skipped)."""
    out: dict[str, str] = {}
    for key, value in metadata or ():
        if isinstance(value, str):
            out[key.lower()] = value
    return out
