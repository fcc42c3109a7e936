"""The retry step: runs attempts until one gives a final outcome, within budget and deadline.

Every attempt passes the rate limiter (it is inside `attempt`). A transfer whose outcome is
unclear is looked up by its spend_id before the sidecar answers or retries.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sidecar.config_section import SectionSetting
from sidecar.errors import RpcError
from sidecar.methods import BY_RPC, Effect, MethodSpec
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call, Next
from sidecar.retry import reconcile
from sidecar.retry.budget import MemoryRetryBudget, RetryBudget
from sidecar.retry.policy import Stop, decide
from sidecar.retry.settings import RetriesConfig
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

# One upstream request outside the call's own attempts (e.g. getTransfers to reconcile).
Lookup = Callable[[Call, MethodSpec, Mapping[str, Any]], Awaitable[Outcome]]

GET_TRANSFERS = BY_RPC["GetTransfers"]
RECONCILED = "cryptopay-reconciled"
BUDGET_LOG_INTERVAL = 10.0


class Retrier:
    def __init__(
        self,
        config: RetriesConfig | None = None,
        budget: RetryBudget | None = None,
        *,
        lookup: Lookup | None = None,
        draw: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = SectionSetting("retries", config or RetriesConfig())
        self._budget: RetryBudget = MemoryRetryBudget() if budget is None else budget
        self._lookup = lookup  # the rate-limited upstream's lookup (Attempts.lookup)
        self._draw = draw
        self._sleep = sleep
        self._budget_logged = -BUDGET_LOG_INTERVAL
        self._budget_refused = 0

    async def run(self, call: Call, next: Next) -> Outcome:
        config = self._config.get(call.policy)
        rule = config.for_rpc(call.spec.rpc)
        if rule.per_attempt_timeout is not None:
            call.attempt_timeout = rule.per_attempt_timeout
        await self._budget.note_request(config.budget)
        outcome = sent = await next(call)
        made = 1
        unknown_before = False
        while True:
            outcome = await self._reconcile(call, outcome)
            if call.spec.effect is Effect.DELETE:
                outcome = reconcile.settle_delete(call.spec, outcome, unknown_before)
            decision = decide(
                effect=call.spec.effect,
                outcome=outcome,
                attempts_made=made,
                rule=rule,
                remaining=call.remaining(),
                draw=self._draw(),
            )
            if not decision.retry:
                if decision.stop not in (None, Stop.DONE, Stop.NOT_RETRYABLE):
                    metrics.retry_stopped(call.spec.api, decision.stop.value)
                if made > 1 or outcome.delivery is not Delivery.DONE:
                    log.debug(
                        "retries: final outcome",
                        extra={
                            "rpc": call.spec.rpc,
                            "attempts": made,
                            "stop": decision.stop.value if decision.stop else None,
                            "delivery": outcome.delivery.value,
                        },
                    )
                return outcome
            if not await self._budget.try_spend(config.budget):
                metrics.retry_stopped(call.spec.api, "budget")
                self._budget_refused += 1
                now = time.monotonic()
                if now - self._budget_logged >= BUDGET_LOG_INTERVAL:
                    # An outage refuses retries for every call: one line now and then is enough.
                    log.warning(
                        "retries: budget exhausted, answering without retrying",
                        extra={
                            "rpc": call.spec.rpc,
                            "refused_since_last_log": self._budget_refused,
                        },
                    )
                    self._budget_logged, self._budget_refused = now, 0
                return outcome
            unknown_before = unknown_before or outcome.delivery is Delivery.UNKNOWN
            with tracing.span("retry backoff", {tracing.RETRY_DELAY: decision.delay}):
                await self._sleep(decision.delay)
            metrics.retry(call.spec.api, sent.error_name or "unknown")
            try:
                outcome = sent = await next(call)
            except RpcError:
                # Refused before sending (rate limit, deadline): the last answer stands.
                metrics.retry_stopped(call.spec.api, "refused")
                return outcome
            made += 1

    async def _reconcile(self, call: Call, outcome: Outcome) -> Outcome:
        spend_id = call.spend_id
        if self._lookup is None or not spend_id or not reconcile.needs_lookup(outcome):
            return outcome
        try:
            found = await self._lookup(call, GET_TRANSFERS, {"spend_id": spend_id})
        except RpcError:
            return outcome
        result = reconcile.interpret(call.request, spend_id, outcome, found)
        if result.delivery is Delivery.DONE:
            call.trailing.append((RECONCILED, "true"))
            log.info(
                "transfer reconciled: the upstream had performed it",
                extra={"rpc": call.spec.rpc, "cause": outcome.error_name},
            )
        return result
