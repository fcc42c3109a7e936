"""The retry budget: retries may add at most a fraction of the requests plus a small floor.

An upstream outage then costs at most `ratio` extra load (plus the floor) instead of multiplying
it by the attempt count. Counts are kept in one-second buckets over a sliding window, in memory
(one replica) or in Redis (every replica sharing one upstream shares the budget).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from sidecar.redis_connection import Redis, translate_errors
from sidecar.retry.settings import BudgetRule
from sidecar.store_base import Clock, Store, StoreUnavailable

log = logging.getLogger(__name__)


def allows(requests: int, retries: int, rule: BudgetRule) -> bool:
    """May one more retry be spent, given this window's requests and retries so far? (pure)"""
    return retries < rule.ratio * requests + rule.floor


class RetryBudget(Store, Protocol):
    async def note_request(self, rule: BudgetRule) -> None:
        """Counts one new call (its first attempt)."""

    async def try_spend(self, rule: BudgetRule) -> bool:
        """Takes one retry from the budget; False when it is exhausted."""


class MemoryRetryBudget:
    """One replica's budget: one-second buckets of (requests, retries)."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[int, list[int]] = {}

    def _bucket(self, rule: BudgetRule) -> list[int]:
        now = math.floor(self._clock())
        oldest = now - math.ceil(rule.window) + 1
        for second in [s for s in self._buckets if s < oldest]:
            del self._buckets[second]
        return self._buckets.setdefault(now, [0, 0])

    def totals(self, rule: BudgetRule) -> tuple[int, int]:
        self._bucket(rule)
        return (
            sum(b[0] for b in self._buckets.values()),
            sum(b[1] for b in self._buckets.values()),
        )

    def add_requests(self, rule: BudgetRule, count: int) -> None:
        self._bucket(rule)[0] += count

    async def note_request(self, rule: BudgetRule) -> None:
        self.add_requests(rule, 1)

    async def try_spend(self, rule: BudgetRule) -> bool:
        requests, retries = self.totals(rule)
        if not allows(requests, retries, rule):
            return False
        self._bucket(rule)[1] += 1
        return True

    async def close(self) -> None:
        return None


# KEYS[1]: the budget hash (fields q:<second> requests, r:<second> retries).
# ARGV: window seconds, requests to add, 1 to take a retry, ratio, floor.
# Server clock, so replicas never disagree on the window.
_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
local window = tonumber(ARGV[1])
local requests, retries = 0, 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local second = tonumber(string.sub(all[i], 3))
  if second == nil or second <= now - window then
    redis.call('HDEL', KEYS[1], all[i])
  elseif string.sub(all[i], 1, 1) == 'q' then
    requests = requests + tonumber(all[i + 1])
  else
    retries = retries + tonumber(all[i + 1])
  end
end
local add = tonumber(ARGV[2])
if add > 0 then
  redis.call('HINCRBY', KEYS[1], 'q:' .. now, add)
  requests = requests + add
end
local allowed = 0
if ARGV[3] == '1' and retries < tonumber(ARGV[4]) * requests + tonumber(ARGV[5]) then
  redis.call('HINCRBY', KEYS[1], 'r:' .. now, 1)
  allowed = 1
end
redis.call('EXPIRE', KEYS[1], window + 1)
return allowed
"""


class RedisRetryBudget:
    """The budget shared by every replica through one Redis hash.

    Requests are counted locally and flushed at most once a second (or with the next retry), so
    the common path costs no Redis round trip. If Redis fails, the replica falls back to its own
    in-memory budget: retries are a safety valve, not worth failing calls for.
    """

    FLUSH_INTERVAL = 1.0

    def __init__(
        self,
        client: Redis,
        scope: str = "default",
        *,
        prefix: str = "cryptopay-sidecar",
        clock: Clock = time.monotonic,
    ) -> None:
        self._script = client.register_script(_SCRIPT)
        self._key = f"{prefix}:retry-budget:{{{scope}}}"
        self._clock = clock
        self._pending = 0
        self._last_flush = clock()
        self._fallback = MemoryRetryBudget(clock=clock)
        self._failing = False

    async def _run(self, rule: BudgetRule, take: bool) -> bool:
        pending, self._pending = self._pending, 0
        self._last_flush = self._clock()
        try:
            with translate_errors():
                allowed = await self._script(
                    keys=[self._key],
                    args=[
                        max(1, math.ceil(rule.window)),
                        pending,
                        1 if take else 0,
                        repr(rule.ratio),
                        repr(rule.floor),
                    ],
                )
        except StoreUnavailable as exc:
            if not self._failing:
                log.warning(
                    "retry budget: Redis unavailable, using this replica's own budget",
                    extra={"error": str(exc)},
                )
                self._failing = True
            self._fallback.add_requests(rule, pending)
            return await self._fallback.try_spend(rule) if take else True
        self._failing = False
        return bool(allowed)

    async def note_request(self, rule: BudgetRule) -> None:
        self._pending += 1
        if self._clock() - self._last_flush >= self.FLUSH_INTERVAL:
            await self._run(rule, take=False)

    async def try_spend(self, rule: BudgetRule) -> bool:
        return await self._run(rule, take=True)

    async def close(self) -> None:
        """The client belongs to the process (other stores share it); its owner closes it."""
