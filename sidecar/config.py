"""Sidecar settings from flags and environment variables (the token only from env or a file)."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sidecar import options as o
from sidecar.http_limits import HttpLimits
from sidecar.options import (
    ADMIN_LISTEN,
    API_LISTEN,
    DEMO,
    DEMO_EMULATOR_LISTEN,
    HTTP_LISTEN,
    OPTIONS,
    PREVIOUS_TOKEN_ENV,
    PREVIOUS_TOKEN_FILE,
    REDIS_URL,
    TLS_CERT,
    TLS_CLIENT_CA,
    TLS_KEY,
    TLS_LISTENERS,
    TLS_RELOAD_INTERVAL,
    TOKEN_ENV,
    TOKEN_FILE,
    UPSTREAM,
    WEBHOOK_PATH,
    Option,
)
from sidecar.secrets import Secret
from sidecar.tls import LISTENERS, TlsSettings
from sidecar.webhooks.settings import WebhookSettings

if TYPE_CHECKING:
    from sidecar.cache.config import CacheConfig

UPSTREAMS = {
    "mainnet": "https://pay.crypt.bot",
    "testnet": "https://testnet-pay.crypt.bot",
}
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9]{35}$")
# A well-formed token the embedded emulator accepts; it is not a secret.
DEMO_TOKEN = "1000:" + "DemoTokenForLocalDevelopmentOnly000"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message tells the operator what to do."""


@dataclass(frozen=True)
class Settings:
    """The running sidecar's settings; process options' defaults come from sidecar/options.py."""

    grpc_listen: str = o.GRPC_LISTEN.default
    http_listen: str | None = o.HTTP_LISTEN.default
    # The Crypto Pay-compatible HTTP front (/api/{method}); None: off.
    api_listen: str | None = None
    # /metrics, health, /policy and /admin on a listener of their own; None: on http_listen.
    admin_listen: str | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)
    upstream_url: str = UPSTREAMS[o.UPSTREAM.default]
    token: Secret = field(default_factory=lambda: Secret(""))
    demo: bool = o.DEMO.default
    demo_emulator_listen: str = o.DEMO_EMULATOR_LISTEN.default
    policy_path: str | None = o.POLICY.default
    policy_poll_interval: float = o.POLICY_POLL_INTERVAL.default
    redis_url: Secret | None = None
    log_level: str = o.LOG_LEVEL.default
    log_format: str = o.LOG_FORMAT.default
    grace_seconds: float = o.GRACE.default
    # Seconds between reporting NOT_SERVING on SIGTERM and refusing new calls, so load
    # balancers and kube-proxy stop routing here first.
    shutdown_delay: float = o.SHUTDOWN_DELAY.default
    request_timeout: float = o.REQUEST_TIMEOUT.default
    # Seconds a spend reservation outlives a process that died before settling it.
    spend_lease: float = o.SPEND_LEASE.default
    max_concurrent_rpcs: int = 1000
    redis_probe_interval: float = 1.0
    # strict: a required dependency down (Redis) makes the sidecar not ready; degraded: it stays
    # ready and reports degraded (sidecar mode, where readiness gates the application's pod).
    readiness: str = o.READINESS.default
    cache: CacheConfig | None = None  # used when the policy has no `cache` section; None: defaults
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    http: HttpLimits = field(default_factory=HttpLimits)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """One argument per entry of the options table, in its group, with its variable's value."""
    groups: dict[str, argparse._ActionsContainer] = {"": parser}
    for option in OPTIONS:
        if option.group not in groups:
            groups[option.group] = parser.add_argument_group(option.group)
        groups[option.group].add_argument(option.flag, **_argument(option))


def _argument(option: Option[Any]) -> dict[str, Any]:
    if option.switch:
        return {"action": "store_true", "help": option.help}
    default = option.default
    env = option.env_name
    if env is not None and not option.secret:
        value = os.environ.get(env)
        # An empty variable is unset for a number; a string keeps it ("" is "off" for listeners).
        if value is not None and (value or option.parse is str):
            default = value  # a string default: argparse parses it as if it were given
    notes = []
    if option.shown_default is not None:
        notes.append(f"default {option.shown_default}")
    elif option.default is not None:
        notes.append("default %(default)s")
    if env is not None:
        notes.append(f"env {env}")
    help_text = option.help + (f" ({'; '.join(notes)})" if notes else "")
    argument: dict[str, Any] = {"default": default, "help": help_text}
    if option.parse is not str:
        argument["type"] = option.parse
    if option.choices:
        argument["choices"] = list(option.choices)
    if option.metavar is not None:
        argument["metavar"] = option.metavar
    return argument


