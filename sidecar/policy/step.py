"""The policy step of the request path: identify the caller, apply the rules, reserve spend.

The decisions themselves are pure (identity.py, evaluate.py); this module does the I/O around
them: it reads the active snapshot once per call, logs every denial (and every would-be denial
in audit mode) as one structured line with a decision id, reserves spend caps in the store and
settles the reservations when the call is over.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Protocol

import grpc

from sidecar.errors import RpcError, refusal
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call, Next, prepare
from sidecar.policy.evaluate import Facts, Finding, cap_finding, evaluate, facts
from sidecar.policy.identity import Identified, Refusal, identify
from sidecar.policy.model import Mode, PolicySnapshot, SpendCap
from sidecar.spend.settlement import Settlement, settlement
from sidecar.spend.store import EXACT, Bucket, SpendStore, Status, plain
from sidecar.spend.window import bucket_for
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)
decisions = logging.getLogger("sidecar.policy.decisions")

POLICY_TRAILER = "cryptopay-policy"  # short hash of the snapshot the call ran under
DECISION_TRAILER = "cryptopay-policy-decision"  # id of the logged (would-be) denial
DENIED = "POLICY_DENIED"
SETTLE_RETRY_DELAYS = (0.05, 0.25)
STORE_UNAVAILABLE = "SPEND_STORE_UNAVAILABLE"
# A reservation's lease: far longer than any call (the call's deadline is capped below it), so
# only a reservation whose process died is ever freed by its lease.
SPEND_LEASE = 900.0
COMMIT_RETRY_INTERVAL = 2.0  # a commit the store refused is tried again this often


def lease_margin(lease: float) -> float:
    """How long before its lease ends a call holding reservations must be over: time to settle."""
    return min(60.0, lease / 4)


class SnapshotSource(Protocol):
    """Holds the active snapshot (reload.PolicyHolder)."""

    @property
    def current(self) -> PolicySnapshot: ...


@dataclass(frozen=True, slots=True)
class _Held:
    cap: SpendCap
    bucket: Bucket
    reservation_id: str
    owner: str  # this call's id: releases name it, so they never free another call's
    owned: bool  # False: an earlier call with the same spend_id made it (a retry)


class Decision(Protocol):
    async def settle(self, outcome: Outcome | None) -> None:
        """Runs once the call is over (outcome None: it ended with an error); never raises."""


class _Allowed:
    async def settle(self, outcome: Outcome | None) -> None:
        return None


ALLOWED = _Allowed()


class PolicyStep:
    """The first step of the request path: identifies the caller (then the preparation stage
    runs), applies the rules and reserves spend caps, which it settles once the call is over."""

    def __init__(
        self,
        holder: SnapshotSource,
        spend: SpendStore | None,
        namespace: str,
        clock: Callable[[], float] = time.time,
        lease: float = SPEND_LEASE,
    ) -> None:
        self._holder = holder
        self._spend = spend
        self._namespace = namespace
        self._clock = clock
        self._lease = lease

    async def run(self, call: Call, next: Next) -> Outcome:
        with tracing.span("policy"):
            decision = await self.check(call)
        tracing.annotate({tracing.CALLER: call.caller})
        outcome: Outcome | None = None
        try:
            outcome = await next(call)
        finally:
            await decision.settle(outcome)
        return outcome

    async def check(self, call: Call) -> Decision:
        """Identifies the caller and prepares the call (`prepare`), attaches the policy
        snapshot (call.policy) and raises RpcError if the call is denied; the decision settles
        what it reserved."""
        policy = self._holder.current
        call.policy = policy
        call.trailing.append((POLICY_TRAILER, policy.short_hash))
        if policy.permissive:
            prepare(call, call.caller)
            _allowed(None)
            return ALLOWED
        audit = _Audit(call, policy)
        who = identify(policy, call.metadata, call.peer)
        if isinstance(who, Refusal):
            decision_id = audit.record(_identity_finding(who, Mode.ENFORCE), who.caller, None)
            raise refusal(
                grpc.StatusCode.UNAUTHENTICATED,
                who.reason,
                f"{who.message} (decision {decision_id})",
                metadata=_metadata(policy, "identity", who.caller or "", decision_id),
            )
        prepare(call, who.caller)
        request = facts(call.spec, call.request)
        if who.audit is not None:
            audit.record(_identity_finding(who.audit, Mode.AUDIT), who.audit.caller, request)
        rules = policy.rules_for(who.caller)
        evaluation = evaluate(rules, request)
        for finding in evaluation.audited:
            audit.record(finding, who.caller, request)
        denial = evaluation.denial
        if denial is not None:
            raise _denied(policy, denial, who, audit.record(denial, who.caller, request))
        if not evaluation.caps or request.amount is None:
            _allowed(audit)
            return ALLOWED
        lease_ends = time.monotonic() + self._lease
        held = await self._reserve(call, policy, who, evaluation.caps, request, audit)
        _allowed(audit)
        if not held:
            return ALLOWED
        # The call ends (its attempts cancelled, its outcome settled) before the lease does, so
        # a lease only ever frees the reservations of a process that is gone.
        limit = lease_ends - lease_margin(self._lease)
        call.deadline = limit if call.deadline is None else min(call.deadline, limit)
        return _SpendDecision(self._spend, held, call, lease_ends)

    async def _reserve(
        self,
        call: Call,
        policy: PolicySnapshot,
        who: Identified,
        caps: tuple[SpendCap, ...],
        request: Facts,
        audit: _Audit,
    ) -> list[_Held]:
        assert request.amount is not None
        amount: Decimal = request.amount
        held: list[_Held] = []
        # A transfer's reservation is named after its spend_id: a retry of the same transfer
        # (which the upstream performs at most once) finds the first reservation instead of
        # counting the money twice.
        spend_id = call.spend_id
        owner = uuid.uuid4().hex
        prefix = f"spend_id:{spend_id}" if spend_id else owner
        now = self._clock()
        for cap in caps:
            bucket = bucket_for(self._namespace, who.caller, cap, now)
            rid = f"{prefix}:{cap.index}"
            if self._spend is None:
                raise RuntimeError("spend caps without a spend store")  # prevented at load
            try:
                result = await self._spend.reserve(
                    bucket,
                    rid,
                    amount,
                    cap.max,
                    force=cap.mode is Mode.AUDIT,
                    owner=owner,
                    lease=self._lease,
                )
            except StoreUnavailable as exc:
                # The script may have run and only its answer been lost (a timeout): free what
                # this call may have reserved, and only that.
                await _release_all(self._spend, [_Held(cap, bucket, rid, owner, owned=True)])
                if cap.fail_open:
                    log.warning(
                        "spend store unreachable; the cap lets the call through uncounted "
                        "(on_store_error: allow)",
                        extra={"caller": who.caller, "rule": cap.rule, "error": str(exc)},
                    )
                    continue
                await _release_all(self._spend, held)
                log.error(
                    "spend store unreachable; spend cap fails closed",
                    extra={"caller": who.caller, "rule": cap.rule, "error": str(exc)},
                )
                raise refusal(
                    grpc.StatusCode.UNAVAILABLE,
                    STORE_UNAVAILABLE,
                    f"{call.spec.rpc}: the spend cap {cap.rule} of caller {who.caller!r} cannot "
                    "be checked because its store (Redis) is unreachable, so the call is refused "
                    "(spend caps fail closed); retry later",
                    retry_after=1.0,
                    metadata=_metadata(policy, cap.rule, who.caller, ""),
                ) from None
            if result.status is Status.DENIED:
                await _release_all(self._spend, held)
                finding = cap_finding(cap, who.caller, call.spec.rpc, amount, result.total)
                raise _denied(policy, finding, who, audit.record(finding, who.caller, request))
            if result.status is Status.FORCED:
                before = EXACT.subtract(result.total, amount)
                audit.record(
                    cap_finding(cap, who.caller, call.spec.rpc, amount, before),
                    who.caller,
                    request,
                )
            held.append(_Held(cap, bucket, rid, owner, owned=result.status is not Status.DUPLICATE))
        return held


class _SpendDecision:
    def __init__(
        self, store: SpendStore | None, held: list[_Held], call: Call, lease_ends: float
    ) -> None:
        self._store = store
        self._held = held
        self._call = call
        self._lease_ends = lease_ends  # time.monotonic()

    async def settle(self, outcome: Outcome | None) -> None:
        # Shielded: a cancelled call must still commit or release what it reserved.
        await asyncio.shield(self._settle(None if outcome is None else outcome.delivery))

    async def _settle(self, final: Delivery | None) -> None:
        store = self._store
        assert store is not None
        action = settlement(self._call.attempts, self._call.deliveries, final)
        for h in self._held:
            extra = {
                "caller": self._call.caller,
                "rule": h.cap.rule,
                "reservation_id": h.reservation_id,
                "bucket": h.bucket.key,
            }
            if action is Settlement.KEEP:
                if not h.owned:
                    continue  # a retry never settles what the first call reserved
                # The money may be gone: it counts as spent until the window passes.
                log.warning("outcome unknown: spend reservation counted as spent", extra=extra)
            try:
                if action is Settlement.RELEASE:
                    if h.owned:
                        await _persist(
                            partial(store.release, h.bucket, h.reservation_id, owner=h.owner)
                        )
                    continue
                done = await _persist(partial(store.commit, h.bucket, h.reservation_id))
                if not done and h.owned:
                    log.warning("spend reservation to commit was not found", extra=extra)
            except StoreUnavailable as exc:
                if action is Settlement.RELEASE:
                    # It stays counted until its lease ends: safe, if pessimistic.
                    log.error(
                        "spend store unreachable; a reservation to release stays counted "
                        "until its lease ends",
                        extra={**extra, "error": str(exc)},
                    )
                    continue
                # Unrecorded, the lease would free money that moved: keep trying until it ends.
                log.error(
                    "spend store unreachable; the commit is tried again until the lease ends",
                    extra={**extra, "error": str(exc)},
                )
                _later(_commit_until(store, h, self._lease_ends, extra))


async def _persist(operation: Callable[[], Awaitable[bool]]) -> bool:
    """Commits and releases are idempotent: try again after a brief store hiccup, so a timeout
    does not leave a reservation counted until its window passes."""
    for delay in SETTLE_RETRY_DELAYS:
        try:
            return await operation()
        except StoreUnavailable:
            await asyncio.sleep(delay)
    return await operation()


_pending: set[asyncio.Task[None]] = set()  # held so the loop does not collect them mid-flight


def _later(work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _commit_until(
    store: SpendStore, h: _Held, lease_ends: float, extra: dict[str, str]
) -> None:
    while time.monotonic() < lease_ends:
        await asyncio.sleep(min(COMMIT_RETRY_INTERVAL, max(0.0, lease_ends - time.monotonic())))
        try:
            await store.commit(h.bucket, h.reservation_id)
        except StoreUnavailable:
            continue
        log.info("spend reservation committed after the store came back", extra=extra)
        return
    log.error(
        "spend store unreachable for the whole lease: a reservation whose money moved was "
        "freed, and the cap undercounts it",
        extra=extra,
    )


async def _release_all(store: SpendStore, held: list[_Held]) -> None:
    for h in held:
        if not h.owned:
            continue
        try:
            await _persist(partial(store.release, h.bucket, h.reservation_id, owner=h.owner))
        except StoreUnavailable:
            log.error(
                "spend store unreachable; a reservation stays until it expires",
                extra={"reservation_id": h.reservation_id, "bucket": h.bucket.key},
            )


class _Audit:
    """Logs denials and would-be denials of one call under one decision id."""

    def __init__(self, call: Call, policy: PolicySnapshot) -> None:
        self._call = call
        self._policy = policy
        self.decision_id: str | None = None

    def record(self, finding: Finding, caller: str | None, request: Facts | None) -> str:
        if self.decision_id is None:
            self.decision_id = uuid.uuid4().hex[:20]
            self._call.trailing.append((DECISION_TRAILER, self.decision_id))
        enforced = finding.mode is Mode.ENFORCE
        mode: metrics.PolicyMode = "enforce" if enforced else "audit"
        result: metrics.PolicyResult = "deny" if enforced else "would_deny"
        metrics.policy_decision(finding.rule, mode, result)
        tracing.policy_decided(finding.rule, mode, result)
        extra: dict[str, object] = {
            "decision_id": self.decision_id,
            "decision": "deny" if enforced else "audit",
            "rpc": self._call.spec.rpc,
            "caller": caller or "",
            "rule": finding.rule,
            "mode": finding.mode.value,
            "reason": finding.message,
            "policy_hash": self._policy.short_hash,
        }
        if self._call.peer is not None:
            extra["peer"] = self._call.peer.describe()
        if request is not None and request.amount is not None:
            extra["amount"] = plain(request.amount)
            extra["asset"] = request.amount_code
        decisions.log(
            logging.WARNING if enforced else logging.INFO,
            "policy denied the call" if enforced else "policy would deny the call (audit mode)",
            extra=extra,
        )
        return self.decision_id


ALLOW_RULE = "*"  # allowed calls are counted under this rule name


def _allowed(audit: _Audit | None) -> None:
    metrics.policy_decision(ALLOW_RULE, "enforce", "allow")
    if audit is None or audit.decision_id is None:  # a would-be denial says more on the span
        tracing.policy_decided(ALLOW_RULE, "enforce", "allow")


def _identity_finding(refused: Refusal, mode: Mode) -> Finding:
    return Finding("identity", mode, refused.message)


def _metadata(policy: PolicySnapshot, rule: str, caller: str, decision_id: str) -> dict[str, str]:
    out = {"rule": rule, "caller": caller, "policy": policy.short_hash}
    if decision_id:
        out["decision_id"] = decision_id
    return out


def _denied(
    policy: PolicySnapshot, finding: Finding, who: Identified, decision_id: str
) -> RpcError:
    return refusal(
        grpc.StatusCode.PERMISSION_DENIED,
        DENIED,
        f"denied by policy rule {finding.rule}: {finding.message} (decision {decision_id}; "
        f"policy {policy.short_hash} from {policy.source})",
        metadata=_metadata(policy, finding.rule, who.caller, decision_id),
    )
