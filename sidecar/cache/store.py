"""Where cached answers live: the interface both stores (memory, Redis) implement.

A key holds one entry (the serialized response and the store-clock time its fetch began) and a
short lock: the lease of the one caller refreshing it, or a cool-down marker after a failed
refresh. Times are seconds on the store's own clock (Redis: the server's), so replicas whose
clocks disagree still agree on an answer's age.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sidecar.cache.freshness import Contention
from sidecar.secrets import Secret
from sidecar.store_base import Store


@dataclass(frozen=True, slots=True)
class Entry:
    data: bytes  # the serialized response message
    fetched_at: float  # when the fetch that produced it began (store clock, seconds)
    degraded: bool = False  # the upstream marked part of it invalid


@dataclass(frozen=True, slots=True)
class Snapshot:
    entry: Entry | None
    now: float  # the store's clock when it was read

    @property
    def age(self) -> float | None:
        return None if self.entry is None else self.now - self.entry.fetched_at


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to refresh a key; its holder stores the answer or releases it."""

    token: str
    started_at: float  # store clock when granted: the fetched_at of what the holder stores


@dataclass(frozen=True, slots=True)
class Acquired:
    lease: Lease | None
    contention: Contention | None = None  # why there is no lease


class CacheStore(Store, Protocol):
    async def get(self, key: str) -> Snapshot:
        """The key's entry (if any) and the store's clock."""

    async def acquire(self, key: str, seen: float | None, ttl: float) -> Acquired:
        """Takes the refresh lease for `ttl` seconds, unless another caller holds it, a failed
        refresh is cooling down, or an entry newer than `seen` (a fetched_at) has arrived."""

    async def put(self, key: str, entry: Entry, keep_for: float, lease: Lease | None) -> bool:
        """Stores the entry until fetched_at + keep_for unless a newer one is there (an older
        fetch never replaces a newer answer), and releases the lease. True if stored."""

    async def release(self, key: str, lease: Lease, cooldown: float = 0.0) -> None:
        """Gives the lease up if still held; with a cooldown, other callers see COOLDOWN for
        that many seconds instead of taking the lease."""

    async def wait(self, key: str, seen: float | None, within: float) -> None:
        """Returns once an entry newer than `seen` is stored or the key is no longer being
        refreshed, or after `within` seconds."""

    async def now(self) -> float:
        """The store's clock."""

    async def flush(self, prefix: str, scope: str | None = None, rpc: str | None = None) -> int:
        """Deletes entries and locks under the prefix (of one scope and/or method); returns how
        many entries were deleted."""


def scope_of(token: Secret, upstream_url: str) -> str:
    """The cache scope of one app on one upstream: replicas of the same app share answers, and
    apps sharing a Redis never see each other's (getMe differs per app)."""
    digest = hashlib.sha256(f"{upstream_url}\n{token.reveal()}".encode()).hexdigest()
    return digest[:24]


def params_digest(params: Mapping[str, Any]) -> str:
    if not params:
        return "-"
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def cache_key(prefix: str, scope: str, rpc: str, params: Mapping[str, Any]) -> str:
    """The entry's key; the lock is `<key>:lock`. The {hash tag} keeps both in one Cluster slot."""
    return f"{prefix}:{{{scope}:{rpc}:{params_digest(params)}}}"


def key_pattern(prefix: str, scope: str | None = None, rpc: str | None = None) -> str:
    """A glob matching the keys (entries and locks) of a flush."""
    return f"{prefix}:{{{scope or '*'}:{rpc or '*'}:*"


def lock_key(key: str) -> str:
    return f"{key}:lock"
