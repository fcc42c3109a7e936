"""Assembles and runs the sidecar: gRPC server, HTTP side, upstream session, demo emulator,
webhook event log.

Start-up order puts the upstream session before the gRPC port, and shutdown reverses it:
health goes NOT_SERVING first (gRPC health and /readyz), new calls are still served for
--shutdown-delay seconds while load balancers notice, then webhook subscriptions end (clients
resume elsewhere), in-flight calls finish within the grace period, then the HTTP side (webhook
ingest), the upstream session and the event log close.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import ssl
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
from aiohttp import web
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from sidecar import http_server, logs, tls
from sidecar.api_front import ApiFront
from sidecar.cache import admin as cache_admin
from sidecar.cache.step import CacheStep
from sidecar.config import ConfigError, Settings, split_host_port
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as webhook_pb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2_grpc as webhook_pb_grpc
from sidecar.idempotency.step import IdempotencyStep
from sidecar.pipeline import Attempts, Pipeline
from sidecar.policy.lint import LintContext
from sidecar.policy.model import permissive
from sidecar.policy.reload import PolicyHolder, PolicyWatcher, describe, load, log_loaded
from sidecar.policy.step import PolicyStep
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.retry.retrier import Retrier
from sidecar.service import CryptoPayService, add_to_server
from sidecar.stores import AppScope, Stores
from sidecar.telemetry import health as health_model
from sidecar.telemetry import metrics, tracing
from sidecar.upstream import HttpUpstream, UpstreamSettings
from sidecar.webhooks import ingest
from sidecar.webhooks.created import InvoiceCreated
from sidecar.webhooks.delivery.subscribe import WebhookService
from sidecar.webhooks.hub import Webhooks

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CryptoPayService"].full_name
WEBHOOK_SERVICE_NAME = webhook_pb.DESCRIPTOR.services_by_name["WebhookService"].full_name

GRPC_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_concurrent_streams", 256),
    ("grpc.max_receive_message_length", 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    # Mesh and Go clients ping every 10-30 s; the C-core default would answer too_many_pings.
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    # Let clients rebalance across replicas.
    ("grpc.max_connection_age_ms", 30 * 60_000),
    ("grpc.max_connection_age_grace_ms", 60_000),
    # A port clash must fail loudly rather than silently share the port.
    ("grpc.so_reuseport", 0),
]


@dataclass
class Sidecar:
    settings: Settings
    grpc_port: int = 0
    http_port: int = 0
    pipeline: Pipeline | None = None
    health: health_model.Readiness = field(default_factory=health_model.Readiness)
    _server: grpc.aio.Server | None = None
    _health: Any = None  # grpc_health's aio HealthServicer (untyped)
    _upstream: HttpUpstream | None = None
    _http: web.AppRunner | None = None
    _api: web.AppRunner | None = None
    api_port: int = 0
    _admin: web.AppRunner | None = None
    admin_port: int = 0
    _tls_files: tls.CertificateFiles | None = None
    _emulator: Any = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _cache: CacheStep | None = None
    webhooks: Webhooks | None = None
    _limiter: RateLimiter | None = None
    policy: PolicyHolder | None = None
    _policy_step: PolicyStep | None = None
    _watcher: PolicyWatcher | None = None
    _stores: Stores | None = None

    async def start(self) -> None:
        s = self.settings
        logs.redact(s.token.reveal())
        tracing.setup()
        self.health.relax(health_model.relaxed_for(s.readiness))
        # NOT_SERVING until everything below is up (the servicer starts out SERVING).
        self._health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        for name in ("", SERVICE_NAME, WEBHOOK_SERVICE_NAME):
            await self._health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        self.health.add_publisher(
            health_model.grpc_publisher(self._health, (SERVICE_NAME, WEBHOOK_SERVICE_NAME))
        )
        if s.demo:
            # First, so the upstream is the port the emulator really got (the flag may say 0).
            await self._start_emulator()
            s = self.settings
        stores = self._stores = Stores(s.redis_url, AppScope(s.token, s.upstream_url))
        self._start_policy()
        self.webhooks = Webhooks.create(s.webhooks, s.token, stores.url)
        self.webhooks.start()
        self.webhooks.relay(lambda: self.policy.current if self.policy else None)
        self._upstream = HttpUpstream(
            UpstreamSettings(
                base_url=s.upstream_url, token=s.token, request_timeout=s.request_timeout
            )
        )
        await self._upstream.start()
        self.health.set("upstream", True, "session ready")
        if stores.redis is not None:
            # The probe watches the client every Redis user of this sidecar shares.
            self._tasks.append(
                asyncio.create_task(
                    health_model.watch_redis(stores.redis, interval=s.redis_probe_interval)
                )
            )
        self._limiter = stores.limiter()
        self._limiter.start()  # the replica heartbeat, when replicas share Redis
        # The upstream, wrapped once by the rate limiter: the calls' attempts, the retrier's
        # lookups and the webhook sweep all send through it.
        attempts = Attempts(
            self._upstream, limiter=self._limiter, request_timeout=s.request_timeout
        )
        retrier = Retrier(budget=stores.retry_budget(), lookup=attempts.lookup)
        idempotency = IdempotencyStep(stores.idempotency())
        self._cache = stores.cache(s.cache)
        trace_links = self.webhooks.trace_links = stores.trace_links()
        reconciling = s.webhooks.reconcile_interval > 0
        self.pipeline = Pipeline(
            attempts,
            [self._cache, idempotency, retrier],
            identify=self._policy_step,
            after_success=[
                InvoiceCreated(trace_links, self.webhooks.event_log if reconciling else None)
            ],
        )
        if reconciling:
            holder = self.policy
            assert holder is not None
            self.webhooks.reconcile(attempts.send, lambda: holder.current)

        server = grpc.aio.server(
            options=GRPC_OPTIONS,
            maximum_concurrent_rpcs=s.max_concurrent_rpcs,
            interceptors=tracing.grpc_server_interceptors(),
        )
        # Its methods are made from the method table, which the stubs' type checker cannot see.
        service = CryptoPayService(  # type: ignore[abstract]
            self.pipeline, client_certificates=s.tls.mutual(tls.GRPC)
        )
        add_to_server(service, server)
        webhook_pb_grpc.add_WebhookServiceServicer_to_server(WebhookService(self.webhooks), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, WEBHOOK_SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME),
            server,
        )
        host, port = split_host_port(s.grpc_listen)
        address = f"{host}:{port}"
        if s.tls.on(tls.GRPC):
            credentials = tls.grpc_credentials(self._certificates(), s.tls.mutual(tls.GRPC))
            self.grpc_port = server.add_secure_port(address, credentials)
        else:
            self.grpc_port = server.add_insecure_port(address)
        await server.start()
        self._server = server

        await self._start_http_side()
        if self._emulator is not None:
            self._deliver_demo_webhooks()

        if self._watcher is not None:
            self._watcher.start()
        assert self.policy is not None
        self.health.started()
        await self.health.settle()
        verdict = self.health.verdict()
        log.info(
            "cryptopay-sidecar serving",
            extra={
                "grpc_listen": f"{host}:{self.grpc_port}",
                "http_listen": s.http_listen
                and f"{s.http_listen.rpartition(':')[0]}:{self.http_port}",
                "admin_listen": s.admin_listen
                and f"{s.admin_listen.rpartition(':')[0]}:{self.admin_port}",
                "api_listen": s.api_listen and f"{s.api_listen.rpartition(':')[0]}:{self.api_port}",
                "metrics": _metrics_where(s),
                "tls": s.tls.describe(),
                "upstream": s.upstream_url,
                "token_fingerprint": s.token.fingerprint(),
                "demo": s.demo,
                "policy": s.policy_path or "permissive default",
                "policy_hash": self.policy.current.hash,
                "redis": stores.describe(),
                "trace_exporter": tracing.exporter_in_use(),
                "log_level": s.log_level,
                "grace_seconds": s.grace_seconds,
                "shutdown_delay_seconds": s.shutdown_delay,
                "request_timeout_seconds": s.request_timeout,
                "ready": verdict.ready,
                "reason": verdict.reason,
                "rate_limits": self._limiter.describe(self.policy.current),
            },
        )

    def _certificates(self) -> tls.CertificateFiles:
        """The certificate files all TLS listeners share, loaded once (ConfigError if bad)."""
        if self._tls_files is None:
            try:
                self._tls_files = tls.CertificateFiles(self.settings.tls)
            except tls.TlsError as exc:
                raise ConfigError(f"TLS: {exc}") from None
        return self._tls_files

    def _ssl_context(self, listener: str) -> ssl.SSLContext | None:
        settings = self.settings.tls
        if not settings.on(listener):
            return None
        rotation = tls.ContextRotation(self._certificates(), settings.mutual(listener))
        return rotation.context

    async def _start_http_side(self) -> None:
        """The webhook listener (which an Ingress exposes), the admin listener (metrics, health,
        /policy, /admin: for the pod network) unless it shares the webhook listener, and the
        HTTP front."""
        s = self.settings
        assert self.webhooks is not None and self.pipeline is not None
        assert self._cache is not None
        admin: web.Application | None = None
        if s.http_listen:
            # With an admin listener, the webhook listener is the public one: it answers the
            # webhook path only, and points a misdirected probe, scrape or flush elsewhere.
            app = http_server.create_app(None if s.admin_listen else self.readiness)
            ingest_handler = ingest.handler(self.webhooks, body_timeout=s.http.body_timeout)
            http_server.add_routes(app, [web.post(s.webhooks.path, ingest_handler)])
            if s.admin_listen:
                for path in ADMIN_PATHS:
                    app.router.add_route("*", path, _elsewhere)
            else:
                admin = app
        if s.admin_listen:
            admin = http_server.create_app(self.readiness)
        if admin is not None:
            admin.router.add_get("/policy", self._policy_status)
            metrics.add_routes(admin)
            cache_admin.add_routes(admin, self._cache)
        if s.http_listen:
            host, port = split_host_port(s.http_listen)
            self._http = await http_server.start(
                app, host, port, s.http, self._ssl_context(tls.WEBHOOK)
            )
            self.http_port = _bound_port(self._http) or port
        if s.admin_listen:
            assert admin is not None
            host, port = split_host_port(s.admin_listen)
            self._admin = await http_server.start(
                admin, host, port, s.http, self._ssl_context(tls.ADMIN)
            )
            self.admin_port = _bound_port(self._admin) or port
        if s.api_listen:
            assert self.policy is not None
            front = ApiFront(self.pipeline, self.policy, client_certificates=s.tls.mutual(tls.API))
            api_app = http_server.create_app(self.readiness)
            api_app.add_routes(front.routes())
            host, port = split_host_port(s.api_listen)
            self._api = await http_server.start(
                api_app, host, port, s.http, self._ssl_context(tls.API)
            )
            self.api_port = _bound_port(self._api) or port

    def _lint_context(self) -> LintContext:
        # Demo mode counts spend caps in memory: one process, nothing to share.
        assert self._stores is not None
        return LintContext(redis=self._stores.shared or self.settings.demo)

    def _start_policy(self) -> None:
        """Loads the policy (refusing to start on errors) and builds the policy step."""
        s = self.settings
        if s.policy_path is None:
            snapshot = permissive()
            log.warning(
                "no --policy: the permissive default policy is active (any caller may call every "
                "RPC with any amount); for demos and local development only"
            )
        else:
            result = load(s.policy_path, self._lint_context())
            if result.snapshot is None:
                raise ConfigError(
                    f"the policy {s.policy_path} has errors:\n"
                    + "\n".join(f"  {p}" for p in result.errors)
                )
            snapshot = result.snapshot
            log_loaded(snapshot, result.problems, None)
        self.policy = PolicyHolder(snapshot)
        # Counters are per Crypto Pay app (the token's numeric prefix, which is not secret), so
        # several apps can share one Redis.
        assert self._stores is not None
        self._policy_step = PolicyStep(
            self.policy,
            self._stores.spend(),
            self._stores.scope.app_id,
            lease=s.spend_lease,
        )
        if s.policy_path is not None:
            self._watcher = PolicyWatcher(
                self.policy, s.policy_path, self._lint_context(), s.policy_poll_interval
            )

    async def reload_policy(self) -> bool:
        """Reloads the policy now (SIGHUP); True if a new policy became active."""
        if self._watcher is None:
            log.info("SIGHUP: no --policy to reload")
            return False
        return await self._watcher.reload()

    async def _policy_status(self, _request: web.Request) -> web.Response:
        assert self.policy is not None
        body = describe(self.policy.current)
        body["last_reload_error"] = self.policy.last_error
        return web.json_response(body)

    async def _start_emulator(self) -> None:
        from sidecar.emulator.config import EmulatorConfig
        from sidecar.emulator.runner import start_emulator

        host, port = split_host_port(self.settings.demo_emulator_listen)
        self._emulator = await start_emulator(EmulatorConfig(), host=host, port=port)
        self.settings = replace(self.settings, upstream_url=self._emulator.base_url)

    def _deliver_demo_webhooks(self) -> None:
        """The emulator delivers its signed webhooks to our own ingest, so the whole flow runs
        (its URL is known once the HTTP listener is bound)."""
        assert self._emulator is not None
        context = self._emulator.context
        webhook_url = self.webhook_url()
        context.config = replace(context.config, webhook_url=webhook_url)
        log.info(
            "demo mode: embedded Crypto Pay emulator",
            extra={"emulator_url": self._emulator.base_url, "webhook_url": webhook_url},
        )

    def webhook_url(self) -> str | None:
        """Where this sidecar receives webhooks, as seen from the same host."""
        if not self.settings.http_listen or not self.http_port:
            return None
        host, _ = split_host_port(self.settings.http_listen)
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.settings.tls.on(tls.WEBHOOK) else "http"
        return f"{scheme}://{host}:{self.http_port}{self.settings.webhooks.path}"

    def readiness(self) -> tuple[bool, str]:
        return self.health.probe()

    async def stop(self) -> None:
        # NOT_SERVING first, published before anything stops.
        await self.health.drain()
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        log.info(
            "draining",
            extra={
                "grace_seconds": self.settings.grace_seconds,
                "shutdown_delay_seconds": self.settings.shutdown_delay,
            },
        )
        if self.settings.shutdown_delay > 0 and self._server is not None:
            await asyncio.sleep(self.settings.shutdown_delay)
        if self.webhooks is not None:
            await self.webhooks.begin_shutdown()
        if self._server is not None:
            await self._server.stop(self.settings.grace_seconds)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._emulator is not None:
            await self._emulator.stop()
        for runner in (self._http, self._admin, self._api):
            if runner is not None:
                await runner.cleanup()
        if self._cache is not None:
            await self._cache.drain()
        if self._upstream is not None:
            await self._upstream.close()
        if self._watcher is not None:
            await self._watcher.stop()
        if self._limiter is not None:
            await self._limiter.close()
        if self._stores is not None:
            await self._stores.close()
            if self._stores.shared:
                # This process's Redis users stopped with it: their reports are stale now.
                health_model.clear_dependency("redis")
        if self.webhooks is not None:
            await self.webhooks.close()
        self.health.close()
        log.info("stopped")


# What the admin listener serves, refused on the webhook listener when the two are apart.
ADMIN_PATHS = ("/healthz", "/readyz", "/policy", metrics.METRICS_PATH, "/admin/{tail:.*}")


async def _elsewhere(_request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "not served on this listener: see the sidecar's --admin-listen"}, status=404
    )


def _metrics_where(s: Settings) -> str:
    if s.admin_listen:
        return f"{metrics.METRICS_PATH} on --admin-listen"
    return f"{metrics.METRICS_PATH} on --http-listen" if s.http_listen else "off"


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


async def serve(settings: Settings) -> None:
    """Runs until SIGTERM or SIGINT, then shuts down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sidecar = Sidecar(settings)
    reloads: set[asyncio.Task[bool]] = set()

    def on_sighup() -> None:
        task = asyncio.ensure_future(sidecar.reload_policy())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    try:
        await sidecar.start()
        # What start-up imported and built lives as long as the process: keep it out of the
        # cyclic GC's full collections, which would rescan it all (millisecond pauses at p99.9).
        gc.freeze()
        await stop.wait()
    finally:
        await sidecar.stop()
        # Off the event loop: exporters send synchronously.
        await asyncio.to_thread(tracing.shutdown)
