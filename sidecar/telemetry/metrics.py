"""Prometheus metrics: every metric of the sidecar, in one registry, in this one file.

Features report through the small functions below (never through the metric objects), so
names, labels and label values stay consistent and documented in docs/observability.md.
Label values come from closed sets or from the sidecar's own names (methods, rules, buckets,
error names): never from caller input, so cardinality stays bounded and nothing secret can
end up in a label.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Literal

import grpc
from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from sidecar import __version__, secrets

PREFIX = "cryptopay_sidecar"
METRICS_PATH = "/metrics"

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

# From 1 ms (a replayed answer) to the longest upstream call worth waiting for.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

BUILD = Info(f"{PREFIX}_build", "Version of the running sidecar.", registry=REGISTRY)
BUILD.info({"version": __version__})

# --- RPCs -----------------------------------------------------------------------------------------
RPCS = Counter(
    f"{PREFIX}_rpcs",
    "Finished RPCs of the Crypto Pay service, by method, gRPC status code and protocol (grpc, or "
    "http for the Crypto Pay-compatible HTTP front).",
    ["method", "code", "protocol"],
    registry=REGISTRY,
)
RPC_SECONDS = Histogram(
    f"{PREFIX}_rpc_duration_seconds",
    "Time from receiving an RPC to answering it, by method and protocol.",
    ["method", "protocol"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
RPCS_IN_FLIGHT = Gauge(
    f"{PREFIX}_rpcs_in_flight",
    "RPCs being handled now, by method and protocol.",
    ["method", "protocol"],
    registry=REGISTRY,
)

# --- upstream -------------------------------------------------------------------------------------
UPSTREAM_ATTEMPTS = Counter(
    f"{PREFIX}_upstream_attempts",
    "HTTP attempts to the Crypto Pay API, by API method and HTTP status "
    "(or connect / timeout / disconnect when no answer came).",
    ["method", "status"],
    registry=REGISTRY,
)
UPSTREAM_SECONDS = Histogram(
    f"{PREFIX}_upstream_attempt_duration_seconds",
    "Duration of one HTTP attempt to the Crypto Pay API, by API method.",
    ["method"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
RETRIES = Counter(
    f"{PREFIX}_retries",
    "Upstream attempts beyond the first, by API method and what the previous attempt got.",
    ["method", "reason"],
    registry=REGISTRY,
)
RETRIES_STOPPED = Counter(
    f"{PREFIX}_retries_stopped",
    "Calls whose retryable failure was not retried, by API method and why.",
    ["method", "reason"],
    registry=REGISTRY,
)

# --- rate limiting --------------------------------------------------------------------------------
RATELIMIT = Counter(
    f"{PREFIX}_ratelimit_decisions",
    "Rate-limit decisions, by bucket and result (admitted at once, waited, refused).",
    ["bucket", "result"],
    registry=REGISTRY,
)
RATELIMIT_WAIT = Histogram(
    f"{PREFIX}_ratelimit_wait_seconds",
    "Time calls waited for rate-limit capacity, by bucket (only calls that waited).",
    ["bucket"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)

# --- idempotency ----------------------------------------------------------------------------------
IDEMPOTENCY = Counter(
    f"{PREFIX}_idempotency",
    "Idempotency-key lookups, by RPC and result.",
    ["method", "result"],
    registry=REGISTRY,
)

# --- cache ----------------------------------------------------------------------------------------
CACHE_REQUESTS = Counter(
    f"{PREFIX}_cache_requests",
    "Answers to cacheable RPCs, by RPC and result (hit, miss, stale, bypass).",
    ["method", "result"],
    registry=REGISTRY,
)
CACHE_STALE = Counter(
    f"{PREFIX}_cache_stale",
    "Stale cached answers served, by RPC and reason (revalidating, upstream-error, timeout).",
    ["method", "reason"],
    registry=REGISTRY,
)
CACHE_REFRESHES = Counter(
    f"{PREFIX}_cache_refreshes",
    "Cached answers refreshed from the upstream, by RPC and mode (foreground, background).",
    ["method", "mode"],
    registry=REGISTRY,
)
CACHE_REFRESH_FAILURES = Counter(
    f"{PREFIX}_cache_refresh_failures",
    "Refreshes of cached answers that failed, by RPC and error name.",
    ["method", "reason"],
    registry=REGISTRY,
)
CACHE_STORE_ERRORS = Counter(
    f"{PREFIX}_cache_store_errors",
    "Cache store operations that failed (calls then went upstream uncached), by operation.",
    ["operation"],
    registry=REGISTRY,
)

# --- policy ---------------------------------------------------------------------------------------
POLICY_DECISIONS = Counter(
    f"{PREFIX}_policy_decisions",
    "Policy decisions, by rule, mode (enforce, audit) and result (allow, deny, would_deny).",
    ["rule", "mode", "result"],
    registry=REGISTRY,
)
POLICY = Info(
    f"{PREFIX}_policy",
    "The active policy: content hash and where it was loaded from.",
    registry=REGISTRY,
)
POLICY_LOADS = Counter(
    f"{PREFIX}_policy_loads",
    "Policy (re)loads, by result (ok, error: the previous policy stays active).",
    ["result"],
    registry=REGISTRY,
)

# --- webhooks -------------------------------------------------------------------------------------
WEBHOOKS_RECEIVED = Counter(
    f"{PREFIX}_webhooks_received",
    "Verified webhook updates received from Crypto Pay, by update type.",
    ["update_type"],
    registry=REGISTRY,
)
WEBHOOKS_REJECTED = Counter(
    f"{PREFIX}_webhooks_rejected",
    "Webhook requests refused, by reason.",
    ["reason"],
    registry=REGISTRY,
)
WEBHOOKS_PUBLISHED = Counter(
    f"{PREFIX}_webhooks_published",
    "Webhook updates published to the event stream, by update type.",
    ["update_type"],
    registry=REGISTRY,
)
WEBHOOKS_DELIVERED = Counter(
    f"{PREFIX}_webhooks_delivered",
    "Webhook updates delivered to subscribers, by update type.",
    ["update_type"],
    registry=REGISTRY,
)
WEBHOOKS_UNTYPED = Counter(
    f"{PREFIX}_webhooks_untyped",
    "Stored webhook events delivered with fields that could not be typed (their values are "
    "only in raw_body; see untyped_fields), by update type. Counted once per event and replica.",
    ["update_type"],
    registry=REGISTRY,
)
SUBSCRIBERS = Gauge(
    f"{PREFIX}_webhook_subscribers",
    "Subscribers currently connected to the webhook stream.",
    registry=REGISTRY,
)
RELAY_DELIVERIES = Counter(
    f"{PREFIX}_webhook_relay_deliveries",
    "Attempts of the webhook relay to deliver an event to a caller's handler, by caller and "
    "outcome: delivered (2xx), refused (any other status), timeout, unreachable (all three "
    "retried), skipped (an event without a body), lost (removed by retention first).",
    ["caller", "outcome"],
    registry=REGISTRY,
)
RELAY_LAG = Gauge(
    f"{PREFIX}_webhook_relay_lag_seconds",
    "Age of the oldest event the relay has not yet delivered to the caller's handler (0 when "
    "caught up), on the replica that relays for the caller.",
    ["caller"],
    registry=REGISTRY,
)
RELAY_ACTIVE = Gauge(
    f"{PREFIX}_webhook_relay_active",
    "1 on the replica that currently relays the caller's webhooks (holds its lease).",
    ["caller"],
    registry=REGISTRY,
)

HTTP_CONNECTIONS_CLOSED = Counter(
    f"{PREFIX}_http_connections_closed",
    "HTTP connections closed by the sidecar's limits, by reason: header_timeout (no complete "
    "request head in time), limit (at the connection cap, nothing idle to close), "
    "evicted_idle (an idle kept-alive connection closed to make room).",
    ["reason"],
    registry=REGISTRY,
)

# --- health ---------------------------------------------------------------------------------------
DEPENDENCY_UP = Gauge(
    f"{PREFIX}_dependency_up",
    "1 when a dependency (redis...) is healthy, 0 when not.",
    ["dependency"],
    registry=REGISTRY,
)
READY = Gauge(
    f"{PREFIX}_ready",
    "1 when the sidecar reports SERVING, 0 when not (starting, draining, a dependency down).",
    registry=REGISTRY,
)
DEGRADED = Gauge(
    f"{PREFIX}_degraded",
    "1 while the sidecar serves with a dependency down (a fallback, or --readiness degraded).",
    registry=REGISTRY,
)
LIVE_REPLICAS = Gauge(
    f"{PREFIX}_ratelimit_live_replicas",
    "Sidecars of this Crypto Pay app registered in Redis (heartbeat), as this one last saw; "
    "each gets 1/N of every rate while Redis is down, unless rate_limits.replicas is set.",
    registry=REGISTRY,
)
TRACE_CONTEXTS = Counter(
    f"{PREFIX}_trace_context_lookups",
    "Lookups of an invoice's creation trace (for webhook span links), by result.",
    ["result"],
    registry=REGISTRY,
)

RateLimitResult = Literal["admitted", "waited", "refused"]
IdempotencyResult = Literal["new", "replayed", "in_progress", "conflict", "unavailable"]
PolicyMode = Literal["enforce", "audit"]
PolicyResult = Literal["allow", "deny", "would_deny"]
LookupResult = Literal["found", "missing", "error"]


# The children of the metrics the request path touches, bound once per label values: labels()
# validates and locks on each call, which the request path need not pay every time. Label
# values here come from closed sets (method table, policy rule names, result names), so the
# map stays small.
_children: dict[tuple[object, ...], Any] = {}


def _child(metric: Any, *values: str) -> Any:
    key = (metric, *values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


Protocol = Literal["grpc", "http"]


def rpc_started(method: str, protocol: Protocol = "grpc") -> None:
    _child(RPCS_IN_FLIGHT, method, protocol).inc()


def rpc_finished(
    method: str, code: grpc.StatusCode | str, seconds: float, protocol: Protocol = "grpc"
) -> None:
    """One RPC answered (call rpc_started first); `protocol` is the edge it came in by."""
    name = code.name if isinstance(code, grpc.StatusCode) else code
    _child(RPCS, method, name, protocol).inc()
    _child(RPC_SECONDS, method, protocol).observe(seconds)
    _child(RPCS_IN_FLIGHT, method, protocol).dec()


def upstream_attempt(method: str, status: int | str, seconds: float) -> None:
    """One HTTP attempt to the API: `status` is the HTTP status or connect/timeout/disconnect."""
    _child(UPSTREAM_ATTEMPTS, method, str(status)).inc()
    _child(UPSTREAM_SECONDS, method).observe(seconds)


def retry(method: str, reason: str) -> None:
    """An attempt beyond the first; `reason` is the previous attempt's error name."""
    _child(RETRIES, method, reason).inc()


