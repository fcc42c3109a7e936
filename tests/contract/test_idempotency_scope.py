"""Idempotency records in Redis belong to one app: apps sharing a Redis never answer each
other's keys, and records written before keys carried the app are honoured until they expire."""

from __future__ import annotations

import pytest
from redis.typing import EncodableT, FieldT

from sidecar.idempotency.redis import PREFIX, RedisIdempotencyStore
from sidecar.idempotency.store import ClaimState
from sidecar.redis_connection import Redis
from sidecar.secrets import Secret
from sidecar.stores import AppScope

DAY = 86400.0


async def test_two_apps_on_one_redis_have_separate_records(redis_client: Redis) -> None:
    shop = RedisIdempotencyStore(redis_client, "111@pay.crypt.bot")
    games = RedisIdempotencyStore(redis_client, "222@pay.crypt.bot")
    assert (await shop.claim("k", "fp-shop", "a", 60, DAY)).state is ClaimState.CLAIMED
    assert await shop.complete("k", "a", b"shop's invoice", DAY)
    # The same caller, RPC and key in another app is a new request, not shop's replay.
    assert (await games.claim("k", "fp-games", "b", 60, DAY)).state is ClaimState.CLAIMED
    replay = await shop.claim("k", "fp-shop", "c", 60, DAY)
    assert (replay.state, replay.payload) == (ClaimState.DONE, b"shop's invoice")


async def _legacy_record(client: Redis, key: str, **fields: str | int | bytes) -> str:
    name = f"{PREFIX}:{{{key}}}"
    record: dict[FieldT, EncodableT] = {field: value for field, value in fields.items()}
    await client.hset(name, mapping=record)
    await client.pexpire(name, 60_000)
    return name


async def test_a_completed_record_from_before_scoping_is_replayed(redis_client: Redis) -> None:
    await _legacy_record(redis_client, "old", state="done", fp="fp", owner="x", payload=b"answer")
    store = RedisIdempotencyStore(redis_client, "111@pay.crypt.bot")
    done = await store.claim("old", "fp", "a", 60, DAY)
    assert (done.state, done.fingerprint, done.payload) == (ClaimState.DONE, "fp", b"answer")


async def test_an_unscoped_call_in_flight_is_waited_for(redis_client: Redis) -> None:
    # A replica of the previous version is still sending this request.
    now_ms = int((await redis_client.time())[0]) * 1000
    await _legacy_record(
        redis_client, "busy", state="flight", fp="fp", owner="old", lease=now_ms + 60_000
    )
    store = RedisIdempotencyStore(redis_client, "111@pay.crypt.bot")
    seen = await store.claim("busy", "fp", "a", 60, DAY)
    assert (seen.state, seen.owner) == (ClaimState.IN_FLIGHT, "old")


async def test_a_stale_unscoped_call_is_taken_over_under_the_scoped_key(
    redis_client: Redis,
) -> None:
    legacy = await _legacy_record(
        redis_client, "dead", state="flight", fp="fp", owner="old", lease=0
    )
    store = RedisIdempotencyStore(redis_client, "111@pay.crypt.bot")
    stale = await store.claim("dead", "fp", "a", 60, DAY)
    assert (stale.state, stale.owner) == (ClaimState.STALE, "old")
    assert await store.take_over("dead", "old", "a", 60)
    assert not await redis_client.exists(legacy)
    assert await store.complete("dead", "a", b"settled", DAY)
    replay = await store.claim("dead", "fp", "b", 60, DAY)
    assert (replay.state, replay.payload) == (ClaimState.DONE, b"settled")


async def test_a_take_over_never_moves_a_live_unscoped_call(redis_client: Redis) -> None:
    now_ms = int((await redis_client.time())[0]) * 1000
    legacy = await _legacy_record(
        redis_client, "live", state="flight", fp="fp", owner="old", lease=now_ms + 60_000
    )
    store = RedisIdempotencyStore(redis_client, "111@pay.crypt.bot")
    assert not await store.take_over("live", "old", "a", 60)
    assert await redis_client.exists(legacy)


def test_the_scope_is_the_app_at_its_upstream_without_the_secret() -> None:
    scope = AppScope(Secret("1234:AAsecretpart"), "https://testnet-pay.crypt.bot/api")
    assert scope.name == "1234@testnet-pay.crypt.bot"
    with pytest.raises(ValueError, match="without braces"):
        RedisIdempotencyStore(None, "{x}")  # type: ignore[arg-type]
