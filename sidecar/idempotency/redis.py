"""The Redis idempotency store: records shared by every replica of one app.

Each record is one hash (state, fingerprint, owner, lease, payload) under a hash-tagged key, and
every transition is one Lua script on the server's clock, so two replicas can never both claim
a key, and a lease means the same to all of them.

Keys carry the app's scope (`AppScope.name`: app id and upstream host), so apps sharing one Redis
never answer each other's keys. Records written before keys were scoped (no scope in the key)
are still honoured until they expire: a claim that finds no scoped record looks at the unscoped
one in the same script, replays it when done and waits for it while in flight; a take-over of a
stale one moves it under the scoped key. The unscoped key shares the record's hash tag, so both
live in one Cluster slot.
"""

from __future__ import annotations

from typing import Any

from sidecar.idempotency.store import Claim, ClaimState
from sidecar.redis_connection import Redis, translate_errors

# Time in milliseconds from the server clock.
_NOW = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS[1] record, KEYS[2] its unscoped name from before scoping; ARGV fingerprint, owner,
# lease ms, ttl ms
_CLAIM = (
    _NOW
    + """
local r = redis.call('HMGET', KEYS[1], 'state', 'fp', 'owner', 'lease')
if not r[1] then
  local old = redis.call('HMGET', KEYS[2], 'state', 'fp', 'owner', 'lease')
  if old[1] == 'done' then
    return {'done', old[2], old[3], redis.call('HGET', KEYS[2], 'payload')}
  end
  if old[1] == 'flight' then
    if tonumber(old[4]) <= now then return {'stale', old[2], old[3]} end
    return {'in_flight', old[2], old[3]}
  end
end
if not r[1] then
  redis.call('HSET', KEYS[1], 'state', 'flight', 'fp', ARGV[1], 'owner', ARGV[2],
             'lease', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'claimed'}
end
if r[1] == 'done' then
  return {'done', r[2], r[3], redis.call('HGET', KEYS[1], 'payload')}
end
-- Owners are unique per call: our own flight is this claim sent again after a dropped reply.
if r[3] == ARGV[2] then return {'claimed'} end
if tonumber(r[4]) <= now then return {'stale', r[2], r[3]} end
return {'in_flight', r[2], r[3]}
"""
)

# KEYS[1] record, KEYS[2] its unscoped name; ARGV stale owner, new owner, lease ms
_TAKE_OVER = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local old = redis.call('HMGET', KEYS[2], 'state', 'owner', 'lease')
  if old[1] == 'flight' and old[2] == ARGV[1] and tonumber(old[3]) <= now then
    redis.call('RENAME', KEYS[2], KEYS[1])  -- keeps its TTL
  end
end
local r = redis.call('HMGET', KEYS[1], 'state', 'owner', 'lease')
if r[1] == 'flight' and r[2] == ARGV[2] then return 1 end  -- ours already: sent again
if r[1] ~= 'flight' or r[2] ~= ARGV[1] or tonumber(r[3]) > now then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'lease', now + tonumber(ARGV[3]))
return 1
"""
)

# KEYS[1] record; ARGV owner, payload, ttl ms
_COMPLETE = """
local r = redis.call('HMGET', KEYS[1], 'state', 'owner')
if r[1] ~= 'flight' or r[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'payload', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1] record; ARGV owner
_RELEASE = """
local r = redis.call('HMGET', KEYS[1], 'state', 'owner')
if r[1] ~= 'flight' or r[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


PREFIX = "cryptopay-sidecar:idem"


class RedisIdempotencyStore:
    def __init__(self, client: Redis, scope: str, prefix: str = PREFIX) -> None:
        if not scope or "{" in scope or "}" in scope:
            raise ValueError(f"an idempotency scope must be non-empty, without braces: {scope!r}")
        self._prefix = prefix
        self._scoped = f"{prefix}:{scope}"
        self._claim = client.register_script(_CLAIM)
        self._take_over = client.register_script(_TAKE_OVER)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return f"{self._scoped}:{{{key}}}"

    def _unscoped(self, key: str) -> str:
        return f"{self._prefix}:{{{key}}}"

    async def claim(
        self, key: str, fingerprint: str, owner: str, lease: float, ttl: float
    ) -> Claim:
        with translate_errors():
            reply = await self._claim(
                keys=[self._key(key), self._unscoped(key)],
                args=[fingerprint, owner, _ms(lease), _ms(ttl)],
            )
        state = ClaimState(_text(reply[0]))
        if state is ClaimState.CLAIMED:
            return Claim(state)
        payload = reply[3] if len(reply) > 3 else b""
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        return Claim(state, _text(reply[1]), _text(reply[2]), bytes(payload or b""))

    async def take_over(self, key: str, stale_owner: str, owner: str, lease: float) -> bool:
        with translate_errors():
            return bool(
                await self._take_over(
                    keys=[self._key(key), self._unscoped(key)],
                    args=[stale_owner, owner, _ms(lease)],
                )
            )

    async def complete(self, key: str, owner: str, payload: bytes, ttl: float) -> bool:
        with translate_errors():
            return bool(
                await self._complete(keys=[self._key(key)], args=[owner, payload, _ms(ttl)])
            )

    async def release(self, key: str, owner: str) -> bool:
        with translate_errors():
            return bool(await self._release(keys=[self._key(key)], args=[owner]))

    async def close(self) -> None:
        """The client belongs to the process (other stores share it); its owner closes it."""
