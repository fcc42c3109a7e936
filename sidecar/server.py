"""Runs the sidecar: starts the assembled parts (`assembly.py`), serves gRPC and the HTTP side,
and stops it all in reverse.

Start-up pushes each part onto one `AsyncExitStack` as it starts, so a failed start stops what
had started, and shutdown is the stack unwound: health goes NOT_SERVING first (gRPC health and
/readyz), new calls are still served for --shutdown-delay seconds while load balancers notice,
then webhook subscriptions end (clients resume elsewhere), in-flight calls finish within the
grace period, then the demo emulator, the HTTP side (webhook ingest), the Redis probe, the
cache's refreshes, the upstream session, the policy watcher, the rate limiter, the stores and
the event log.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from sidecar.assembly import Assembly, assemble
from sidecar.cache import admin as cache_admin
from sidecar.config import ConfigError, Settings, split_host_port
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as webhook_pb
from sidecar.gen.cryptopay.v1 import webhook_service_pb2_grpc as webhook_pb_grpc
from sidecar.pipeline import Pipeline
from sidecar.policy.reload import PolicyHolder, describe
from sidecar.service import CryptoPayService, add_to_server
from sidecar.stores import Stores
from sidecar.tasks import stop_task
from sidecar.telemetry import health as health_model
from sidecar.telemetry import metrics, tracing
from sidecar.webhooks import ingest
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
    """The running process: `start()` starts the assembled parts, each pushed onto one exit
    stack, and `stop()` (or a failed start) unwinds it in reverse."""

    settings: Settings
    grpc_port: int = 0
    http_port: int = 0
    admin_port: int = 0
    api_port: int = 0
    health: health_model.Readiness = field(default_factory=health_model.Readiness)
    parts: Assembly | None = None
    _health: Any = None  # grpc_health's aio HealthServicer (untyped)
    _http: web.AppRunner | None = None
    _tls_files: tls.CertificateFiles | None = None
    _emulator: Any = None
    _stack: contextlib.AsyncExitStack | None = None

    @property
    def pipeline(self) -> Pipeline | None:
        return self.parts.pipeline if self.parts else None

    @property
    def policy(self) -> PolicyHolder | None:
        return self.parts.policy if self.parts else None

    @property
    def webhooks(self) -> Webhooks | None:
        return self.parts.webhooks if self.parts else None

    async def start(self) -> None:
        """Starts everything; on failure, stops what had started and raises."""
        async with contextlib.AsyncExitStack() as stack:
            await self._start(stack)
            self._stack = stack.pop_all()

    async def stop(self) -> None:
        if self._stack is None:
            return
        stack, self._stack = self._stack, None
        await stack.aclose()
        log.info("stopped")

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        # Pushed in start-up order; the stack stops them in reverse (see the module docstring).
        s = self.settings
        logs.redact(s.token.reveal())
        tracing.setup()
        self.health.relax(health_model.relaxed_for(s.readiness))
        stack.callback(self.health.close)
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
        parts = self.parts = assemble(s)
        stack.push_async_callback(parts.webhooks.close)
        stack.push_async_callback(self._close_stores, parts.stores)
        parts.webhooks.start()
        # Also pushed before the gRPC server's stop below; here, for a start-up that fails.
        stack.push_async_callback(parts.webhooks.begin_shutdown)
        parts.webhooks.relay(lambda: parts.policy.current)
        # The sweep sends through the rate-limited upstream, under the active policy.
        parts.webhooks.reconcile(parts.attempts.send, lambda: parts.policy.current)
        stack.push_async_callback(parts.limiter.close)
        parts.limiter.start()  # the replica heartbeat, when replicas share Redis
        if parts.watcher is not None:
            stack.push_async_callback(parts.watcher.stop)
        stack.push_async_callback(parts.upstream.close)
        await parts.upstream.start()
        self.health.set("upstream", True, "session ready")
        stack.push_async_callback(parts.cache.drain)
        redis = parts.stores.redis
        if redis is not None:
            # The probe watches the client every Redis user of this sidecar shares.
            probe = asyncio.create_task(
                health_model.watch_redis(redis, interval=s.redis_probe_interval)
            )
            stack.push_async_callback(stop_task, probe)

        # The HTTP side before the gRPC port, so that it stops after the gRPC server: in-flight
        # calls may still need webhooks ingested while they finish.
        await self._start_http_side(stack, parts)
        if self._emulator is not None:
            # Stopped before the HTTP side, so it delivers nothing to a closed listener.
            stack.push_async_callback(self._emulator.stop)
            self._deliver_demo_webhooks()
        server = self._grpc_server(parts)
        await server.start()
        stack.push_async_callback(server.stop, s.grace_seconds)
        # Subscriptions end before the server's grace period (clients resume elsewhere); a second
        # begin_shutdown is a no-op.
        stack.push_async_callback(parts.webhooks.begin_shutdown)

        if parts.watcher is not None:
            parts.watcher.start()
        self.health.started()
        await self.health.settle()
        # Last pushed, first run: NOT_SERVING before anything stops.
        stack.push_async_callback(self._drain)
        self._log_serving(parts)

    def _grpc_server(self, parts: Assembly) -> grpc.aio.Server:
        s = self.settings
        server = grpc.aio.server(
            options=GRPC_OPTIONS,
            maximum_concurrent_rpcs=s.max_concurrent_rpcs,
            interceptors=tracing.grpc_server_interceptors(),
        )
        # Its methods are made from the method table, which the stubs' type checker cannot see.
        service = CryptoPayService(  # type: ignore[abstract]
            parts.pipeline, client_certificates=s.tls.mutual(tls.GRPC)
        )
        add_to_server(service, server)
        webhook_pb_grpc.add_WebhookServiceServicer_to_server(WebhookService(parts.webhooks), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, WEBHOOK_SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME),
            server,
        )
        host, port = split_host_port(s.grpc_listen)
        address = f"{host}:{port}"
        # A port that cannot be bound raises RuntimeError here, and start-up unwinds.
        if s.tls.on(tls.GRPC):
            credentials = tls.grpc_credentials(self._certificates(), s.tls.mutual(tls.GRPC))
            self.grpc_port = server.add_secure_port(address, credentials)
        else:
            self.grpc_port = server.add_insecure_port(address)
        return server

    def _log_serving(self, parts: Assembly) -> None:
        s = self.settings
        verdict = self.health.verdict()
        host, _ = split_host_port(s.grpc_listen)
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
                "policy_hash": parts.policy.current.hash,
                "redis": parts.stores.describe(),
                "trace_exporter": tracing.exporter_in_use(),
                "log_level": s.log_level,
                "grace_seconds": s.grace_seconds,
                "shutdown_delay_seconds": s.shutdown_delay,
                "request_timeout_seconds": s.request_timeout,
                "ready": verdict.ready,
                "reason": verdict.reason,
                "rate_limits": parts.limiter.describe(parts.policy.current),
            },
        )

    async def _drain(self) -> None:
        # NOT_SERVING first, published before anything stops.
        await self.health.drain()
        await self._health.enter_graceful_shutdown()
        log.info(
            "draining",
            extra={
                "grace_seconds": self.settings.grace_seconds,
                "shutdown_delay_seconds": self.settings.shutdown_delay,
            },
        )
        if self.settings.shutdown_delay > 0:
            await asyncio.sleep(self.settings.shutdown_delay)

    @staticmethod
    async def _close_stores(stores: Stores) -> None:
        await stores.close()
        if stores.shared:
            # This process's Redis users stopped with it: their reports are stale now.
            health_model.clear_dependency("redis")

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

    async def _start_http_side(self, stack: contextlib.AsyncExitStack, parts: Assembly) -> None:
        """The webhook listener (which an Ingress exposes), the admin listener (metrics, health,
        /policy, /admin: for the pod network) unless it shares the webhook listener, and the
        HTTP front."""
        s = self.settings
        admin: web.Application | None = None
        if s.http_listen:
            # With an admin listener, the webhook listener is the public one: it answers the
            # webhook path only, and points a misdirected probe, scrape or flush elsewhere.
            app = http_server.create_app(None if s.admin_listen else self.readiness)
            ingest_handler = ingest.handler(parts.webhooks, body_timeout=s.http.body_timeout)
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
            cache_admin.add_routes(admin, parts.cache)
        if s.http_listen:
            self._http, self.http_port = await self._serve_http(
                stack, app, s.http_listen, tls.WEBHOOK
            )
        if s.admin_listen:
            assert admin is not None
            _, self.admin_port = await self._serve_http(stack, admin, s.admin_listen, tls.ADMIN)
        if s.api_listen:
            front = ApiFront(
                parts.pipeline, parts.policy, client_certificates=s.tls.mutual(tls.API)
            )
            api_app = http_server.create_app(self.readiness)
            api_app.add_routes(front.routes())
            _, self.api_port = await self._serve_http(stack, api_app, s.api_listen, tls.API)

    async def _serve_http(
        self, stack: contextlib.AsyncExitStack, app: web.Application, listen: str, listener: str
    ) -> tuple[web.AppRunner, int]:
        """Starts one HTTP listener (stopped by the stack); returns it and its bound port."""
        host, port = split_host_port(listen)
        runner = await http_server.start(
            app, host, port, self.settings.http, self._ssl_context(listener)
        )
        stack.push_async_callback(runner.cleanup)
        return runner, _bound_port(runner) or port

    async def reload_policy(self) -> bool:
        """Reloads the policy now (SIGHUP); True if a new policy became active."""
        if self.parts is None or self.parts.watcher is None:
            log.info("SIGHUP: no --policy to reload")
            return False
        return await self.parts.watcher.reload()

    async def _policy_status(self, _request: web.Request) -> web.Response:
        assert self.parts is not None
        body = describe(self.parts.policy.current)
        body["last_reload_error"] = self.parts.policy.last_error
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