def retry_stopped(method: str, reason: str) -> None:
    """A retryable failure was answered without retrying (budget, deadline, attempts, unsafe)."""
    _child(RETRIES_STOPPED, method, reason).inc()


def ratelimit(bucket: str, result: RateLimitResult, wait_seconds: float = 0.0) -> None:
    _child(RATELIMIT, bucket, result).inc()
    if result == "waited":
        _child(RATELIMIT_WAIT, bucket).observe(wait_seconds)


def idempotency(method: str, result: IdempotencyResult) -> None:
    _child(IDEMPOTENCY, method, result).inc()


def cache_request(method: str, result: str) -> None:
    _child(CACHE_REQUESTS, method, result).inc()


def cache_stale(method: str, reason: str) -> None:
    _child(CACHE_STALE, method, reason).inc()


def cache_refreshed(method: str, mode: str) -> None:
    _child(CACHE_REFRESHES, method, mode).inc()


def cache_refresh_failed(method: str, reason: str) -> None:
    CACHE_REFRESH_FAILURES.labels(method, reason).inc()


def cache_store_error(operation: str) -> None:
    CACHE_STORE_ERRORS.labels(operation).inc()


def policy_decision(rule: str, mode: PolicyMode, result: PolicyResult) -> None:
    _child(POLICY_DECISIONS, rule, mode, result).inc()


