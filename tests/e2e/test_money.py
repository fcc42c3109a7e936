"""The money test: two sidecar processes share one Redis, the emulator fails 20 % of requests in
every way (including performing the operation and then failing), and a client retries every
Transfer and CreateCheck until it gets a definite answer, sometimes through the other sidecar.
Afterwards the emulator's ledger must hold exactly one transfer per key, at most one check per
key, and balances that add up."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from bench.sidecar_process import SidecarProcess, stop_all
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.idempotency.fingerprint import derive_spend_id
from tests.conftest import EmulatorControl, RedisServer
from tests.helpers import rich_details

TRANSFERS = 2000
CHECKS = 500
CONCURRENCY = 64
TRANSFER_AMOUNT = Decimal("1.5")
START = Decimal("100000")
MAX_TRIES = 60

# Each rule fires on ~3.1 % of requests: together ~20 % of all requests (lookups included).
FAULTS: list[dict[str, Any]] = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 429},
    {"kind": "drop"},
    {"kind": "latency", "latency_ms": 1500},  # beyond the attempt timeout; performed later
    {"kind": "commit_then_fail", "then": "status", "status": 500},
    {"kind": "commit_then_fail", "then": "drop"},
]
PROBABILITY = 0.031

# Answers that say "try again" rather than what happened.
TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
}


@dataclass
class Answer:
    key: str
    ok: Any = None
    reason: str | None = None
    tries: int = 0


def start(upstream: str, redis_url: str, token: str, log: Path) -> SidecarProcess:
    return SidecarProcess(
        http_listen="off",
        upstream=upstream,
        redis_url=redis_url,
        request_timeout=0.5,
        log_level="warning",
        env={"CRYPTOPAY_API_TOKEN": token, "PATH": "/usr/bin:/bin"},
        inherit_env=False,
        log=log,
    )


async def until_definite(
    stubs: list[Any],
    rpc: str,
    request: Any,
    key: str,
    rng: random.Random,
) -> Answer:
    answer = Answer(key)
    while answer.tries < MAX_TRIES:
        answer.tries += 1
        stub = rng.choice(stubs)  # any replica, a different one now and then
        # Now and then a deadline so short that the call is cut off mid-attempt.
        timeout = 0.3 if rng.random() < 0.1 else 5.0
        try:
            answer.ok = await getattr(stub, rpc)(
                request, metadata=(("idempotency-key", key),), timeout=timeout
            )
            return answer
        except grpc.aio.AioRpcError as error:
            details = rich_details(error)
            reason = details["ErrorInfo"].reason if "ErrorInfo" in details else None
            if error.code() not in TRANSIENT or reason == "OUTCOME_UNKNOWN":
                answer.reason = reason
                return answer
            if "RetryInfo" in details:
                delay = details["RetryInfo"].retry_delay
                # A well-behaved client waits as asked: that is the client this models.
                await asyncio.sleep(min(delay.seconds + delay.nanos / 1e9, 1.0))
    raise AssertionError(f"{rpc} {key}: no definite answer after {MAX_TRIES} tries")


@pytest.mark.timeout(300)
async def test_no_key_ever_pays_twice(
    emulator: RunningEmulator,
    control: EmulatorControl,
    redis_server: RedisServer,
    token: str,
    tmp_path: Path,
) -> None:
    await control.request("PUT", "balances", token, {"USDT": {"available": str(START)}})
    procs = [
        start(emulator.base_url, redis_server.url, token, tmp_path / f"sidecar{i}.log")
        for i in range(2)
    ]
    channels = [grpc.aio.insecure_channel(proc.target) for proc in procs]
    try:
        for proc in procs:
            await asyncio.to_thread(proc.wait_serving)
        for seed, rule in enumerate(FAULTS):
            await control.fault(token, method="*", probability=PROBABILITY, seed=seed, **rule)

        stubs = [pb_grpc.CryptoPayServiceStub(channel) for channel in channels]
        rng = random.Random(2024)
        gate = asyncio.Semaphore(CONCURRENCY)
        run = uuid.uuid4().hex[:8]

        async def transfer(i: int) -> Answer:
            request = pb.TransferRequest(
                user_id=1000 + i, asset="USDT", amount=str(TRANSFER_AMOUNT), comment=f"t{i}"
            )
            async with gate:
                return await until_definite(stubs, "Transfer", request, f"t-{run}-{i}", rng)

        async def check(i: int) -> Answer:
            # A distinct amount per key identifies each check in the ledger.
            request = pb.CreateCheckRequest(asset="USDT", amount=f"0.5{i:04d}")
            async with gate:
                return await until_definite(stubs, "CreateCheck", request, f"c-{run}-{i}", rng)

        jobs = [transfer(i) for i in range(TRANSFERS)] + [check(i) for i in range(CHECKS)]
        rng.shuffle(jobs)
        answers = await asyncio.gather(*jobs)
    finally:
        for channel in channels:
            await channel.close(None)
        stop_all(procs)

    transfer_answers = [a for a in answers if a.key.startswith("t-")]
    check_answers = [a for a in answers if a.key.startswith("c-")]
    faults = await control.request("GET", "faults", token)
    fired: Counter[str] = Counter()
    for f in faults:
        kind = f["kind"] + (f"/{f['then']}" if f["kind"] == "commit_then_fail" else "")
        fired[kind] += f["fired"]
    ledger = await control.ledger(token)

    # Every transfer got a definite answer, and it is a success.
    assert [a.key for a in transfer_answers if a.ok is None] == []
    by_spend_id = Counter(t["spend_id"] for t in ledger["transfers"])
    assert len(ledger["transfers"]) == TRANSFERS
    for a in transfer_answers:
        spend_id = derive_spend_id("default", a.key)
        assert by_spend_id[spend_id] == 1, a.key
        assert a.ok.transfer.spend_id == spend_id
    ledger_ids = {t["spend_id"]: t["transfer_id"] for t in ledger["transfers"]}
    assert all(
        ledger_ids[a.ok.transfer.spend_id] == a.ok.transfer.transfer_id for a in transfer_answers
    )

    # At most one check per key; every check answered OK is in the ledger.
    checks_by_amount = Counter(c["amount"] for c in ledger["checks"])
    assert max(checks_by_amount.values()) == 1
    ledger_checks = {c["check_id"]: c for c in ledger["checks"]}
    for a in check_answers:
        if a.ok is not None:
            assert ledger_checks[a.ok.check.check_id]["amount"] == a.ok.check.amount
        else:
            assert a.reason == "OUTCOME_UNKNOWN", a
    assert len(ledger["checks"]) <= CHECKS

    # Balances add up.
    usdt = next(b for b in ledger["balances"] if b["currency_code"] == "USDT")
    held = sum((Decimal(c["amount"]) for c in ledger["checks"]), Decimal(0))
    assert Decimal(usdt["onhold"]) == held
    assert Decimal(usdt["available"]) == START - TRANSFERS * TRANSFER_AMOUNT - held

    # The faults really happened, every kind of them.
    assert all(count > 0 for count in fired.values()), fired
    unknown = sum(1 for a in check_answers if a.reason == "OUTCOME_UNKNOWN")
    print(
        f"\nmoney test: faults fired {fired}; checks created {len(ledger['checks'])}, "
        f"OUTCOME_UNKNOWN {unknown}; client tries: transfers "
        f"{sum(a.tries for a in transfer_answers)}, checks {sum(a.tries for a in check_answers)}"
    )
