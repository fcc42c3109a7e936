"""Wiring: every component of the sidecar built from its settings, without opening a socket.

`assemble(settings)` chooses the stores, loads the policy and composes the request path; it
starts nothing (no task, no listener, no connection: redis-py connects on first use).
`server.Sidecar` starts the parts in order and stops them in reverse. Tests build an assembly
to check the wiring without a port.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sidecar.cache.step import CacheStep
from sidecar.config import ConfigError, Settings
from sidecar.idempotency.step import IdempotencyStep
from sidecar.pipeline import Attempts, Pipeline
from sidecar.policy.lint import LintContext
from sidecar.policy.model import PolicySnapshot, permissive
from sidecar.policy.reload import PolicyHolder, PolicyWatcher, load, log_loaded
from sidecar.policy.step import PolicyStep
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.retry.retrier import Retrier
from sidecar.stores import AppScope, Stores
from sidecar.upstream import HttpUpstream, UpstreamSettings
from sidecar.webhooks.created import InvoiceCreated
from sidecar.webhooks.hub import Webhooks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Assembly:
    """The sidecar's parts, wired; `server.Sidecar` owns their start and stop."""

    settings: Settings
    stores: Stores
    policy: PolicyHolder
    policy_step: PolicyStep
    watcher: PolicyWatcher | None  # None: no --policy file to watch
    webhooks: Webhooks
    upstream: HttpUpstream
    limiter: RateLimiter
    cache: CacheStep
    attempts: Attempts
    pipeline: Pipeline

    @property
    def reconciling(self) -> bool:
        return self.settings.webhooks.reconcile_interval > 0


def assemble(settings: Settings) -> Assembly:
    """Builds every part (ConfigError on a policy with errors); opens nothing."""
    s = settings
    # Demo mode counts spend caps in memory: one process, nothing to share.
    context = LintContext(redis=s.redis_url is not None or s.demo)
    # The policy first: a policy with errors stops start-up before anything is built.
    policy = PolicyHolder(_initial_policy(s, context))
    stores = Stores(s.redis_url, AppScope(s.token, s.upstream_url))
    # Counters are per Crypto Pay app (the token's numeric prefix, which is not secret), so
    # several apps can share one Redis.
    policy_step = PolicyStep(policy, stores.spend(), stores.scope.app_id, lease=s.spend_lease)
    watcher = None
    if s.policy_path is not None:
        watcher = PolicyWatcher(policy, s.policy_path, context, s.policy_poll_interval)
    webhooks = Webhooks.create(s.webhooks, s.token, stores.url)
    upstream = HttpUpstream(
        UpstreamSettings(base_url=s.upstream_url, token=s.token, request_timeout=s.request_timeout)
    )
    limiter = stores.limiter()
    # The upstream, wrapped once by the rate limiter: the calls' attempts, the retrier's lookups
    # and the webhook sweep all send through it.
    attempts = Attempts(upstream, limiter=limiter, request_timeout=s.request_timeout)
    retrier = Retrier(budget=stores.retry_budget(), lookup=attempts.lookup)
    idempotency = IdempotencyStep(stores.idempotency())
    cache = stores.cache(s.cache)
    webhooks.trace_links = stores.trace_links()
    reconciling = s.webhooks.reconcile_interval > 0
    pipeline = Pipeline(
        attempts,
        [cache, idempotency, retrier],
        identify=policy_step,
        after_success=[
            InvoiceCreated(webhooks.trace_links, webhooks.event_log if reconciling else None)
        ],
    )
    return Assembly(
        settings=s,
        stores=stores,
        policy=policy,
        policy_step=policy_step,
        watcher=watcher,
        webhooks=webhooks,
        upstream=upstream,
        limiter=limiter,
        cache=cache,
        attempts=attempts,
        pipeline=pipeline,
    )


def _initial_policy(s: Settings, context: LintContext) -> PolicySnapshot:
    """The policy file's snapshot (refusing to start on errors), or the permissive default."""
    if s.policy_path is None:
        log.warning(
            "no --policy: the permissive default policy is active (any caller may call every "
            "RPC with any amount); for demos and local development only"
        )
        return permissive()
    result = load(s.policy_path, context)
    if result.snapshot is None:
        raise ConfigError(
            f"the policy {s.policy_path} has errors:\n" + "\n".join(f"  {p}" for p in result.errors)
        )
    log_loaded(result.snapshot, result.problems, None)
    return result.snapshot
