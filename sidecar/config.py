"""Sidecar settings from flags and environment variables (the token only from env or a file)."""

from __future__ import annotations

import argparse
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sidecar.http_limits import HttpLimits
from sidecar.secrets import Secret
from sidecar.webhooks.settings import DEFAULT_PATH, WebhookSettings

if TYPE_CHECKING:
    from sidecar.cache.config import CacheConfig

UPSTREAMS = {
    "mainnet": "https://pay.crypt.bot",
    "testnet": "https://testnet-pay.crypt.bot",
}
TOKEN_ENV = "CRYPTOPAY_API_TOKEN"
PREVIOUS_TOKEN_ENV = "CRYPTOPAY_PREVIOUS_API_TOKEN"
ENV_PREFIX = "CRYPTOPAY_SIDECAR_"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9]{35}$")
# A well-formed token the embedded emulator accepts; it is not a secret.
DEMO_TOKEN = "1000:" + "DemoTokenForLocalDevelopmentOnly000"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message tells the operator what to do."""


@dataclass(frozen=True)
class Settings:
    grpc_listen: str = "127.0.0.1:50051"
    http_listen: str | None = "127.0.0.1:8080"
    # The Crypto Pay-compatible HTTP front (/api/{method}); None: off.
    api_listen: str | None = None
    upstream_url: str = UPSTREAMS["mainnet"]
    token: Secret = field(default_factory=lambda: Secret(""))
    demo: bool = False
    demo_emulator_listen: str = "127.0.0.1:8090"
    policy_path: str | None = None
    policy_poll_interval: float = 1.0  # seconds between checks of the policy files; 0: SIGHUP only
    redis_url: Secret | None = None
    log_level: str = "info"
    log_format: str = "json"
    grace_seconds: float = 10.0
    # Seconds between reporting NOT_SERVING on SIGTERM and refusing new calls, so load
    # balancers and kube-proxy stop routing here first.
    shutdown_delay: float = 0.0
    request_timeout: float = 30.0
    # Seconds a spend reservation outlives a process that died before settling it.
    spend_lease: float = 900.0
    max_concurrent_rpcs: int = 1000
    redis_probe_interval: float = 1.0
    # strict: a required dependency down (Redis) makes the sidecar not ready; degraded: it stays
    # ready and reports degraded (sidecar mode, where readiness gates the application's pod).
    readiness: str = "strict"
    cache: CacheConfig | None = None  # used when the policy has no `cache` section; None: defaults
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    http: HttpLimits = field(default_factory=HttpLimits)


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grpc-listen",
        default=_env("GRPC_LISTEN", "127.0.0.1:50051"),
        help="host:port for the gRPC API (default %(default)s; env CRYPTOPAY_SIDECAR_GRPC_LISTEN)",
    )
    parser.add_argument(
        "--http-listen",
        default=_env("HTTP_LISTEN", "127.0.0.1:8080"),
        help="host:port for webhooks, /metrics, /healthz and /readyz; 'off' disables it "
        "(default %(default)s; env CRYPTOPAY_SIDECAR_HTTP_LISTEN)",
    )
    parser.add_argument(
        "--api-listen",
        default=_env("API_LISTEN", "off"),
        help="host:port of the Crypto Pay-compatible HTTP front (/api/{method}) for existing "
        "SDKs, with per-caller tokens from the policy; off by default "
        "(env CRYPTOPAY_SIDECAR_API_LISTEN)",
    )
    parser.add_argument(
        "--upstream",
        default=_env("UPSTREAM", "mainnet"),
        help="mainnet, testnet or a base URL such as http://127.0.0.1:8090 "
        "(default %(default)s; env CRYPTOPAY_SIDECAR_UPSTREAM)",
    )
    parser.add_argument(
        "--token-file",
        default=_env("TOKEN_FILE"),
        help=f"file holding the Crypto Pay API token (a mounted secret); otherwise ${TOKEN_ENV}",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run with an embedded Crypto Pay emulator and in-memory stores: no token, no Redis",
    )
    parser.add_argument(
        "--demo-emulator-listen",
        default="127.0.0.1:8090",
        help="host:port of the embedded emulator in --demo mode (default %(default)s)",
    )
    parser.add_argument(
        "--policy",
        default=_env("POLICY"),
        help="policy file or directory (env CRYPTOPAY_SIDECAR_POLICY); without it a permissive "
        "default policy for demos applies",
    )
    parser.add_argument(
        "--policy-poll-interval",
        type=float,
        default=float(_env("POLICY_POLL_INTERVAL", "1") or 1),
        help="seconds between checks of the policy files for changes; 0 reloads on SIGHUP only "
        "(default %(default)s; env CRYPTOPAY_SIDECAR_POLICY_POLL_INTERVAL)",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="redis://, rediss:// or redis+sentinel:// URL (env CRYPTOPAY_SIDECAR_REDIS_URL)",
    )
    parser.add_argument(
        "--readiness",
        default=_env("READINESS", "strict"),
        choices=["strict", "degraded"],
        help="strict: not ready while Redis is down (gateway mode); degraded: stay ready, report "
        "degraded in /readyz, metrics and the API services' gRPC health (sidecar mode, so a "
        "Redis outage does not take the application's pod out of its Service) "
        "(default %(default)s; env CRYPTOPAY_SIDECAR_READINESS)",
    )
    parser.add_argument(
        "--log-level",
        default=_env("LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
        help="debug adds a line per RPC and per refused upstream parameter "
        "(default %(default)s; env CRYPTOPAY_SIDECAR_LOG_LEVEL)",
    )
    parser.add_argument(
        "--log-format",
        default=_env("LOG_FORMAT", "json"),
        choices=["json", "text"],
        help="json: one object per line, with trace_id and span_id; text: readable, for local "
        "use (default %(default)s; env CRYPTOPAY_SIDECAR_LOG_FORMAT)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=float(_env("GRACE_SECONDS", "10") or 10),
        help="seconds to finish in-flight calls on SIGTERM (default %(default)s)",
    )
    parser.add_argument(
        "--shutdown-delay",
        type=float,
        default=float(_env("SHUTDOWN_DELAY_SECONDS", "0") or 0),
        help="seconds to keep serving after SIGTERM while reporting NOT_SERVING, before "
        "refusing new calls, for load balancers that follow health checks (default "
        "%(default)s; env CRYPTOPAY_SIDECAR_SHUTDOWN_DELAY_SECONDS)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=float(_env("REQUEST_TIMEOUT", "30") or 30),
        help="upper bound of one upstream attempt, in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--spend-lease",
        type=float,
        default=_number("SPEND_LEASE", 900.0),
        help="seconds after which a spend reservation that was never settled (its process died) "
        "stops counting against its cap; calls holding one end before it (default %(default)s; "
        "env CRYPTOPAY_SIDECAR_SPEND_LEASE)",
    )
    add_webhook_arguments(parser)
    add_http_arguments(parser)


def add_http_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("HTTP side: slow and excess clients (docs/webhooks.md)")
    defaults = HttpLimits()
    group.add_argument(
        "--http-header-timeout",
        type=float,
        default=_number("HTTP_HEADER_TIMEOUT", defaults.header_timeout),
        metavar="SECONDS",
        help="close a connection whose request head is not complete this long after its first "
        "byte (default %(default)s; env CRYPTOPAY_SIDECAR_HTTP_HEADER_TIMEOUT)",
    )
    group.add_argument(
        "--http-body-timeout",
        type=float,
        default=_number("HTTP_BODY_TIMEOUT", defaults.body_timeout),
        metavar="SECONDS",
        help="answer 408 to a webhook whose body takes longer to arrive (default %(default)s; "
        "env CRYPTOPAY_SIDECAR_HTTP_BODY_TIMEOUT)",
    )
    group.add_argument(
        "--http-idle-timeout",
        type=float,
        default=_number("HTTP_IDLE_TIMEOUT", defaults.idle_timeout),
        metavar="SECONDS",
        help="close a kept-alive connection idle this long (default %(default)s; "
        "env CRYPTOPAY_SIDECAR_HTTP_IDLE_TIMEOUT)",
    )
    group.add_argument(
        "--http-max-connections",
        type=int,
        default=int(_number("HTTP_MAX_CONNECTIONS", defaults.max_connections)),
        metavar="N",
        help="open HTTP connections at most (default %(default)s; "
        "env CRYPTOPAY_SIDECAR_HTTP_MAX_CONNECTIONS)",
    )


def http_limits_from_args(args: argparse.Namespace) -> HttpLimits:
    limits = HttpLimits(
        header_timeout=args.http_header_timeout,
        body_timeout=args.http_body_timeout,
        idle_timeout=args.http_idle_timeout,
        max_connections=args.http_max_connections,
    )
    checks = {
        "--http-header-timeout": limits.header_timeout > 0,
        "--http-body-timeout": limits.body_timeout > 0,
        "--http-idle-timeout": limits.idle_timeout > 0,
        "--http-max-connections": limits.max_connections >= 1,
    }
    bad = [flag for flag, ok in checks.items() if not ok]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: out of range (see --help)")
    return limits


def _number(name: str, default: float) -> float:
    return float(_env(name, str(default)) or default)


def add_webhook_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("webhooks (docs/webhooks.md)")
    group.add_argument(
        "--webhook-path",
        default=_env("WEBHOOK_PATH", DEFAULT_PATH),
        help="POST path of the webhook endpoint on --http-listen; may end in a secret segment "
        "(default %(default)s; env CRYPTOPAY_SIDECAR_WEBHOOK_PATH, which keeps it out of ps)",
    )
    group.add_argument(
        "--previous-token-file",
        default=_env("PREVIOUS_TOKEN_FILE"),
        help="file with the previous API token, whose signatures are still accepted during a "
        f"token rotation; otherwise ${PREVIOUS_TOKEN_ENV} if set",
    )
    group.add_argument(
        "--webhook-freshness",
        type=float,
        default=_number("WEBHOOK_FRESHNESS", 86400),
        metavar="SECONDS",
        help="refuse updates whose request_date is older than this (default %(default)s)",
    )
    group.add_argument(
        "--webhook-clock-skew",
        type=float,
        default=_number("WEBHOOK_CLOCK_SKEW", 300),
        metavar="SECONDS",
        help="refuse updates whose request_date is further ahead than this (default %(default)s)",
    )
    group.add_argument(
        "--webhook-body-limit",
        type=int,
        default=int(_number("WEBHOOK_BODY_LIMIT", 65536)),
        metavar="BYTES",
        help="larger bodies get 413 (default %(default)s)",
    )
    group.add_argument(
        "--webhook-retention",
        type=int,
        default=int(_number("WEBHOOK_RETENTION", 100_000)),
        metavar="EVENTS",
        help="events kept for subscribers to resume from (default %(default)s)",
    )
    group.add_argument(
        "--webhook-dedupe-ttl",
        type=float,
        default=_number("WEBHOOK_DEDUPE_TTL", 0),
        metavar="SECONDS",
        help="how long an invoice's update is remembered as seen; never less than freshness + "
        "clock skew (default: that minimum)",
    )
    group.add_argument(
        "--webhook-visibility-timeout",
        type=float,
        default=_number("WEBHOOK_VISIBILITY_TIMEOUT", 30),
        metavar="SECONDS",
        help="consumer groups: time to acknowledge an event before it is delivered again "
        "(default %(default)s)",
    )
    group.add_argument(
        "--webhook-subscriber-buffer",
        type=int,
        default=int(_number("WEBHOOK_SUBSCRIBER_BUFFER", 256)),
        metavar="EVENTS",
        help="events buffered per live subscriber; a slower one reads from the log instead "
        "(default %(default)s)",
    )
    group.add_argument(
        "--webhook-namespace",
        default=_env("WEBHOOK_NAMESPACE", ""),
        help="Redis key namespace of the event log (default cryptopay:webhooks:<app id>)",
    )
    group.add_argument(
        "--webhook-reconcile-interval",
        type=float,
        default=_number("WEBHOOK_RECONCILE_INTERVAL", 0),
        metavar="SECONDS",
        help="poll getInvoices this often about invoices created through the sidecar, and "
        "publish a synthetic event for a paid one whose webhook did not arrive; 0 disables "
        "(default %(default)s)",
    )
    group.add_argument(
        "--webhook-reconcile-grace",
        type=float,
        default=_number("WEBHOOK_RECONCILE_GRACE", 60),
        metavar="SECONDS",
        help="how long after an invoice is paid its webhook may still arrive before the sweep "
        "publishes a synthetic event (default %(default)s)",
    )


def read_previous_token(token_file: str | None) -> Secret | None:
    if token_file:
        try:
            value = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read --previous-token-file {token_file}: {exc.strerror}"
            ) from None
        source = f"--previous-token-file {token_file}"
    else:
        value = os.environ.get(PREVIOUS_TOKEN_ENV, "").strip()
        source = f"${PREVIOUS_TOKEN_ENV}"
        if not value:
            return None
    if not TOKEN_PATTERN.match(value):
        raise ConfigError(
            f"the token from {source} is not of the form <app id>:<35 letters and digits>"
        )
    return Secret(value)


def webhook_settings_from_args(args: argparse.Namespace, demo: bool) -> WebhookSettings:
    path = args.webhook_path
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise ConfigError(f"--webhook-path must be a URL path starting with /, got {path!r}")
    settings = WebhookSettings(
        path=path,
        previous_token=None if demo else read_previous_token(args.previous_token_file),
        freshness=args.webhook_freshness,
        clock_skew=args.webhook_clock_skew,
        body_limit=args.webhook_body_limit,
        retention=args.webhook_retention,
        dedupe_ttl=args.webhook_dedupe_ttl,
        visibility_timeout=args.webhook_visibility_timeout,
        subscriber_buffer=args.webhook_subscriber_buffer,
        namespace=args.webhook_namespace,
        reconcile_interval=args.webhook_reconcile_interval,
        reconcile_grace=args.webhook_reconcile_grace,
    )
    checks = {
        "--webhook-freshness": settings.freshness > 0,
        "--webhook-clock-skew": settings.clock_skew >= 0,
        "--webhook-body-limit": settings.body_limit >= 1024,
        "--webhook-retention": settings.retention >= 1,
        "--webhook-dedupe-ttl": settings.dedupe_ttl >= 0,
        "--webhook-visibility-timeout": 1 <= settings.visibility_timeout <= 12 * 3600,
        "--webhook-subscriber-buffer": settings.subscriber_buffer >= 1,
        "--webhook-reconcile-interval": settings.reconcile_interval >= 0,
        "--webhook-reconcile-grace": settings.reconcile_grace >= 0,
    }
    bad = [flag for flag, ok in checks.items() if not ok]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: out of range (see --help)")
    return settings


def resolve_upstream(value: str) -> str:
    if value in UPSTREAMS:
        return UPSTREAMS[value]
    if re.match(r"^https?://[^/\s]+", value):
        return value.rstrip("/")
    raise ConfigError(f"--upstream must be mainnet, testnet or an http(s) base URL, got {value!r}")


def read_token(token_file: str | None) -> Secret:
    if token_file:
        path = Path(token_file)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read --token-file {token_file}: {exc.strerror}") from None
        source = f"--token-file {token_file}"
    else:
        value = os.environ.get(TOKEN_ENV, "").strip()
        source = f"${TOKEN_ENV}"
    if not value:
        raise ConfigError(
            f"no Crypto Pay API token: set ${TOKEN_ENV} or --token-file "
            "(or run with --demo to use the embedded emulator)"
        )
    if not TOKEN_PATTERN.match(value):
        # Never echo the value: it may be a real token with a typo.
        raise ConfigError(
            f"the token from {source} is not of the form <app id>:<35 letters and digits>"
        )
    return Secret(value)


def settings_from_args(args: argparse.Namespace) -> Settings:
    http_listen = None if args.http_listen in ("", "off", "none") else args.http_listen
    if args.shutdown_delay < 0 or args.grace < 0:
        raise ConfigError("--shutdown-delay and --grace must be 0 or more seconds")
    if not (math.isfinite(args.spend_lease) and args.spend_lease >= 1):
        raise ConfigError("--spend-lease must be at least 1 second (default 900)")
    redis_url = args.redis_url or _env("REDIS_URL")
    if args.demo:
        token = Secret(DEMO_TOKEN)
        upstream = f"http://{args.demo_emulator_listen}"
    else:
        upstream = resolve_upstream(args.upstream)
        token = read_token(args.token_file)
    return Settings(
        grpc_listen=args.grpc_listen,
        http_listen=http_listen,
        api_listen=None if args.api_listen in ("", "off", "none") else args.api_listen,
        upstream_url=upstream,
        token=token,
        demo=args.demo,
        demo_emulator_listen=args.demo_emulator_listen,
        policy_path=args.policy,
        policy_poll_interval=args.policy_poll_interval,
        redis_url=Secret(redis_url) if redis_url else None,
        log_level=args.log_level,
        log_format=args.log_format,
        grace_seconds=args.grace,
        shutdown_delay=args.shutdown_delay,
        request_timeout=args.request_timeout,
        spend_lease=args.spend_lease,
        readiness=args.readiness,
        webhooks=webhook_settings_from_args(args, args.demo),
        http=http_limits_from_args(args),
    )


def split_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"expected host:port, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)
