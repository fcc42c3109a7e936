"""The retry and idempotency steps with explicit configuration, on the real request path
(Pipeline -> HTTP -> emulator) without gRPC: required keys, expiry, crashed replicas, cancelled
calls, the retry budget, deadlines, policy snapshots and an unreachable store."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from sidecar.emulator.runner import RunningEmulator
from sidecar.errors import RpcError
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.idempotency.fingerprint import fingerprint, record_key
from sidecar.idempotency.memory import MemoryIdempotencyStore
from sidecar.idempotency.redis import RedisIdempotencyStore
from sidecar.idempotency.settings import IdempotencyConfig
from sidecar.idempotency.step import IdempotencyStep
from sidecar.idempotency.store import IdempotencyStore
from sidecar.methods import BY_RPC
from sidecar.pipeline import Attempts, Call, Pipeline
from sidecar.redis_connection import connect
from sidecar.retry.budget import MemoryRetryBudget
from sidecar.retry.retrier import Retrier
from sidecar.retry.settings import BudgetRule, RetriesConfig, RetryRule
from sidecar.secrets import Secret
from sidecar.upstream import HttpUpstream, UpstreamSettings
from tests.conftest import EmulatorControl
from tests.helpers import eventually, free_port, snapshot

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def upstream(emulator: RunningEmulator, token: str) -> AsyncIterator[HttpUpstream]:
    up = HttpUpstream(UpstreamSettings(emulator.base_url, Secret(token), request_timeout=2.0))
    await up.start()
    yield up
    await up.close()


def assemble(
    upstream: HttpUpstream,
    *,
    retries: RetriesConfig | None = None,
    idempotency: IdempotencyConfig | None = None,
    store: IdempotencyStore | None = None,
) -> Pipeline:
    attempts = Attempts(upstream, request_timeout=2.0)
    retrier = Retrier(retries, MemoryRetryBudget(), lookup=attempts.lookup)
    return Pipeline(attempts, [IdempotencyStep(store, idempotency), retrier])


def make_call(
    rpc: str,
    request: Message,
    *,
    key: str | None = None,
    timeout: float | None = None,
    policy: Any = None,
) -> Call:
    return Call(
        spec=BY_RPC[rpc],
        request=request,
        metadata={"idempotency-key": key} if key else {},
        deadline=None if timeout is None else time.monotonic() + timeout,
        policy=policy,
    )


async def run(gateway: Pipeline, call: Call) -> Message | RpcError:
    try:
        return await gateway.handle(call)
    except RpcError as error:
        return error


CHECK = pb.CreateCheckRequest(asset="TON", amount="1")
TRANSFER = pb.TransferRequest(user_id=9, asset="TON", amount="1")


async def test_a_policy_can_require_keys(upstream: HttpUpstream, control: EmulatorControl,
                                         token: str) -> None:  # fmt: skip
    gateway = assemble(upstream, idempotency=IdempotencyConfig(require_key=frozenset({"Transfer"})))
    refused = await run(gateway, make_call("Transfer", pb.TransferRequest(
        user_id=9, asset="TON", amount="1", spend_id="s")))  # fmt: skip
    assert isinstance(refused, RpcError) and refused.code is grpc.StatusCode.INVALID_ARGUMENT
    assert refused.reason == "IDEMPOTENCY_KEY_REQUIRED" and "idempotency-key" in refused.message
    assert await control.api_requests(token) == 0
    assert isinstance(await run(gateway, make_call("Transfer", TRANSFER, key="k")), Message)
    # Reads never need one.
    assert isinstance(await run(gateway, make_call("GetMe", pb.GetMeRequest())), Message)


async def test_settings_come_from_the_calls_policy_snapshot(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    gateway = assemble(upstream)
    policy = snapshot({"idempotency": {"require_key": "mutating"}, "retries": {"max_attempts": 1}})
    refused = await run(gateway, make_call("CreateCheck", CHECK, policy=policy))
    assert isinstance(refused, RpcError) and refused.reason == "IDEMPOTENCY_KEY_REQUIRED"
    await control.fault(token, method="getMe", kind="status", status=503, count=5)
    call = make_call("GetMe", pb.GetMeRequest(), policy=policy)
    assert isinstance(await run(gateway, call), RpcError) and call.attempts == 1


async def test_a_completed_key_expires_after_its_ttl(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    clock = Clock()
    gateway = assemble(upstream, store=MemoryIdempotencyStore(clock=clock))
    first = await run(gateway, make_call("CreateCheck", CHECK, key="k"))
    clock.now += DAY - 1
    replay = make_call("CreateCheck", CHECK, key="k")
    assert await run(gateway, replay) == first and replay.trailing
    clock.now += 2  # past the 24 h default: the key is new again, as Stripe documents
    fresh = make_call("CreateCheck", CHECK, key="k")
    again = await run(gateway, fresh)
    assert isinstance(again, Message) and again != first and not fresh.trailing
    assert len((await control.ledger(token))["checks"]) == 2


async def crashed_replica(
    store: IdempotencyStore, clock: Clock, rpc: str, request: Message
) -> None:
    """Leaves the record a replica that died in the middle of the call would leave."""
    name = record_key("default", rpc, "k")
    await store.claim(name, fingerprint(BY_RPC[rpc], request), "dead", 10, DAY)
    clock.now += 11  # its lease ran out


async def test_a_create_abandoned_by_a_dead_replica_reads_as_unknown(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    clock = Clock()
    store = MemoryIdempotencyStore(clock=clock)
    gateway = assemble(upstream, store=store)
    await crashed_replica(store, clock, "CreateCheck", CHECK)
    for _ in range(2):  # settled once, then replayed
        error = await run(gateway, make_call("CreateCheck", CHECK, key="k"))
        assert isinstance(error, RpcError) and error.reason == "OUTCOME_UNKNOWN"
    assert await control.api_requests(token) == 0  # never a second create


async def test_a_transfer_abandoned_by_a_dead_replica_is_taken_over(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    clock = Clock()
    store = MemoryIdempotencyStore(clock=clock)
    gateway = assemble(upstream, store=store)
    await crashed_replica(store, clock, "Transfer", TRANSFER)
    done = await run(gateway, make_call("Transfer", TRANSFER, key="k"))
    assert isinstance(done, pb.TransferResponse) and done.transfer.transfer_id
    assert len((await control.ledger(token))["transfers"]) == 1


async def test_a_cancelled_create_keeps_an_unknown_outcome(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    gateway = assemble(upstream)
    await control.fault(token, method="createCheck", kind="latency", latency_ms=500, count=1)
    task = asyncio.ensure_future(gateway.handle(make_call("CreateCheck", CHECK, key="k")))
    await control.wait_requests(token)  # the create has been sent
    task.cancel()  # the caller went away
    with pytest.raises(asyncio.CancelledError):
        await task
    error = await run(gateway, make_call("CreateCheck", CHECK, key="k"))
    assert isinstance(error, RpcError) and error.reason == "OUTCOME_UNKNOWN"
    assert await control.api_requests(token) == 1


async def test_a_cancelled_transfer_releases_its_key(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    gateway = assemble(upstream)
    await control.fault(token, method="transfer", kind="latency", latency_ms=500, count=1)
    task = asyncio.ensure_future(gateway.handle(make_call("Transfer", TRANSFER, key="k")))
    await control.wait_requests(token)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The retry runs again with the same derived spend_id; the upstream deduplicates it.
    done = await run(gateway, make_call("Transfer", TRANSFER, key="k"))
    assert isinstance(done, pb.TransferResponse)

    async def both_answered() -> bool:  # the slow first request has landed too
        stats = await control.request("GET", "stats", token)
        return sum(int(n) for n in stats["by_status"].values()) == 2

    await eventually(both_answered, "the emulator to answer both requests", within=10)
    assert len((await control.ledger(token))["transfers"]) == 1


async def test_an_exhausted_budget_stops_retries(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    no_budget = RetriesConfig(budget=BudgetRule(ratio=0.0, min_per_second=0.0))
    gateway = assemble(upstream, retries=no_budget)
    await control.fault(token, method="getMe", kind="status", status=503, count=3)
    call = make_call("GetMe", pb.GetMeRequest())
    error = await run(gateway, call)
    assert isinstance(error, RpcError) and error.code is grpc.StatusCode.UNAVAILABLE
    assert call.attempts == 1


async def test_no_attempt_starts_that_cannot_finish_before_the_deadline(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    patient = RetriesConfig(
        default=RetryRule(max_attempts=10, backoff_base=0.2, backoff_cap=0.2, min_attempt_time=0.1)
    )
    gateway = assemble(upstream, retries=patient)
    await control.fault(token, method="getMe", kind="status", status=503, count=20)
    call = make_call("GetMe", pb.GetMeRequest(), timeout=0.6)
    error = await run(gateway, call)
    # The upstream's own answer, before the deadline, not a DEADLINE_EXCEEDED after it.
    assert isinstance(error, RpcError) and error.code is grpc.StatusCode.UNAVAILABLE
    assert 1 <= call.attempts < 10
    remaining = call.remaining()
    assert remaining is not None and remaining > 0


async def test_without_its_store_a_transfer_relies_on_spend_id_and_a_create_is_refused(
    upstream: HttpUpstream, control: EmulatorControl, token: str
) -> None:
    client = connect(Secret(f"redis://127.0.0.1:{free_port()}/0"))  # nothing listens
    try:
        gateway = assemble(upstream, store=RedisIdempotencyStore(client, "1@api.example"))
        key = str(uuid.uuid4())
        done = await run(gateway, make_call("Transfer", TRANSFER, key=key))
        assert isinstance(done, pb.TransferResponse)
        refused = await run(gateway, make_call("CreateCheck", CHECK, key=key))
        assert isinstance(refused, RpcError) and refused.code is grpc.StatusCode.UNAVAILABLE
        assert refused.reason == "IDEMPOTENCY_STORE_UNAVAILABLE"
        assert await control.api_requests(token) == 1  # the create never went upstream
    finally:
        await client.aclose()


async def test_a_retry_refused_as_spend_id_already_used_finds_the_transfer(
    token: str,
) -> None:
    """Against an upstream that answers a repeated spend_id with an error instead of the
    original transfer: the retry's refusal leads to the lookup, and the caller gets the transfer."""
    from sidecar.emulator.config import EmulatorConfig
    from sidecar.emulator.runner import start_emulator

    strict = await start_emulator(
        EmulatorConfig(duplicate_spend_id="error"), host="127.0.0.1", port=0
    )
    up = HttpUpstream(UpstreamSettings(strict.base_url, Secret(token), request_timeout=2.0))
    await up.start()
    try:
        faults = strict.context.faults
        # The transfer is performed but its answer lost, and the first lookup fails too.
        faults.add({"method": "transfer", "kind": "commit_then_fail", "then": "drop", "count": 1})
        faults.add({"method": "getTransfers", "kind": "status", "status": 500, "count": 1})
        call = make_call("Transfer", TRANSFER, key="k")
        done = await run(assemble(up), call)
        assert isinstance(done, pb.TransferResponse) and done.transfer.transfer_id
        assert call.attempts == 2 and ("cryptopay-reconciled", "true") in call.trailing
    finally:
        await up.close()
        await strict.stop()
