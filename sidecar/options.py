"""The process options of `cryptopay-sidecar serve`, each declared once.

An option is a flag, an environment variable, a default, a range check and the field of
`Settings` it fills. `sidecar/config.py` builds the argument parser and `Settings` from this
table, the settings dataclasses take their defaults from it, and tests/unit/test_options.py holds
the flag tables in README.md and docs/ to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ENV_PREFIX = "CRYPTOPAY_SIDECAR_"
TOKEN_ENV = "CRYPTOPAY_API_TOKEN"
PREVIOUS_TOKEN_ENV = "CRYPTOPAY_PREVIOUS_API_TOKEN"
OUT_OF_RANGE = "out of range (see --help)"

WEBHOOKS = "webhooks (docs/webhooks.md)"
HTTP = "HTTP side: slow and excess clients (docs/webhooks.md)"
TLS = "transport security (docs/security.md)"


@dataclass(frozen=True)
class Option(Generic[T]):
    flag: str
    default: T
    help: str
    # The variable's name after ENV_PREFIX; None: a flag only.
    env: str | None = None
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    # The argparse group it is listed under; "": the command's own options.
    group: str = ""
    # The Settings field it fills ("webhooks.freshness": a field of Settings.webhooks); "":
    # sidecar/config.py derives the setting from it (a token read from a file, "off" as None).
    field: str = ""
    # A value outside the range is a ConfigError naming the flag and `problem`.
    check: Callable[[Any], bool] | None = None
    problem: str = OUT_OF_RANGE
    # Shown as the default in --help when the default is derived rather than a value.
    shown_default: str | None = None
    # A secret: its variable is read when Settings are built, so --help never shows it.
    secret: bool = False
    switch: bool = False

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def env_name(self) -> str | None:
        return None if self.env is None else ENV_PREFIX + self.env


def _at_least(bound: float) -> Callable[[float], bool]:
    return lambda value: value >= bound


def _positive(value: float) -> bool:
    return value > 0


GRPC_LISTEN = Option(
    "--grpc-listen",
    "127.0.0.1:50051",
    "host:port for the gRPC API",
    env="GRPC_LISTEN",
    field="grpc_listen",
)
HTTP_LISTEN = Option(
    "--http-listen",
    "127.0.0.1:8080",
    "host:port for webhooks, /metrics, /healthz and /readyz; 'off' disables it",
    env="HTTP_LISTEN",
)
API_LISTEN = Option(
    "--api-listen",
    "off",
    "host:port of the Crypto Pay-compatible HTTP front (/api/{method}) for existing SDKs, with "
    "per-caller tokens from the policy",
    env="API_LISTEN",
)
ADMIN_LISTEN = Option(
    "--admin-listen",
    "",
    "host:port of a separate listener for /metrics, /healthz, /readyz, /policy and /admin; "
    "then --http-listen serves webhooks only. Empty: all of them on --http-listen",
    env="ADMIN_LISTEN",
    shown_default="empty",
)
UPSTREAM = Option(
    "--upstream",
    "mainnet",
    "mainnet, testnet or a base URL such as http://127.0.0.1:8090",
    env="UPSTREAM",
)
TOKEN_FILE = Option[str | None](
    "--token-file",
    None,
    f"file holding the Crypto Pay API token (a mounted secret); otherwise ${TOKEN_ENV}",
    env="TOKEN_FILE",
)
DEMO = Option(
    "--demo",
    False,
    "run with an embedded Crypto Pay emulator and in-memory stores: no token, no Redis",
    field="demo",
    switch=True,
)
DEMO_EMULATOR_LISTEN = Option(
    "--demo-emulator-listen",
    "127.0.0.1:8090",
    "host:port of the embedded emulator in --demo mode",
    field="demo_emulator_listen",
)
POLICY = Option[str | None](
    "--policy",
    None,
    "policy file or directory; without it a permissive default policy for demos applies",
    env="POLICY",
    field="policy_path",
)
POLICY_POLL_INTERVAL = Option(
    "--policy-poll-interval",
    1.0,
    "seconds between checks of the policy files for changes; 0 reloads on SIGHUP only",
    env="POLICY_POLL_INTERVAL",
    parse=float,
    field="policy_poll_interval",
)
REDIS_URL = Option[str | None](
    "--redis-url",
    None,
    "redis://, rediss://, redis+sentinel:// or redis+cluster:// URL",
    env="REDIS_URL",
    secret=True,
)
READINESS = Option(
    "--readiness",
    "strict",
    "strict: not ready while Redis is down (gateway mode); degraded: stay ready, report degraded "
    "in /readyz, metrics and the API services' gRPC health (sidecar mode, so a Redis outage "
    "does not take the application's pod out of its Service)",
    env="READINESS",
    choices=("strict", "degraded"),
    field="readiness",
)
LOG_LEVEL = Option(
    "--log-level",
    "info",
    "debug adds a line per RPC and per refused upstream parameter",
    env="LOG_LEVEL",
    choices=("debug", "info", "warning", "error"),
    field="log_level",
)
LOG_FORMAT = Option(
    "--log-format",
    "json",
    "json: one object per line, with trace_id and span_id; text: readable, for local use",
    env="LOG_FORMAT",
    choices=("json", "text"),
    field="log_format",
)
GRACE = Option(
    "--grace",
    10.0,
    "seconds to finish in-flight calls on SIGTERM",
    env="GRACE_SECONDS",
    parse=float,
    field="grace_seconds",
    check=_at_least(0),
    problem="must be 0 or more seconds",
)
SHUTDOWN_DELAY = Option(
    "--shutdown-delay",
    0.0,
    "seconds to keep serving after SIGTERM while reporting NOT_SERVING, before refusing new "
    "calls, for load balancers that follow health checks",
    env="SHUTDOWN_DELAY_SECONDS",
    parse=float,
    field="shutdown_delay",
    check=_at_least(0),
    problem="must be 0 or more seconds",
)
REQUEST_TIMEOUT = Option(
    "--request-timeout",
    30.0,
    "upper bound of one upstream attempt, in seconds",
    env="REQUEST_TIMEOUT",
    parse=float,
    field="request_timeout",
)
SPEND_LEASE = Option(
    "--spend-lease",
    900.0,
    "seconds after which a spend reservation that was never settled (its process died) stops "
    "counting against its cap; calls holding one end before it",
    env="SPEND_LEASE",
    parse=float,
    field="spend_lease",
    check=lambda value: math.isfinite(value) and value >= 1,
    problem="must be at least 1 second (default 900)",
)

WEBHOOK_PATH = Option(
    "--webhook-path",
    "/webhooks/cryptopay",
    "POST path of the webhook endpoint on --http-listen; may end in a secret segment (the "
    "environment variable keeps it out of ps)",
    env="WEBHOOK_PATH",
    group=WEBHOOKS,
    field="webhooks.path",
)
PREVIOUS_TOKEN_FILE = Option[str | None](
    "--previous-token-file",
    None,
    "file with the previous API token, whose signatures are still accepted during a token "
    f"rotation; otherwise ${PREVIOUS_TOKEN_ENV} if set",
    env="PREVIOUS_TOKEN_FILE",
    group=WEBHOOKS,
)
WEBHOOK_FRESHNESS = Option(
    "--webhook-freshness",
    24 * 3600.0,
    "refuse updates whose request_date is older than this",
    env="WEBHOOK_FRESHNESS",
    parse=float,
    metavar="SECONDS",
    group=WEBHOOKS,
    field="webhooks.freshness",
    check=_positive,
)
WEBHOOK_CLOCK_SKEW = Option(
    "--webhook-clock-skew",
    300.0,
    "refuse updates whose request_date is further ahead than this",
    env="WEBHOOK_CLOCK_SKEW",
    parse=float,
    metavar="SECONDS",
    group=WEBHOOKS,
    field="webhooks.clock_skew",
    check=_at_least(0),
)
WEBHOOK_BODY_LIMIT = Option(
    "--webhook-body-limit",
    64 * 1024,
    "larger bodies get 413",
    env="WEBHOOK_BODY_LIMIT",
    parse=int,
    metavar="BYTES",
    group=WEBHOOKS,
    field="webhooks.body_limit",
    check=_at_least(1024),
)
WEBHOOK_RETENTION = Option(
    "--webhook-retention",
    100_000,
    "events kept for subscribers to resume from",
    env="WEBHOOK_RETENTION",
    parse=int,
    metavar="EVENTS",
    group=WEBHOOKS,
    field="webhooks.retention",
    check=_at_least(1),
)
WEBHOOK_DEDUPE_TTL = Option(
    "--webhook-dedupe-ttl",
    0.0,
    "how long an invoice's update is remembered as seen; never less than freshness + clock skew",
    env="WEBHOOK_DEDUPE_TTL",
    parse=float,
    metavar="SECONDS",
    group=WEBHOOKS,
    field="webhooks.dedupe_ttl",
    check=_at_least(0),
    shown_default="that minimum",
)
WEBHOOK_VISIBILITY_TIMEOUT = Option(
    "--webhook-visibility-timeout",
    30.0,
    "consumer groups: time to acknowledge an event before it is delivered again",
    env="WEBHOOK_VISIBILITY_TIMEOUT",
    parse=float,
    metavar="SECONDS",
    group=WEBHOOKS,
    field="webhooks.visibility_timeout",
    check=lambda value: 1 <= value <= 12 * 3600,
)
WEBHOOK_SUBSCRIBER_BUFFER = Option(
    "--webhook-subscriber-buffer",
    256,
    "events buffered per live subscriber; a slower one reads from the log instead",
    env="WEBHOOK_SUBSCRIBER_BUFFER",
    parse=int,
    metavar="EVENTS",
    group=WEBHOOKS,
    field="webhooks.subscriber_buffer",
    check=_at_least(1),
)
WEBHOOK_NAMESPACE = Option(
    "--webhook-namespace",
    "",
    "Redis key namespace of the event log",
    env="WEBHOOK_NAMESPACE",
    group=WEBHOOKS,
    field="webhooks.namespace",
    shown_default="cryptopay:webhooks:<app id>",
)
WEBHOOK_RECONCILE_INTERVAL = Option(
    "--webhook-reconcile-interval",
    0.0,
    "poll getInvoices this often about invoices created through the sidecar, and publish a "
    "synthetic event for a paid one whose webhook did not arrive; 0 disables",
    env="WEBHOOK_RECONCILE_INTERVAL",
    parse=float,
    metavar="SECONDS",
    group=WEBHOOKS,
    field="webhooks.reconcile_interval",
    check=_at_least(0),
)
WEBHOOK_RECONCILE_GRACE = Option(
    "--webhook-reconcile-grace",
    60.0,
    "how long after an invoice is paid its webhook may still arrive before the sweep publishes "
    "a synthetic event",
    env="WEBHOOK_RECONCILE_GRACE",
    parse=float,
    metavar="SECONDS",
    group=WEBHOOKS,
    field="webhooks.reconcile_grace",
    check=_at_least(0),
)

HTTP_HEADER_TIMEOUT = Option(
    "--http-header-timeout",
    10.0,
    "close a connection whose request head is not complete this long after its first byte",
    env="HTTP_HEADER_TIMEOUT",
    parse=float,
    metavar="SECONDS",
    group=HTTP,
    field="http.header_timeout",
    check=_positive,
)
HTTP_BODY_TIMEOUT = Option(
    "--http-body-timeout",
    10.0,
    "answer 408 to a webhook whose body takes longer to arrive",
    env="HTTP_BODY_TIMEOUT",
    parse=float,
    metavar="SECONDS",
    group=HTTP,
    field="http.body_timeout",
    check=_positive,
)
HTTP_IDLE_TIMEOUT = Option(
    "--http-idle-timeout",
    75.0,
    "close a kept-alive connection idle this long",
    env="HTTP_IDLE_TIMEOUT",
    parse=float,
    metavar="SECONDS",
    group=HTTP,
    field="http.idle_timeout",
    check=_positive,
)
HTTP_MAX_CONNECTIONS = Option(
    "--http-max-connections",
    1024,
    "open HTTP connections at most",
    env="HTTP_MAX_CONNECTIONS",
    parse=int,
    metavar="N",
    group=HTTP,
    field="http.max_connections",
    check=_at_least(1),
)

TLS_CERT = Option[str | None](
    "--tls-cert",
    None,
    "PEM certificate (chain) the listeners named by --tls-listeners serve; re-read when the "
    "file changes",
    env="TLS_CERT",
    metavar="PATH",
    group=TLS,
)
TLS_KEY = Option[str | None](
    "--tls-key",
    None,
    "PEM private key of --tls-cert",
    env="TLS_KEY",
    metavar="PATH",
    group=TLS,
)
TLS_CLIENT_CA = Option[str | None](
    "--tls-client-ca",
    None,
    "PEM CA bundle: require client certificates it signed on the gRPC and API listeners (mTLS), "
    "and let the policy identify callers by them",
    env="TLS_CLIENT_CA",
    metavar="PATH",
    group=TLS,
)
TLS_LISTENERS = Option(
    "--tls-listeners",
    "grpc,api",
    "comma-separated listeners that serve TLS when --tls-cert is set: grpc, api, webhook, admin",
    env="TLS_LISTENERS",
    group=TLS,
)
TLS_RELOAD_INTERVAL = Option(
    "--tls-reload-interval",
    1.0,
    "at most this often the certificate files are checked for changes",
    env="TLS_RELOAD_INTERVAL",
    parse=float,
    metavar="SECONDS",
    group=TLS,
    check=lambda value: math.isfinite(value) and 0.1 <= value <= 3600,
    problem="must be between 0.1 and 3600 seconds",
)

OPTIONS: tuple[Option[Any], ...] = (
    GRPC_LISTEN,
    HTTP_LISTEN,
    API_LISTEN,
    ADMIN_LISTEN,
    UPSTREAM,
    TOKEN_FILE,
    DEMO,
    DEMO_EMULATOR_LISTEN,
    POLICY,
    POLICY_POLL_INTERVAL,
    REDIS_URL,
    READINESS,
    LOG_LEVEL,
    LOG_FORMAT,
    GRACE,
    SHUTDOWN_DELAY,
    REQUEST_TIMEOUT,
    SPEND_LEASE,
    WEBHOOK_PATH,
    PREVIOUS_TOKEN_FILE,
    WEBHOOK_FRESHNESS,
    WEBHOOK_CLOCK_SKEW,
    WEBHOOK_BODY_LIMIT,
    WEBHOOK_RETENTION,
    WEBHOOK_DEDUPE_TTL,
    WEBHOOK_VISIBILITY_TIMEOUT,
    WEBHOOK_SUBSCRIBER_BUFFER,
    WEBHOOK_NAMESPACE,
    WEBHOOK_RECONCILE_INTERVAL,
    WEBHOOK_RECONCILE_GRACE,
    HTTP_HEADER_TIMEOUT,
    HTTP_BODY_TIMEOUT,
    HTTP_IDLE_TIMEOUT,
    HTTP_MAX_CONNECTIONS,
    TLS_CERT,
    TLS_KEY,
    TLS_CLIENT_CA,
    TLS_LISTENERS,
    TLS_RELOAD_INTERVAL,
)