def _values(args: argparse.Namespace) -> dict[str, Any]:
    values = {option.dest: getattr(args, option.dest) for option in OPTIONS}
    for option in OPTIONS:
        if option.secret and not values[option.dest] and option.env_name is not None:
            values[option.dest] = os.environ.get(option.env_name) or None
    problems: dict[str, list[str]] = {}
    for option in OPTIONS:
        if option.check is not None and not option.check(values[option.dest]):
            problems.setdefault(option.problem, []).append(option.flag)
    if problems:
        raise ConfigError("; ".join(f"{', '.join(flags)}: {p}" for p, flags in problems.items()))
    return values


def _fields(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The Settings fields (or those of one nested settings object) the table fills directly."""
    return {
        option.field.removeprefix(prefix): values[option.dest]
        for option in OPTIONS
        if option.field
        and "." not in option.field.removeprefix(prefix)
        and option.field.startswith(prefix)
    }


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


def webhook_settings_from_args(values: dict[str, Any], demo: bool) -> WebhookSettings:
    path = values[WEBHOOK_PATH.dest]
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise ConfigError(f"--webhook-path must be a URL path starting with /, got {path!r}")
    previous = None if demo else read_previous_token(values[PREVIOUS_TOKEN_FILE.dest])
    return WebhookSettings(previous_token=previous, **_fields(values, "webhooks."))


def tls_settings(values: dict[str, Any]) -> TlsSettings:
    cert, key = values[TLS_CERT.dest] or None, values[TLS_KEY.dest] or None
    client_ca = values[TLS_CLIENT_CA.dest] or None
    if (cert is None) != (key is None):
        given, missing = ("--tls-cert", "--tls-key") if cert else ("--tls-key", "--tls-cert")
        raise ConfigError(f"{given} needs {missing}: a certificate is served with its key")
    if client_ca is not None and cert is None:
        raise ConfigError(
            "--tls-client-ca needs --tls-cert and --tls-key: client certificates are verified "
            "on TLS listeners only"
        )
    names = [n.strip() for n in values[TLS_LISTENERS.dest].split(",") if n.strip()]
    unknown = [n for n in names if n not in LISTENERS]
    if unknown:
        raise ConfigError(
            f"--tls-listeners: unknown listener {', '.join(unknown)} "
            f"(choose among {', '.join(LISTENERS)})"
        )
    if cert is not None and not names:
        raise ConfigError("--tls-listeners names no listener, yet --tls-cert is set")
    for flag, path in (("--tls-cert", cert), ("--tls-key", key), ("--tls-client-ca", client_ca)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{flag} {path}: no such file")
    return TlsSettings(
        cert=cert,
        key=key,
        client_ca=client_ca,
        listeners=frozenset(names),
        reload_interval=values[TLS_RELOAD_INTERVAL.dest],
    )


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
    values = _values(args)
    redis_url = values[REDIS_URL.dest]
    if values[DEMO.dest]:
        token = Secret(DEMO_TOKEN)
        upstream = f"http://{values[DEMO_EMULATOR_LISTEN.dest]}"
    else:
        upstream = resolve_upstream(values[UPSTREAM.dest])
        token = read_token(values[TOKEN_FILE.dest])
    return Settings(
        http_listen=_listener(values[HTTP_LISTEN.dest]),
        api_listen=_listener(values[API_LISTEN.dest]),
        admin_listen=_listener(values[ADMIN_LISTEN.dest]),
        tls=tls_settings(values),
        upstream_url=upstream,
        token=token,
        redis_url=Secret(redis_url) if redis_url else None,
        webhooks=webhook_settings_from_args(values, values[DEMO.dest]),
        http=HttpLimits(**_fields(values, "http.")),
        **_fields(values),
    )


def _listener(value: str) -> str | None:
    return None if value in ("", "off", "none") else value


def split_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"expected host:port, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)
