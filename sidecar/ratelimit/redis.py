"""The shared backend: one Lua script per decision (EVALSHA, one round trip), on Redis's clock.

Keys, all under one hash tag so a call's buckets share a Cluster slot:

    <prefix>:{<scope>}:cooldown        end of the upstream pause (µs, server clock)
    <prefix>:{<scope>}:app             a bucket: "<TAT (µs, server clock)>:<emission interval>"
    <prefix>:{<scope>}:caller:<name>
    <prefix>:{<scope>}:rpc:<name>

Every key expires when its bucket is full again, so idle callers cost no memory.
The scripts are `sidecar.ratelimit.gcra`, step for step; keep the two in sync.
"""

from __future__ import annotations

from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError

from sidecar.ratelimit import gcra
from sidecar.ratelimit.backend import BucketStatus, Decision, Pause, Request, limited_by_name
from sidecar.redis_connection import Redis, translate_errors

PREFIX = "cpsc:rl"

# A bucket's value is "<tat>:<emission>"; under another emission interval (the policy changed
# the rate) its TAT is rescaled so the tokens owed carry over (gcra.rescale), and stored so, so
# that the debt is then paid back at the new rate.
_LOAD = """
local function store(key, tat, e_text, now)
  redis.call('SET', key, string.format('%.0f', tat) .. ':' .. e_text,
    'PX', string.format('%.0f', math.ceil((tat - now) / 1000) + 1))
end
local function load(key, e_text, now)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  local tat_s, e_s = string.match(raw, '^([^:]+):(.+)$')
  local tat, old, e = tonumber(tat_s), tonumber(e_s), tonumber(e_text)
  if not tat or not old then return nil end
  if tat > now and old ~= e then
    tat = math.ceil(now + (tat - now) * e / old)
    store(key, tat, e_text, now)
  end
  return tat
end
"""

# KEYS[1] = cooldown key, KEYS[2..n+1] = bucket keys
# ARGV[1] = cost, ARGV[2] = max wait (µs), then per bucket: emission interval (µs), burst
# Returns {allowed, delay (µs), limited_by, then per bucket: remaining (string), reset (µs)}
# with limited_by: 0 = nothing, 1 = cooldown, i + 1 = bucket i (1-based).
DECIDE = (
    _LOAD
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local n = #KEYS - 1
local send = now
local limited = 0
local cooldown = tonumber(redis.call('GET', KEYS[1]))
if cooldown and cooldown > send then
  send = cooldown
  limited = 1
end
local tats, emissions, bursts = {}, {}, {}
for i = 1, n do
  local e, burst = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local tat = load(KEYS[i + 1], ARGV[1 + 2 * i], now)
  tats[i], emissions[i], bursts[i] = tat, e, burst
  if cost > burst then
    return redis.error_reply('cost exceeds burst')
  end
  if tat then
    local earliest = tat + (cost - burst) * e
    if earliest > send then
      send = earliest
      limited = i + 1
    end
  end
end
local delay = math.ceil(send - now)
local allowed = 0
if delay <= max_wait then
  allowed = 1
  if cost > 0 then
    local start = now + delay
    for i = 1, n do
      local base = tats[i] or start
      if start > base then base = start end
      local tat = math.ceil(base + cost * emissions[i])
      tats[i] = tat
      store(KEYS[i + 1], tat, ARGV[1 + 2 * i], now)
    end
  end
end
local out = {allowed, delay, limited}
for i = 1, n do
  local e, burst, tat = emissions[i], bursts[i], tats[i]
  local left, reset = burst, 0
  if tat then
    left = (now - (tat - burst * e)) / e
    if left > burst then left = burst end
    reset = tat - now
    if reset < 0 then reset = 0 end
  end
  out[#out + 1] = string.format('%.6f', left)
  out[#out + 1] = reset
end
return out
"""
)

# KEYS[1] = cooldown key, KEYS[2] = app bucket key (optional)
# ARGV[1] = pause (µs), ARGV[2] = app emission interval (µs), ARGV[3] = app burst
# Returns the pause left (µs).
COOLDOWN = (
    _LOAD
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= untl then
  return current - now
end
local ttl = string.format('%.0f', math.ceil((untl - now) / 1000) + 1)
redis.call('SET', KEYS[1], string.format('%.0f', untl), 'PX', ttl)
if #KEYS > 1 then
  local e, burst = tonumber(ARGV[2]), tonumber(ARGV[3])
  local floor = math.ceil(untl + (burst - 1) * e)
  local tat = load(KEYS[2], ARGV[2], now)
  if not tat or tat < floor then
    store(KEYS[2], floor, ARGV[2], now)
  end
end
return untl - now
"""
)


def key(prefix: str, scope: str, name: str) -> str:
    return f"{prefix}:{{{scope}}}:{name}"


class RedisBackend:
    """Decides on the shared buckets; `client` stays open (it may serve other components)."""

    def __init__(self, client: Redis, *, prefix: str = PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._decide = client.register_script(DECIDE)
        self._cooldown = client.register_script(COOLDOWN)

    async def decide(self, request: Request) -> Decision:
        keys = [key(self._prefix, request.scope, "cooldown")]
        args: list[Any] = [request.cost, int(request.max_wait * gcra.MICROS)]
        for bucket in request.buckets:
            keys.append(key(self._prefix, request.scope, bucket.key))
            args += [repr(bucket.limit.emission_us), bucket.limit.burst]
        reply = await self._run(self._decide, keys, args)
        allowed, delay_us, limited = int(reply[0]), int(reply[1]), int(reply[2])
        statuses = tuple(
            BucketStatus(
                bucket,
                float(reply[3 + 2 * i]),
                int(reply[4 + 2 * i]) / gcra.MICROS,
            )
            for i, bucket in enumerate(request.buckets)
        )
        delay = delay_us / gcra.MICROS
        # Lua's 0 / 1 / i + 1 onto gcra's NOT_LIMITED / COOLDOWN / index.
        index = gcra.NOT_LIMITED if limited == 0 else gcra.COOLDOWN if limited == 1 else limited - 2
        return Decision(
            allowed=bool(allowed),
            wait=delay if allowed else 0.0,
            retry_after=0.0 if allowed else delay,
            limited_by=limited_by_name(index, request.buckets),
            statuses=statuses,
        )

    async def cooldown(self, pause: Pause) -> float:
        keys = [key(self._prefix, pause.scope, "cooldown")]
        args: list[Any] = [int(pause.seconds * gcra.MICROS), 0, 0]
        if pause.app is not None:
            keys.append(key(self._prefix, pause.scope, pause.app.key))
            args = [args[0], repr(pause.app.limit.emission_us), pause.app.limit.burst]
        left = await self._run(self._cooldown, keys, args)
        return int(left) / gcra.MICROS

    async def close(self) -> None:
        return None  # the client belongs to whoever passed it in

    async def _run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        with translate_errors():
            try:
                return await script(keys=keys, args=args)
            except ConnectionError:
                # After a Redis restart every idle pooled connection is dead: drop them and try
                # once more on a fresh one. Should the first try have run after all, it took its
                # tokens twice: a limit can only come out stricter, never looser.
                pool = getattr(self._client, "connection_pool", None)
                if pool is not None:
                    await pool.disconnect(inuse_connections=False)
                return await script(keys=keys, args=args)
