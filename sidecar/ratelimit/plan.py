"""Which buckets one call draws from, at what cost, and what it does when they are empty (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.ratelimit.config import DEFAULT_CALLER, BucketConfig, RateLimitConfig, WhenEmpty
from sidecar.ratelimit.gcra import Limit


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str  # shown to callers and operators: "app", "caller:billing", "rpc:CreateInvoice"
    key: str  # storage key, unique within the app's scope
    limit: Limit  # the shared limit (all replicas together)
    local: Limit  # one replica's share, used while the shared store is unreachable
    config: BucketConfig


@dataclass(frozen=True, slots=True)
class Plan:
    buckets: tuple[Bucket, ...]
    cost: int
    when_empty: WhenEmpty


def local_share(bucket: BucketConfig, replicas: int, max_cost: int) -> Limit:
    """One replica's part of a bucket: the rate divided by the replica count, and as much of
    the burst (at least the largest cost, so every call stays admissible)."""
    burst = max(bucket.burst // replicas, max_cost, 1)
    return Limit.per(bucket.rate.count, bucket.rate.period * replicas, burst)


def replica_count(config: RateLimitConfig, live: int | None) -> int:
    """The share divisor: the policy's `replicas` when set, else the live count (registered
    replicas), else 1."""
    if config.replicas_set or live is None:
        return config.replicas
    return max(1, live)


def _bucket(
    name: str, key: str, bucket: BucketConfig, config: RateLimitConfig, replicas: int
) -> Bucket:
    return Bucket(
        name=name,
        key=key,
        limit=Limit.per(bucket.rate.count, bucket.rate.period, bucket.burst),
        local=local_share(bucket, replicas, min(config.max_cost, bucket.burst)),
        config=bucket,
    )


def plan_call(config: RateLimitConfig, rpc: str, caller: str, live: int | None = None) -> Plan:
    """`live`: how many replicas are registered now (None: unknown, the policy's value)."""
    replicas = replica_count(config, live)
    buckets: list[Bucket] = []
    if config.app is not None:
        buckets.append(_bucket("app", "app", config.app, config, replicas))
    caller_bucket = config.callers.get(caller) or config.callers.get(DEFAULT_CALLER)
    if caller_bucket is not None:
        buckets.append(
            _bucket(f"caller:{caller}", f"caller:{caller}", caller_bucket, config, replicas)
        )
    rpc_bucket = config.rpcs.get(rpc)
    if rpc_bucket is not None:
        buckets.append(_bucket(f"rpc:{rpc}", f"rpc:{rpc}", rpc_bucket, config, replicas))
    # A call waits only if every bucket it uses lets it wait.
    modes = [b.config.when_empty or config.when_empty for b in buckets] or [config.when_empty]
    mode = WhenEmpty.REFUSE if WhenEmpty.REFUSE in modes else WhenEmpty.WAIT
    return Plan(tuple(buckets), config.cost(rpc), mode)
