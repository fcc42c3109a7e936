"""The wiring, checked without a port: `assemble(settings)` builds every part and opens
nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sidecar.assembly import Assembly, assemble
from sidecar.cache.step import CacheStep
from sidecar.config import ConfigError, Settings
from sidecar.idempotency.step import IdempotencyStep
from sidecar.policy.step import PolicyStep
from sidecar.retry.retrier import Retrier
from sidecar.secrets import Secret
from tests.helpers import free_port


def settings(**overrides: object) -> Settings:
    return Settings(upstream_url="http://127.0.0.1:9", token=Secret("4242:secret"), **overrides)  # type: ignore[arg-type]


async def closed(parts: Assembly) -> None:
    await parts.webhooks.close()
    await parts.stores.close()


@pytest.fixture
async def parts() -> AsyncIterator[Assembly]:
    built = assemble(settings())
    yield built
    await closed(built)


async def test_the_chain_is_the_configured_steps_in_order(parts: Assembly) -> None:
    steps = parts.pipeline.steps
    assert [type(step) for step in steps] == [PolicyStep, CacheStep, IdempotencyStep, Retrier]
    assert steps[0] is parts.policy_step
    assert steps[1] is parts.cache


async def test_every_sender_shares_the_one_rate_limited_upstream(parts: Assembly) -> None:
    # The calls' attempts, the retrier's lookups: one Attempts, wrapped once by the limiter.
    assert parts.pipeline.attempts is parts.attempts
    retrier = parts.pipeline.steps[-1]
    assert isinstance(retrier, Retrier)
    assert retrier._lookup == parts.attempts.lookup


async def test_without_redis_every_store_is_in_memory(parts: Assembly) -> None:
    assert not parts.stores.shared
    assert parts.stores.redis is None
    assert parts.watcher is None  # no --policy: nothing to watch
    assert parts.policy.current.hash == assemble(settings()).policy.current.hash


async def test_with_redis_every_store_shares_one_client_and_no_secret_shows() -> None:
    port = free_port()  # nothing listens: assembling connects to nothing
    built = assemble(settings(redis_url=Secret(f"redis://:hunter2@127.0.0.1:{port}/0")))
    try:
        assert built.stores.shared
        assert built.stores.redis is not None
        assert f"127.0.0.1:{port}" in built.stores.describe()
        assert "hunter2" not in built.stores.describe()
    finally:
        await closed(built)


async def test_a_policy_file_is_watched(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nmode: enforce\n")
    built = assemble(settings(policy_path=str(policy)))
    try:
        assert built.watcher is not None
    finally:
        await closed(built)


def test_a_policy_with_errors_stops_assembly_with_its_position(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nmode: enforce\ndefaults:\n  rpcs:\n    allow: [Teleport]\n")
    with pytest.raises(ConfigError) as refused:
        assemble(settings(policy_path=str(policy)))
    message = str(refused.value)
    assert str(policy) in message
    assert "Teleport" in message
