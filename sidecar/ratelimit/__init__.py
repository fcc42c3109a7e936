"""Rate limits shared across replicas: exact GCRA buckets in Redis (one round trip per
decision), a shared pause after an upstream 429, and a local fallback while Redis is away.

    config.py    the `rate_limits` policy section: parse_rate_limits(raw) -> RateLimitConfig
    schema.py    its JSON Schema
    plan.py      which buckets a call draws from
    gcra.py      the maths (pure)
    backend.py   the backend interface
    memory.py    in-process backend
    redis.py     shared backend (Lua, EVALSHA, server clock, hash-tagged keys)
    fallback.py  Redis, or the replica's share while Redis is unreachable
    metadata.py  trailing metadata with the remaining budget
    limiter.py   the request-path step (RateLimiter)
"""
