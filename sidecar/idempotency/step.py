"""The idempotency step: at most one execution per (caller, RPC, idempotency-key).

Keys come from the `idempotency-key` request metadata and apply to mutating RPCs (reads are
idempotent already and ignore them). See docs/retries-and-idempotency.md for the contract.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import grpc

from sidecar.config_section import SectionSetting
from sidecar.errors import refusal
from sidecar.idempotency import codec
from sidecar.idempotency.fingerprint import (
    IDEMPOTENCY_KEY,
    REPLAYED,
    fingerprint,
    key_problem,
    record_key,
)
from sidecar.idempotency.memory import MemoryIdempotencyStore
from sidecar.idempotency.settings import IdempotencyConfig
from sidecar.idempotency.store import IdempotencyStore
from sidecar.idempotency.transitions import (
    OUTCOME_UNKNOWN,
    Action,
    on_claim,
    outcome_unknown,
    should_store,
    store_on_abandon,
)
from sidecar.methods import Effect
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call, Next
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

Execute = Callable[[], Awaitable[Outcome]]
# Leave a call this long past its deadline before its key counts as abandoned.
_LEASE_GRACE = 5.0


class IdempotencyStep:
    def __init__(
        self,
        store: IdempotencyStore | None = None,
        config: IdempotencyConfig | None = None,
        *,
        replica: str | None = None,
    ) -> None:
        self._store: IdempotencyStore = MemoryIdempotencyStore() if store is None else store
        self._config = SectionSetting("idempotency", config or IdempotencyConfig())
        self._replica = replica or f"{socket.gethostname()}:{os.getpid()}"

    async def run(self, call: Call, next: Next) -> Outcome:
        if call.spec.effect is Effect.READ:
            return await next(call)  # reads are idempotent already: unspanned
        with tracing.span("idempotency"):
            return await self._run(call, partial(next, call))

    async def _run(self, call: Call, execute: Execute) -> Outcome:
        spec = call.spec
        config = self._config.get(call.policy)
        key = call.metadata.get(IDEMPOTENCY_KEY)
        if key is None:
            if spec.rpc in config.require_key:
                raise refusal(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "IDEMPOTENCY_KEY_REQUIRED",
                    f"{spec.rpc} requires an idempotency-key in the request metadata (1 to 255 "
                    "characters, e.g. a UUID): with it a retry can never run the call twice",
                    metadata={"rpc": spec.rpc},
                )
            return _shaped(call, await execute())
        problem = key_problem(key)
        if problem:
            raise refusal(
                grpc.StatusCode.INVALID_ARGUMENT,
                "IDEMPOTENCY_KEY_INVALID",
                f"the idempotency-key metadata {problem}",
                metadata={"rpc": spec.rpc},
            )
        return await self._keyed(call, execute, key, config)

    async def _keyed(
        self, call: Call, execute: Execute, key: str, config: IdempotencyConfig
    ) -> Outcome:
        spec = call.spec
        digest = fingerprint(spec, call.request)
        name = record_key(call.caller, spec.rpc, key)
        owner = f"{self._replica}:{uuid.uuid4().hex}"
        lease = _lease(call, config)
        for _ in range(3):  # a record can change between reading and acting on it
            try:
                claim = await self._store.claim(name, digest, owner, lease, config.ttl)
            except StoreUnavailable as exc:
                return await self._without_store(call, execute, exc)
            action = on_claim(claim, digest, spec.effect)
            if action is Action.EXECUTE:
                _report(call, "new")
                return await self._execute(call, execute, name, owner, config)
            if action is Action.REPLAY:
                _report(call, "replayed")
                return _replayed(call, codec.decode(spec, claim.payload))
            if action is Action.REUSED:
                _report(call, "conflict")
                raise refusal(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "IDEMPOTENCY_KEY_REUSED",
                    f"this idempotency-key was first used with a different {spec.rpc} request; "
                    "a key names exactly one request: send a new key for a new request",
                    metadata={"rpc": spec.rpc},
                )
            if action is Action.IN_USE:
                _report(call, "in_progress")
                raise refusal(
                    grpc.StatusCode.ABORTED,
                    "IDEMPOTENCY_KEY_IN_USE",
                    f"a {spec.rpc} request with this idempotency-key is still in progress; "
                    "retry after the RetryInfo delay to receive its answer",
                    retry_after=config.in_use_retry_after,
                    metadata={"rpc": spec.rpc},
                )
            try:
                if action is Action.MARK_UNKNOWN:
                    unknown = outcome_unknown(
                        spec, "the replica handling this key stopped before answering"
                    )
                    if await self._store.complete(
                        name, claim.owner, codec.encode(unknown), config.ttl
                    ):
                        _report(call, "replayed")
                        return _replayed(call, unknown)
                elif await self._store.take_over(name, claim.owner, owner, lease):
                    _report(call, "new")
                    return await self._execute(call, execute, name, owner, config)
            except StoreUnavailable as exc:
                return await self._without_store(call, execute, exc)
        raise refusal(
            grpc.StatusCode.ABORTED,
            "IDEMPOTENCY_KEY_IN_USE",
            f"the record of this idempotency-key keeps changing; retry the {spec.rpc} request",
            retry_after=config.in_use_retry_after,
            metadata={"rpc": spec.rpc},
        )

    async def _execute(
        self, call: Call, execute: Execute, name: str, owner: str, config: IdempotencyConfig
    ) -> Outcome:
        try:
            outcome = await execute()
        except BaseException:
            # Refused before sending (RpcError), cancelled by the caller, or a crash: keep an
            # unknown outcome for a create that may have been sent, release the key otherwise.
            await asyncio.shield(self._abandon(call, name, owner, config))
            raise
        outcome = _shaped(call, outcome)
        try:
            if should_store(outcome, call.spec.effect):
                if not await self._store.complete(name, owner, codec.encode(outcome), config.ttl):
                    log.warning(
                        "idempotency: the record changed while the call ran; answer not stored",
                        extra={"rpc": call.spec.rpc},
                    )
            else:
                await self._store.release(name, owner)
        except StoreUnavailable as exc:
            # The record stays in flight until its lease ends; a create then reads as unknown.
            log.error(
                "idempotency: cannot store the outcome",
                extra={"rpc": call.spec.rpc, "error": str(exc)},
            )
        return outcome

    async def _abandon(self, call: Call, name: str, owner: str, config: IdempotencyConfig) -> None:
        try:
            if store_on_abandon(call.spec.effect, call.attempts):
                unknown = outcome_unknown(call.spec, "the call was interrupted")
                await self._store.complete(name, owner, codec.encode(unknown), config.ttl)
            else:
                await self._store.release(name, owner)
        except StoreUnavailable as exc:
            log.error(
                "idempotency: cannot settle an interrupted call",
                extra={"rpc": call.spec.rpc, "error": str(exc)},
            )

    async def _without_store(self, call: Call, execute: Execute, exc: StoreUnavailable) -> Outcome:
        _report(call, "unavailable")
        if call.spend_id:
            # The upstream deduplicates by spend_id: safe even without the sidecar's record.
            log.warning(
                "idempotency store unavailable; the transfer relies on its spend_id",
                extra={"rpc": call.spec.rpc, "error": str(exc)},
            )
            return await execute()
        log.error(
            "idempotency store unavailable; refusing a keyed call",
            extra={"rpc": call.spec.rpc, "error": str(exc)},
        )
        raise refusal(
            grpc.StatusCode.UNAVAILABLE,
            "IDEMPOTENCY_STORE_UNAVAILABLE",
            f"{call.spec.rpc}: the sidecar cannot reach its idempotency store, so it cannot "
            "guarantee this key runs once; nothing was sent upstream, retry later",
            retry_after=1.0,
            metadata={"rpc": call.spec.rpc},
        ) from None


def _report(call: Call, result: metrics.IdempotencyResult) -> None:
    metrics.idempotency(call.spec.rpc, result)
    tracing.annotate({tracing.IDEMPOTENCY_RESULT: result})


def _lease(call: Call, config: IdempotencyConfig) -> float:
    remaining = call.remaining()
    if remaining is None:
        return config.lease
    return min(config.lease, max(remaining, 0.0) + _LEASE_GRACE)


def _shaped(call: Call, outcome: Outcome) -> Outcome:
    """A create with an unknown outcome is answered as OUTCOME_UNKNOWN."""
    if (
        call.spec.effect is Effect.CREATE
        and outcome.delivery is Delivery.UNKNOWN
        and outcome.error_name != OUTCOME_UNKNOWN
    ):
        return outcome_unknown(call.spec, outcome.error_name)
    return outcome


def _replayed(call: Call, outcome: Outcome) -> Outcome:
    call.trailing.append((REPLAYED, "true"))
    return outcome
