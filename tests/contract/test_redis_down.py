"""Redis stopped: every operation of every Redis store raises StoreUnavailable, and nothing else,
naming the error's type without the server's address; the few best-effort operations answer.

The steps decide what an unavailable store means for a call (serve uncached, refuse, fall
back), so a store must never let the client's own errors through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from sidecar.cache.redis import RedisStore
from sidecar.cache.store import Entry, Lease
from sidecar.idempotency.redis import RedisIdempotencyStore
from sidecar.ratelimit.backend import Pause, Request
from sidecar.ratelimit.redis import RedisBackend
from sidecar.redis_connection import Redis
from sidecar.retry.budget import RedisRetryBudget
from sidecar.retry.settings import BudgetRule
from sidecar.secrets import Secret
from sidecar.spend.redis import RedisSpendStore
from sidecar.spend.store import Bucket
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry.links import RedisTraceContextStore
from sidecar.webhooks.events import ZERO, EventId, EventRecord
from sidecar.webhooks.redis_streams import RedisEventLog
from tests.conftest import RedisServer
from tests.contract.test_ratelimit_backend import bucket

Operation = Callable[[], Awaitable[object]]
UNAVAILABLE = "StoreUnavailable"
ANSWERED = "answered"

RECORD = EventRecord(
    update_type="invoice_paid",
    update_id=1,
    invoice_id=1,
    asset="USDT",
    received_at_ms=1_700_000_000_000,
    body=b'{"n":1}',
    signature="ab" * 32,
)
SPEND = Bucket("1:caller:USDT:rolling_24h", 86_400_000, 90_000_000)
RULE = BudgetRule(ratio=0.2, min_per_second=0.5, window=10)
EVENT = EventId(1, 0)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def outcome(operation: Operation, server: RedisServer) -> str:
    try:
        await operation()
    except StoreUnavailable as exc:
        message = str(exc)
        assert message.startswith("redis: "), message
        assert str(server.port) not in message and "127.0.0.1" not in message, message
        return UNAVAILABLE
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return ANSWERED


async def test_every_redis_store_says_store_unavailable(
    redis_client: Redis, redis_server: RedisServer
) -> None:
    cache = RedisStore(redis_client, owns_client=False)
    spend = RedisSpendStore(redis_client)
    idempotency = RedisIdempotencyStore(redis_client, "1@api.example")
    budget = RedisRetryBudget(redis_client, "down")
    trace_links = RedisTraceContextStore(redis_client)
    limits = RedisBackend(redis_client)
    log = RedisEventLog(Secret(redis_server.url), "test:down", 100, block_seconds=0.2)
    app = bucket("app")
    lease = Lease("token", 0.0)
    operations: dict[str, tuple[Operation, str]] = {
        "cache.get": (lambda: cache.get("k"), UNAVAILABLE),
        "cache.acquire": (lambda: cache.acquire("k", None, 1.0), UNAVAILABLE),
        "cache.put": (lambda: cache.put("k", Entry(b"x", 0.0), 60, lease), UNAVAILABLE),
        "cache.release": (lambda: cache.release("k", lease), UNAVAILABLE),
        "cache.now": (cache.now, UNAVAILABLE),
        "cache.flush": (lambda: cache.flush("test:cache"), UNAVAILABLE),
        # A waiter stops waiting: its next store call finds out.
        "cache.wait": (lambda: cache.wait("k", None, 5.0), ANSWERED),
        "spend.reserve": (
            lambda: spend.reserve(SPEND, "r", Decimal(1), Decimal(2), force=False),
            UNAVAILABLE,
        ),
        "spend.commit": (lambda: spend.commit(SPEND, "r"), UNAVAILABLE),
        "spend.release": (lambda: spend.release(SPEND, "r"), UNAVAILABLE),
        "spend.total": (lambda: spend.total(SPEND), UNAVAILABLE),
        "idempotency.claim": (lambda: idempotency.claim("k", "fp", "a", 60, 600), UNAVAILABLE),
        "idempotency.take_over": (lambda: idempotency.take_over("k", "a", "b", 60), UNAVAILABLE),
        "idempotency.complete": (lambda: idempotency.complete("k", "a", b"x", 600), UNAVAILABLE),
        "idempotency.release": (lambda: idempotency.release("k", "a"), UNAVAILABLE),
        # The retry budget falls back to this replica's own budget.
        "budget.note_request": (lambda: budget.note_request(RULE), ANSWERED),
        "budget.try_spend": (lambda: budget.try_spend(RULE), ANSWERED),
        "trace_links.put": (lambda: trace_links.put(1, TRACEPARENT), UNAVAILABLE),
        "trace_links.get": (lambda: trace_links.get(1), UNAVAILABLE),
        "ratelimit.decide": (lambda: limits.decide(Request("s", (app,), 1, 0.0, 5.0)), UNAVAILABLE),
        "ratelimit.cooldown": (lambda: limits.cooldown(Pause("s", 1.0, app, 5.0)), UNAVAILABLE),
        "log.append": (lambda: log.append(RECORD, "invoice_paid:1", 60_000), UNAVAILABLE),
        "log.read_after": (lambda: log.read_after(ZERO, 10), UNAVAILABLE),
        "log.horizon": (log.horizon, UNAVAILABLE),
        "log.last_id": (log.last_id, UNAVAILABLE),
        "log.wait_after": (lambda: log.wait_after(ZERO, 0.1, 10), UNAVAILABLE),
        "log.create_group": (lambda: log.create_group("g", ZERO), UNAVAILABLE),
        "log.read_group": (lambda: log.read_group("g", "a", 10), UNAVAILABLE),
        "log.claim_expired": (lambda: log.claim_expired("g", "a", 0, 10), UNAVAILABLE),
        "log.pending": (lambda: log.pending("g", "a", 10), UNAVAILABLE),
        "log.ack": (lambda: log.ack("g", [EVENT]), UNAVAILABLE),
        "log.release": (lambda: log.release("g", [EVENT]), UNAVAILABLE),
        # Best effort: an idle member with nothing pending costs nothing.
        "log.remove_consumer": (lambda: log.remove_consumer("g", "a"), ANSWERED),
        "log.track": (lambda: log.track([1]), UNAVAILABLE),
        "log.tracked": (lambda: log.tracked(10), UNAVAILABLE),
        "log.untrack": (lambda: log.untrack([1]), UNAVAILABLE),
        "log.try_lock": (lambda: log.try_lock("sweep", 1000), UNAVAILABLE),
        "log.hold_lease": (lambda: log.hold_lease("relay", "a", 1000), UNAVAILABLE),
        "log.drop_lease": (lambda: log.drop_lease("relay", "a"), UNAVAILABLE),
    }
    try:
        # Every store answers first, so the clients hold pooled connections that stopping
        # Redis leaves dead, as in production.
        assert (await cache.get("k")).entry is None
        assert await spend.total(SPEND) == 0
        assert await log.last_id() == ZERO
        redis_server.stop()
        seen = {name: await outcome(op, redis_server) for name, (op, _) in operations.items()}
        assert seen == {name: expected for name, (_, expected) in operations.items()}
    finally:
        for store in (log, limits, trace_links, budget, idempotency, spend, cache):
            await store.close()
