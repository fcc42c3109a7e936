"""The idempotency store contract, for the in-memory and the Redis store alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from sidecar.idempotency.memory import MemoryIdempotencyStore
from sidecar.idempotency.redis import RedisIdempotencyStore
from sidecar.idempotency.store import Claim, ClaimState, IdempotencyStore
from sidecar.redis_connection import Redis
from tests.contract.conftest import StoreTime
from tests.helpers import eventually

DAY = 86400.0


@pytest.fixture
def store(backend: Redis | None, store_time: StoreTime) -> IdempotencyStore:
    return (
        MemoryIdempotencyStore(clock=store_time)
        if backend is None
        else RedisIdempotencyStore(backend, "1@api.example")
    )


def seen_as(
    store: IdempotencyStore, key: str, state: ClaimState
) -> Callable[[], Awaitable[Claim | None]]:
    """A check for `eventually`: the claim another caller sees once `key` is `state`. It asks
    with a claim that cannot win while the record lives; winning means the record vanished."""

    async def check() -> Claim | None:
        claim = await store.claim(key, "fp", "poller", 60, DAY)
        assert claim.state is not ClaimState.CLAIMED, f"{key} vanished before it was {state}"
        return claim if claim.state is state else None

    return check


async def test_first_claim_wins_and_others_see_it_in_flight(store: IdempotencyStore) -> None:
    assert (await store.claim("k", "fp", "a", 60, DAY)).state is ClaimState.CLAIMED
    seen = await store.claim("k", "fp2", "b", 60, DAY)
    assert (seen.state, seen.fingerprint, seen.owner) == (ClaimState.IN_FLIGHT, "fp", "a")


async def test_a_claim_sent_again_by_its_owner_is_still_its_own(store: IdempotencyStore) -> None:
    # What a command replayed after a dropped connection looks like: owners are unique per call.
    assert (await store.claim("k", "fp", "a", 60, DAY)).state is ClaimState.CLAIMED
    assert (await store.claim("k", "fp", "a", 60, DAY)).state is ClaimState.CLAIMED
    assert (await store.claim("k", "fp", "b", 60, DAY)).state is ClaimState.IN_FLIGHT
    assert await store.complete("k", "a", b"answer", DAY)


async def test_a_take_over_sent_again_succeeds_once_more(
    store: IdempotencyStore, store_time: StoreTime
) -> None:
    await store.claim("k", "fp", "dead", 0.05, DAY)
    await store_time.advance(0.1)
    await eventually(seen_as(store, "k", ClaimState.STALE), "the lease to end")
    assert await store.take_over("k", "dead", "b", 60)
    assert await store.take_over("k", "dead", "b", 60)  # the same call, replayed
    assert not await store.take_over("k", "dead", "c", 60)


async def test_concurrent_claims_have_exactly_one_winner(store: IdempotencyStore) -> None:
    claims = await asyncio.gather(*(store.claim("k", "fp", f"o{i}", 60, DAY) for i in range(50)))
    assert sum(c.state is ClaimState.CLAIMED for c in claims) == 1


async def test_complete_stores_the_answer_for_replay(store: IdempotencyStore) -> None:
    await store.claim("k", "fp", "a", 60, DAY)
    payload = bytes(range(256))  # any bytes survive
    assert await store.complete("k", "a", payload, DAY)
    done = await store.claim("k", "fp", "b", 60, DAY)
    assert (done.state, done.fingerprint, done.payload) == (ClaimState.DONE, "fp", payload)
    # Completed once: neither another owner nor the same one can overwrite or release it.
    assert not await store.complete("k", "a", b"other", DAY)
    assert not await store.release("k", "a")


async def test_only_the_owner_completes_or_releases(store: IdempotencyStore) -> None:
    await store.claim("k", "fp", "a", 60, DAY)
    assert not await store.complete("k", "b", b"x", DAY)
    assert not await store.release("k", "b")
    assert await store.release("k", "a")
    assert (await store.claim("k", "fp", "c", 60, DAY)).state is ClaimState.CLAIMED


async def test_unknown_keys(store: IdempotencyStore) -> None:
    assert not await store.complete("nope", "a", b"x", DAY)
    assert not await store.release("nope", "a")
    assert not await store.take_over("nope", "a", "b", 60)


async def test_an_expired_lease_is_stale_and_can_be_taken_over_once(
    store: IdempotencyStore, store_time: StoreTime
) -> None:
    await store.claim("k", "fp", "dead", 0.1, DAY)
    assert not await store.take_over("k", "dead", "b", 60)  # lease still running
    await store_time.advance(0.15)
    stale = await eventually(seen_as(store, "k", ClaimState.STALE), "the lease to end")
    assert (stale.state, stale.owner) == (ClaimState.STALE, "dead")
    assert not await store.take_over("k", "someone-else", "b", 60)
    assert await store.take_over("k", "dead", "b", 60)
    assert not await store.take_over("k", "dead", "c", 60)  # already taken
    assert (await store.claim("k", "fp", "c", 60, DAY)).state is ClaimState.IN_FLIGHT
    assert await store.complete("k", "b", b"answer", DAY)


async def test_a_stale_record_can_be_completed_by_its_old_owner_name(
    store: IdempotencyStore, store_time: StoreTime
) -> None:
    # How a create abandoned by a dead replica is settled as OUTCOME_UNKNOWN.
    await store.claim("k", "fp", "dead", 0.05, DAY)
    await store_time.advance(0.1)
    await eventually(seen_as(store, "k", ClaimState.STALE), "the lease to end")
    assert await store.complete("k", "dead", b"unknown", DAY)
    assert (await store.claim("k", "fp", "x", 60, DAY)).payload == b"unknown"


async def test_completed_records_expire_after_their_ttl(
    store: IdempotencyStore, store_time: StoreTime
) -> None:
    await store.claim("k", "fp", "a", 60, DAY)
    await store.complete("k", "a", b"x", 0.2)
    assert (await store.claim("k", "fp", "b", 60, DAY)).state is ClaimState.DONE
    await store_time.advance(0.25)

    async def expired() -> Claim | None:
        claim = await store.claim("k", "fp", "b", 60, DAY)
        return None if claim.state is ClaimState.DONE else claim

    claim = await eventually(expired, "the record to expire")
    assert claim.state is ClaimState.CLAIMED  # a new request after expiry starts afresh
