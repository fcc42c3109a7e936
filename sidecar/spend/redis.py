"""Spend counters in Redis, shared by every replica: one Lua script does reserve, commit, release
and total atomically, with the server's clock.

Each bucket is three keys with one hash tag, so the script runs unchanged on Redis Cluster:

    cryptopay:spend:{<bucket>}:e   sorted set: reservation id -> reservation time (ms)
    cryptopay:spend:{<bucket>}:a   hash: reservation id -> "r:<units>:<owner>" (reserved) or
                                   "c:<units>:<owner>" (committed); "_total" -> the sum
    cryptopay:spend:{<bucket>}:l   sorted set: reservation id -> end of its lease (ms), for
                                   reservations not yet settled

A reservation whose lease ends unsettled was made by a process that died: any later operation but
a commit frees it. A commit never looks at leases: money that moved counts, however late.

Amounts are decimal strings of minor units (10^-18) added and compared digit-exactly in Lua:
Redis Lua numbers are doubles, exact only below 2^53, which is 0.009 of a unit at this scale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sidecar.redis_connection import Redis, translate_errors
from sidecar.spend.store import (
    Bucket,
    Reservation,
    Status,
    from_minor,
    lease_ms,
    to_minor,
)

PREFIX = "cryptopay:spend"
PURGE_LIMIT = 1000  # expired entries dropped per call; the rest on the next calls

SCRIPT = """
local function parse(v)
  return string.match(v, '^(%a):(%d+):?(%w*)$')
end
local function norm(a)
  a = string.gsub(a, '^0+', '')
  if a == '' then return '0' end
  return a
end
local function cmp(a, b)
  if #a ~= #b then if #a < #b then return -1 else return 1 end end
  if a == b then return 0 end
  if a < b then return -1 else return 1 end
end
-- Non-negative integers as decimal strings, in limbs of 7 digits (exact in doubles).
local function add(a, b)
  local out, carry, i, j = {}, 0, #a, #b
  while i > 0 or j > 0 or carry > 0 do
    local x, y = 0, 0
    if i > 0 then x = tonumber(string.sub(a, math.max(i - 6, 1), i)) end
    if j > 0 then y = tonumber(string.sub(b, math.max(j - 6, 1), j)) end
    local s = x + y + carry
    if s >= 10000000 then carry = 1; s = s - 10000000 else carry = 0 end
    table.insert(out, 1, string.format('%07d', s))
    i = i - 7; j = j - 7
  end
  return norm(table.concat(out))
end
local function sub(a, b)
  if cmp(a, b) <= 0 then return '0' end
  local out, borrow, i, j = {}, 0, #a, #b
  while i > 0 do
    local x, y = tonumber(string.sub(a, math.max(i - 6, 1), i)), 0
    if j > 0 then y = tonumber(string.sub(b, math.max(j - 6, 1), j)) end
    local d = x - y - borrow
    if d < 0 then d = d + 10000000; borrow = 1 else borrow = 0 end
    table.insert(out, 1, string.format('%07d', d))
    i = i - 7; j = j - 7
  end
  return norm(table.concat(out))
end

local entries, amounts, leases = KEYS[1], KEYS[2], KEYS[3]
local op, id, owner = ARGV[1], ARGV[2], ARGV[8]
local window_ms, ttl_ms, lease_ms = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[9])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local total = redis.call('HGET', amounts, '_total') or '0'

if window_ms > 0 and op ~= 'commit' then
  local old = redis.call('ZRANGEBYSCORE', entries, '-inf', now - window_ms, 'LIMIT', 0, PURGE_LIMIT)
  if #old > 0 then
    for _, rid in ipairs(old) do
      local v = redis.call('HGET', amounts, rid)
      if v then
        local _, units = parse(v)
        total = sub(total, units)
        redis.call('HDEL', amounts, rid)
      end
      redis.call('ZREM', entries, rid)
    end
    redis.call('HSET', amounts, '_total', total)
  end
end

if op ~= 'commit' then
  local lapsed = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, PURGE_LIMIT)
  if #lapsed > 0 then
    for _, rid in ipairs(lapsed) do
      local v = redis.call('HGET', amounts, rid)
      if v then
        local state, units = parse(v)
        if state == 'r' then
          total = sub(total, units)
          redis.call('HDEL', amounts, rid)
          redis.call('ZREM', entries, rid)
        end
      end
      redis.call('ZREM', leases, rid)
    end
    redis.call('HSET', amounts, '_total', total)
  end
