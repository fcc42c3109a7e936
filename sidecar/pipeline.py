"""The request path's vocabulary: the call that travels it, the one shape of a step, and how
steps are composed into a chain.

    edge (gRPC, HTTP) -> Pipeline.handle(call)
        validate -> policy (identifies; then `prepare`) -> cache -> idempotency -> retries
        -> rate limit -> one upstream attempt

Every step has the same shape, `run(call, next)`: it does its part and calls `next` (the rest of
the chain) zero, one or several times. The chain is composed once, at assembly, from the steps
that are configured; a step that has nothing to do for a call passes it on and opens no span.
The rate limiter wraps the upstream attempt once (`Attempts`): retries, the retrier's lookups
and the webhook sweep all send through that one wrapped upstream.

This module sits below every step: it imports no step, and no step imports the assembly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from google.protobuf.message import Message

from sidecar.errors import RpcError, bad_request
from sidecar.idempotency.fingerprint import IDEMPOTENCY_KEY, derive_spend_id
from sidecar.mapping import to_params
from sidecar.methods import Effect, MethodSpec
from sidecar.outcome import Delivery, HttpAnswer, Outcome, from_answer, from_failure
from sidecar.peer import Peer
from sidecar.policy.model import DEFAULT_CALLER, PolicySnapshot
from sidecar.telemetry import metrics, tracing
from sidecar.validation import validate

if TYPE_CHECKING:
    from sidecar.upstream import Upstream

log = logging.getLogger(__name__)

# Leave the caller this much of its deadline to receive our answer.
DEADLINE_MARGIN = 0.02
# Per upstream attempt, when the caller's deadline allows.
DEFAULT_REQUEST_TIMEOUT = 30.0


@dataclass(slots=True)
class Call:
    """One call as it travels the request path, whichever edge it came in by."""

    spec: MethodSpec
    request: Message
    metadata: Mapping[str, str]
    deadline: float | None  # time.monotonic() by which the caller gives up; None: no deadline
    caller: str = DEFAULT_CALLER
    trailing: list[tuple[str, str]] = field(default_factory=list)
    attempts: int = 0
    deliveries: list[Delivery] = field(default_factory=list)  # what each finished attempt means
    # The upstream parameters and a transfer's spend_id, set once by `prepare`.
    params: dict[str, Any] = field(default_factory=dict)
    spend_id: str = ""
    # The policy snapshot this call runs under (set by the policy step); later steps read their
    # settings from it, so a reload never changes the rules in the middle of a call.
    policy: PolicySnapshot | None = None
    # Upper bound of one upstream attempt, set by the retry step (None: the sidecar's default).
    attempt_timeout: float | None = None
    # The upstream's raw answer behind a successful result (fresh or replayed); None when the
    # answer was built from a stored message (the cache). The HTTP front sends it as is.
    body: bytes | None = None
    # The verified client certificate (mTLS listeners only); None: no certificate.
    peer: Peer | None = None

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic() - DEADLINE_MARGIN


def new_call(
    spec: MethodSpec,
    request: Message,
    metadata: Mapping[str, str],
    timeout: float | None = None,
) -> Call:
    """A call from any edge: the method, its request message (an HTTP edge builds it from the
    request's parameters with `mapping.from_json`), the caller's metadata (lower-case keys:
    `idempotency-key`, the caller headers, ...) and how long the caller waits (None: no
    deadline)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    return Call(spec=spec, request=request, metadata=metadata, deadline=deadline)


Next = Callable[[Call], Awaitable[Outcome]]


class Step(Protocol):
    async def run(self, call: Call, next: Next) -> Outcome:
        """Does this step's part of `call`, calling `next` (the rest of the chain) as needed;
        raises RpcError to refuse the call."""


class AfterSuccess(Protocol):
    async def __call__(self, call: Call, response: Message) -> None:
        """Runs once a call succeeded, before its answer is sent; never raises."""


def compose(steps: Sequence[Step], last: Next) -> Next:
    """The chain `steps[0] -> steps[1] -> ... -> last`, built once."""
    chain = last
    for step in reversed(steps):
        chain = _link(step, chain)
    return chain


def _link(step: Step, rest: Next) -> Next:
    run = step.run

    async def link(call: Call) -> Outcome:
        return await run(call, rest)

    return link


def prepare(call: Call, caller: str) -> None:
    """The preparation stage, once the caller is known: the upstream parameters and, for a
    transfer, its spend_id (the caller's own, else one derived from the caller and the
    idempotency key, so a retry stays safe even if the sidecar's own record is lost)."""
    call.caller = caller
    call.params = params = to_params(call.request)
    if call.spec.effect is not Effect.TRANSFER:
        return
    spend_id = str(params.get("spend_id") or "")
    key = call.metadata.get(IDEMPOTENCY_KEY)
    if not spend_id and key:
        spend_id = params["spend_id"] = derive_spend_id(caller, key)
    call.spend_id = spend_id


class Identify(Protocol):
    async def run(self, call: Call, next: Next) -> Outcome:
        """The first step: identifies the caller and calls `prepare(call, caller)` before
        `next` (the policy step)."""


class Anonymous:
    """The first step when no policy is configured: every call is the default caller's."""

    async def run(self, call: Call, next: Next) -> Outcome:
        prepare(call, DEFAULT_CALLER)
        tracing.annotate({tracing.CALLER: call.caller})
        return await next(call)


class Attempts:
    """The upstream, wrapped once by the rate limiter: every request the sidecar sends (a
    call's attempts, a lookup on its behalf, the webhook sweep) goes through `send`."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        limiter: Step | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        self._upstream = upstream
        self._request_timeout = request_timeout
        self.send: Next = compose([limiter] if limiter else [], self._attempt)

    async def lookup(self, call: Call, spec: MethodSpec, params: Mapping[str, Any]) -> Outcome:
        """One extra upstream request on behalf of `call` (e.g. reconciling a transfer by its
        spend_id); it passes the rate limiter but is not counted as one of the call's
        attempts."""
        side = Call(
            spec=spec,
            request=spec.request_type(),
            metadata=call.metadata,
            deadline=call.deadline,
            caller=call.caller,
            params=dict(params),
            policy=call.policy,
            attempt_timeout=call.attempt_timeout,
        )
        return await self.send(side)

    async def _attempt(self, call: Call) -> Outcome:
        """One upstream attempt within the caller's deadline."""
        timeout = self._request_timeout
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
            answer = await self._upstream.call(call.spec.api, call.params, timeout)
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
        call.deliveries.append(outcome.delivery)
        return outcome


class Pipeline:
    """The request path, composed once: `identify` (the policy step, or `Anonymous`), then
    `steps` in order, then `attempts.send`; `after_success` hooks run on every success."""

    def __init__(
        self,
        attempts: Attempts,
        steps: Sequence[Step] = (),
        *,
        identify: Identify | None = None,
        after_success: Sequence[AfterSuccess] = (),
    ) -> None:
        self.attempts = attempts
        # In the order a call meets them (introspection and tests).
        self.steps: tuple[Step, ...] = (identify or Anonymous(), *steps)
        self._chain = compose(self.steps, attempts.send)
        self._after_success = tuple(after_success)

    async def handle(self, call: Call) -> Message:
        """Runs one call to completion; raises RpcError for every failure."""
        with tracing.rpc_scope():
            return await self._handle(call)

    async def _handle(self, call: Call) -> Message:
        tracing.annotate({tracing.RPC: call.spec.rpc, tracing.API_METHOD: call.spec.api})
        violations = validate(
            call.request, spend_id_derived=bool(call.metadata.get(IDEMPOTENCY_KEY))
        )
        if violations:
            tracing.annotate({tracing.OUTCOME: "invalid"})
            raise bad_request(violations)
        tracing.annotate({tracing.ASSET: _asset(call.request)})
        try:
            outcome = await self._chain(call)
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
            call.body = outcome.body
            for hook in self._after_success:
                await hook(call, outcome.response)
            return outcome.response
        assert outcome.error is not None
        raise outcome.error


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
