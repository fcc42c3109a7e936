"""The request path: the one place that orders the steps every RPC goes through.

    validate -> policy -> idempotency -> retries -> (rate limit -> upstream attempt) -> response

Each step is a small interface with a null implementation here, so the steps that guard money
(policy, rate limits, retries, idempotency) plug in without changing the order, and each can be
tested alone. Pure decisions live in the steps' own modules; this file only sequences them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message

from sidecar.errors import RpcError, bad_request
from sidecar.idempotency.fingerprint import IDEMPOTENCY_KEY, derive_spend_id
from sidecar.mapping import to_params
from sidecar.methods import Effect, MethodSpec
from sidecar.outcome import Delivery, HttpAnswer, Outcome, from_answer, from_failure
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


class Decision(Protocol):
    async def settle(self, outcome: Outcome | None) -> None:
        """Runs once the call is over (outcome None: it ended with an error); never raises."""


class Policy(Protocol):
    async def check(self, call: Call) -> Decision:
        """Identifies the caller (sets call.caller), attaches the policy snapshot (call.policy)
        and raises RpcError if the call is denied; the decision settles what it reserved."""


class Idempotency(Protocol):
    async def run(self, call: Call, execute: Execute) -> Outcome:
        """Runs `execute` at most once per idempotency key, replaying stored outcomes."""


class Retrier(Protocol):
    async def run(self, call: Call, attempt: Attempt) -> Outcome:
        """Runs `attempt` until it gives a final outcome, within budget and deadline."""


class Limiter(Protocol):
    async def acquire(self, call: Call) -> None:
        """Waits for (or refuses with RpcError) the permission to send one upstream attempt."""

    def observe(self, call: Call, outcome: Outcome) -> None:
        """Learns from an upstream answer (for example a 429 cooldown)."""


class Allowed:
    async def settle(self, outcome: Outcome | None) -> None:
        return None


ALLOWED = Allowed()


class AllowAll:
    async def check(self, call: Call) -> Decision:
        return ALLOWED


class NoIdempotency:
    async def run(self, call: Call, execute: Execute) -> Outcome:
        return await execute()


class SingleAttempt:
    async def run(self, call: Call, attempt: Attempt) -> Outcome:
        return await attempt()


class Unlimited:
    async def acquire(self, call: Call) -> None:
        return None

    def observe(self, call: Call, outcome: Outcome) -> None:
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
        idempotency: Idempotency | None = None,
        retrier: Retrier | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self._upstream = upstream
        self._settings = settings or GatewaySettings()
        self.policy: Policy = policy or AllowAll()
        self.idempotency: Idempotency = idempotency or NoIdempotency()
        self.retrier: Retrier = retrier or SingleAttempt()
        self.limiter: Limiter = limiter or Unlimited()

    async def handle(self, call: Call) -> Message:
        """Runs one call to completion; raises RpcError for every failure."""
        key = call.metadata.get(IDEMPOTENCY_KEY)
        violations = validate(call.request, spend_id_derived=bool(key))
        if violations:
            raise bad_request(violations)
        decision = await self.policy.check(call)
        outcome: Outcome | None = None
        try:
            call.params = to_params(call.request)
            if key and call.spec.effect is Effect.TRANSFER and not call.params.get("spend_id"):
                # The upstream deduplicates transfers by spend_id; one derived from the caller
                # and the key keeps a retry safe even if the sidecar's own record is lost.
                call.params["spend_id"] = derive_spend_id(call.caller, key)
            outcome = await self.idempotency.run(call, lambda: self._execute(call))
        finally:
            await decision.settle(outcome)
        if outcome.response is not None:
            return outcome.response
        assert outcome.error is not None
        raise outcome.error

    async def _execute(self, call: Call) -> Outcome:
        return await self.retrier.run(call, lambda: self._attempt(call))

    async def _attempt(self, call: Call) -> Outcome:
        await self.limiter.acquire(call)
        outcome = await self.attempt(call, call.params)
        call.deliveries.append(outcome.delivery)
        self.limiter.observe(call, outcome)
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
        self.limiter.observe(side, outcome)
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
        answer = await self._upstream.call(call.spec.api, params, timeout)
        if isinstance(answer, HttpAnswer):
            return from_answer(call.spec, answer)
        return from_failure(call.spec, answer)


def metadata_dict(metadata: Sequence[tuple[str, str | bytes]] | None) -> dict[str, str]:
    """Invocation metadata as a dict of text values (binary `-bin` entries are skipped)."""
    out: dict[str, str] = {}
    for key, value in metadata or ():
        if isinstance(value, str):
            out[key.lower()] = value
    return out
