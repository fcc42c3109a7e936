"""The policy step's settlement when the spend store fails at the wrong moment: a commit that
Redis refused is tried again until the lease ends, so money that moved is never freed by it."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sidecar.errors import RpcError
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.methods import BY_RPC
from sidecar.outcome import Delivery, Outcome
from sidecar.pipeline import Call, new_call
from sidecar.policy import step
from sidecar.policy.reload import PolicyHolder, load
from sidecar.spend.memory import MemorySpendStore
from sidecar.spend.store import Bucket, Reservation, SpendStore
from sidecar.store_base import StoreUnavailable
from tests.helpers import eventually

POLICY = """
version: 1
defaults:
  spend_caps:
    - {asset: USDT, max: "10", window: rolling_24h}
"""


class Unreachable:
    """The memory store behind a link that refuses the first `failures` commits."""

    def __init__(self, inner: SpendStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    async def reserve(
        self,
        bucket: Bucket,
        reservation_id: str,
        amount: Decimal,
        cap: Decimal,
        *,
        force: bool,
        owner: str = "",
        lease: float = 0.0,
    ) -> Reservation:
        return await self.inner.reserve(
            bucket, reservation_id, amount, cap, force=force, owner=owner, lease=lease
        )

    async def commit(self, bucket: Bucket, reservation_id: str) -> bool:
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailable("Redis: TimeoutError")
        return await self.inner.commit(bucket, reservation_id)

    async def release(self, bucket: Bucket, reservation_id: str, *, owner: str = "") -> bool:
        return await self.inner.release(bucket, reservation_id, owner=owner)

    async def total(self, bucket: Bucket) -> Decimal:
        return await self.inner.total(bucket)

    async def close(self) -> None:
        await self.inner.close()


async def transfer_through(policy_step: step.PolicyStep, amount: str) -> None:
    call = new_call(
        BY_RPC["Transfer"],
        pb.TransferRequest(user_id=1, asset="USDT", amount=amount, spend_id="s-" + amount),
        {},
    )

    async def performed(call: Call) -> Outcome:
        call.attempts += 1
        call.deliveries.append(Delivery.DONE)
        return Outcome(Delivery.DONE, response=pb.TransferResponse())

    await policy_step.run(call, performed)


@pytest.fixture
def holder(tmp_path: Path) -> PolicyHolder:
    (tmp_path / "policy.yaml").write_text(POLICY)
    snapshot = load(tmp_path / "policy.yaml").snapshot
    assert snapshot is not None
    return PolicyHolder(snapshot)


async def test_a_refused_commit_is_retried_and_outlives_the_lease(
    holder: PolicyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(step, "SETTLE_RETRY_DELAYS", (0.01,))
    monkeypatch.setattr(step, "COMMIT_RETRY_INTERVAL", 0.1)
    memory = MemorySpendStore()
    flaky = Unreachable(memory, failures=5)  # two in the call, three more in the background
    policy_step = step.PolicyStep(holder, flaky, "app", lease=1.0)
    reserved = time.monotonic()
    await transfer_through(policy_step, "6")
    assert flaky.failures == 3
    await eventually(lambda: flaky.failures == 0, "the commit to get through", within=1.3)
    assert time.monotonic() - reserved < 1.0  # before the lease ended
    # What is tested is that the spend outlives the lease: wait until it is over.
    await asyncio.sleep(max(0.0, reserved + 1.3 - time.monotonic()))
    with pytest.raises(RpcError, match="denied by policy rule spend_caps"):
        await transfer_through(policy_step, "4.01")


async def test_a_store_gone_for_the_whole_lease_is_reported(
    holder: PolicyHolder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(step, "SETTLE_RETRY_DELAYS", (0.01,))
    monkeypatch.setattr(step, "COMMIT_RETRY_INTERVAL", 0.1)
    flaky = Unreachable(MemorySpendStore(), failures=1000)
    policy_step = step.PolicyStep(holder, flaky, "app", lease=0.5)
    with caplog.at_level(logging.ERROR, logger="sidecar.policy.step"):
        await transfer_through(policy_step, "6")
        await eventually(
            lambda: any("for the whole lease" in r.getMessage() for r in caplog.records),
            "the report at the end of the lease",
            within=5,
        )