def policy_loaded(sha256: str, source: str) -> None:
    """A policy became active (its hash identifies it across replicas)."""
    POLICY.info({"sha256": sha256, "source": source})
    POLICY_LOADS.labels("ok").inc()


def policy_load_failed() -> None:
    POLICY_LOADS.labels("error").inc()


def webhook_received(update_type: str) -> None:
    WEBHOOKS_RECEIVED.labels(update_type).inc()


def webhook_rejected(reason: str) -> None:
    WEBHOOKS_REJECTED.labels(reason).inc()


def webhook_published(update_type: str) -> None:
    WEBHOOKS_PUBLISHED.labels(update_type).inc()


def webhook_delivered(update_type: str) -> None:
    WEBHOOKS_DELIVERED.labels(update_type).inc()


def webhook_untyped(update_type: str) -> None:
    WEBHOOKS_UNTYPED.labels(update_type).inc()


def http_connection_closed(reason: str) -> None:
    HTTP_CONNECTIONS_CLOSED.labels(reason).inc()


def webhook_subscribers(count: int) -> None:
    SUBSCRIBERS.set(count)


def relay_delivery(caller: str, outcome: str) -> None:
    RELAY_DELIVERIES.labels(caller, outcome).inc()


def relay_active(caller: str, lag: Callable[[], float]) -> None:
    """This replica relays for `caller` now; `lag` reads the age of its oldest undelivered
    event whenever /metrics is scraped."""
    RELAY_ACTIVE.labels(caller).set(1)
    RELAY_LAG.labels(caller).set_function(lag)