end

if op == 'reserve' then
  local amount, cap, force = ARGV[3], ARGV[4], ARGV[7]
  if not string.match(amount, '^%d+$') or not string.match(cap, '^%d+$') then
    return redis.error_reply('amount and cap must be integers of minor units')
  end
  local existing = redis.call('HGET', amounts, id)
  if existing then
    -- Owners are unique per call: our own reservation is this reserve sent again after a
    -- dropped reply, and it is counted once.
    local state, _, made_by = parse(existing)
    if owner ~= '' and made_by == owner and state == 'r' then return {'reserved', total} end
    return {'duplicate', total}
  end
  local after = add(total, norm(amount))
  local over = cmp(after, norm(cap)) > 0
  if over and force ~= '1' then return {'denied', total} end
  redis.call('ZADD', entries, now, id)
  redis.call('HSET', amounts, id, 'r:' .. norm(amount) .. ':' .. owner, '_total', after)
  redis.call('PEXPIRE', entries, ttl_ms)
  redis.call('PEXPIRE', amounts, ttl_ms)
  if lease_ms > 0 then
    redis.call('ZADD', leases, now + lease_ms, id)
    redis.call('PEXPIRE', leases, math.max(ttl_ms, lease_ms))
  end
  if over then return {'forced', after} end
  return {'reserved', after}
elseif op == 'commit' or op == 'release' then
  local v = redis.call('HGET', amounts, id)
  if not v then return {'missing', total} end
  local state, units, made_by = parse(v)
  if state ~= 'r' then return {'missing', total} end
  if op == 'commit' then
    redis.call('HSET', amounts, id, 'c:' .. units .. ':' .. made_by)
    redis.call('ZREM', leases, id)
    return {'done', total}
  end
  -- A release that names an owner only frees that owner's reservation.
  if owner ~= '' and owner ~= made_by then return {'missing', total} end
  total = sub(total, units)
  redis.call('HDEL', amounts, id)
  redis.call('ZREM', entries, id)
  redis.call('ZREM', leases, id)
  redis.call('HSET', amounts, '_total', total)
  return {'done', total}
end
return {'ok', total}
""".replace("PURGE_LIMIT", str(PURGE_LIMIT))


def keys(bucket: Bucket) -> list[str]:
    tag = f"{PREFIX}:{{{bucket.key}}}"
    return [f"{tag}:e", f"{tag}:a", f"{tag}:l"]


class RedisSpendStore:
    def __init__(self, client: Redis) -> None:
        self._client = client
        self._script = client.register_script(SCRIPT)

    async def _run(
        self,
        op: str,
        bucket: Bucket,
        rid: str = "",
        *args: str,
        owner: str = "",
        lease: float = 0.0,
    ) -> tuple[str, Decimal]:
        amount, cap, force = (*args, "0", "0", "0")[:3]
        window, ttl = str(bucket.window_ms), str(bucket.ttl_ms)
        argv = [op, rid, amount, cap, window, ttl, force, owner, str(lease_ms(lease))]
        with translate_errors():
            reply: Any = await self._script(keys=keys(bucket), args=argv)
        status, total = (_text(part) for part in reply)
        return status, from_minor(int(total))

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
        _check_owner(owner)
        status, total = await self._run(
            "reserve",
            bucket,
            reservation_id,
            str(to_minor(amount)),
            str(to_minor(cap)),
            "1" if force else "0",
            owner=owner,
            lease=lease,
        )
        return Reservation(Status(status), total)

    async def commit(self, bucket: Bucket, reservation_id: str) -> bool:
        status, _ = await self._run("commit", bucket, reservation_id)
        return status == "done"

    async def release(self, bucket: Bucket, reservation_id: str, *, owner: str = "") -> bool:
        _check_owner(owner)
        status, _ = await self._run("release", bucket, reservation_id, owner=owner)
        return status == "done"

    async def total(self, bucket: Bucket) -> Decimal:
        _, total = await self._run("total", bucket)
        return total

    async def close(self) -> None:
        """The client belongs to the process (other steps share it); its owner closes it."""


def _check_owner(owner: str) -> None:
    if not owner.isalnum() and owner:
        raise ValueError("a reservation owner is letters and digits")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