def relay_inactive(caller: str) -> None:
    """Another replica (or none) relays for `caller`: its series leave this replica's page."""
    for gauge in (RELAY_ACTIVE, RELAY_LAG):
        with contextlib.suppress(KeyError):
            gauge.remove(caller)


def dependency(name: str, ok: bool) -> None:
    DEPENDENCY_UP.labels(name).set(1 if ok else 0)


def ready(ok: bool) -> None:
    READY.set(1 if ok else 0)


def degraded(on: bool) -> None:
    DEGRADED.set(1 if on else 0)


def live_replicas(count: int) -> None:
    LIVE_REPLICAS.set(count)


def trace_context_lookup(result: LookupResult) -> None:
    _child(TRACE_CONTEXTS, result).inc()


# --- exposition -----------------------------------------------------------------------------------


def render(accept: str | None = None) -> tuple[bytes, str]:
    """The registry in the text format the scraper asked for (Prometheus or OpenMetrics)."""
    encoder, content_type = choose_encoder(accept or "")
    text = encoder(REGISTRY)
    if secrets.registered():
        text = secrets.scrub(text.decode()).encode()
    return text, content_type


async def _metrics(request: web.Request) -> web.Response:
    body, content_type = render(request.headers.get("Accept"))
    response = web.Response(body=body)
    # aiohttp refuses a content_type argument that carries parameters.
    response.headers["Content-Type"] = content_type
    return response


def add_routes(app: web.Application) -> None:
    """Serves GET /metrics on the sidecar's HTTP port."""
    app.router.add_get(METRICS_PATH, _metrics)
