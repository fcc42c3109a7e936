"""Metrics: each reporting function moves the documented series; the docs list every metric."""

from __future__ import annotations

import re
from collections.abc import Callable

import grpc
import pytest

from sidecar import secrets
from sidecar.telemetry import metrics
from tests.helpers import REPO


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def delta(action: Callable[[], None], name: str, **labels: str) -> float:
    before = value(name, **labels)
    action()
    return value(name, **labels) - before


P = "cryptopay_sidecar_"


@pytest.mark.parametrize(
    ("action", "name", "labels", "change"),
    [
        (
            lambda: metrics.retry("transfer", "UPSTREAM_TIMEOUT"),
            "retries_total",
            {"method": "transfer", "reason": "UPSTREAM_TIMEOUT"},
            1,
        ),
        (
            lambda: metrics.retry_stopped("createInvoice", "unsafe"),
            "retries_stopped_total",
            {"method": "createInvoice", "reason": "unsafe"},
            1,
        ),
        (
            lambda: metrics.ratelimit("app", "refused"),
            "ratelimit_decisions_total",
            {"bucket": "app", "result": "refused"},
            1,
        ),
        (
            lambda: metrics.ratelimit("app", "waited", 0.3),
            "ratelimit_wait_seconds_sum",
            {"bucket": "app"},
            0.3,
        ),
        (
            lambda: metrics.ratelimit("app", "admitted"),
            "ratelimit_wait_seconds_count",
            {"bucket": "app"},
            0,
        ),
        (
            lambda: metrics.idempotency("Transfer", "replayed"),
            "idempotency_total",
            {"method": "Transfer", "result": "replayed"},
            1,
        ),
        (
            lambda: metrics.policy_decision("limits", "audit", "would_deny"),
            "policy_decisions_total",
            {"rule": "limits", "mode": "audit", "result": "would_deny"},
            1,
        ),
        (metrics.policy_load_failed, "policy_loads_total", {"result": "error"}, 1),
        (
            lambda: metrics.webhook_received("invoice_paid"),
            "webhooks_received_total",
            {"update_type": "invoice_paid"},
            1,
        ),
        (
            lambda: metrics.http_connection_closed("header_timeout"),
            "http_connections_closed_total",
            {"reason": "header_timeout"},
            1,
        ),
        (
            lambda: metrics.webhook_untyped("invoice_paid"),
            "webhooks_untyped_total",
            {"update_type": "invoice_paid"},
            1,
        ),
        (
            lambda: metrics.webhook_rejected("bad_signature"),
            "webhooks_rejected_total",
            {"reason": "bad_signature"},
            1,
        ),
        (
            lambda: metrics.webhook_published("invoice_paid"),
            "webhooks_published_total",
            {"update_type": "invoice_paid"},
            1,
        ),
        (
            lambda: metrics.webhook_delivered("invoice_paid"),
            "webhooks_delivered_total",
            {"update_type": "invoice_paid"},
            1,
        ),
        (
            lambda: metrics.relay_delivery("shop", "refused"),
            "webhook_relay_deliveries_total",
            {"caller": "shop", "outcome": "refused"},
            1,
        ),
        (
            lambda: metrics.trace_context_lookup("missing"),
            "trace_context_lookups_total",
            {"result": "missing"},
            1,
        ),
        (
            lambda: metrics.upstream_attempt("getMe", "timeout", 0.5),
            "upstream_attempts_total",
            {"method": "getMe", "status": "timeout"},
            1,
        ),
    ],
)
def test_reporting_functions(
    action: Callable[[], None], name: str, labels: dict[str, str], change: float
) -> None:
    assert delta(action, P + name, **labels) == pytest.approx(change)


def test_rpc_in_flight_and_finished() -> None:
    metrics.rpc_started("GetBalance")
    assert value(P + "rpcs_in_flight", method="GetBalance", protocol="grpc") == 1
    metrics.rpc_finished("GetBalance", grpc.StatusCode.UNAVAILABLE, 0.2)
    assert value(P + "rpcs_in_flight", method="GetBalance", protocol="grpc") == 0
    labels = {"method": "GetBalance", "code": "UNAVAILABLE"}
    assert value(P + "rpcs_total", **labels, protocol="grpc") >= 1
    front = value(P + "rpcs_total", **labels, protocol="http")
    metrics.rpc_started("GetBalance", "http")
    metrics.rpc_finished("GetBalance", grpc.StatusCode.UNAVAILABLE, 0.2, "http")
    assert value(P + "rpcs_total", **labels, protocol="http") == front + 1


def test_gauges_and_info() -> None:
    metrics.webhook_subscribers(3)
    assert value(P + "webhook_subscribers") == 3
    metrics.dependency("redis", False)
    assert value(P + "dependency_up", dependency="redis") == 0
    metrics.dependency("redis", True)
    assert value(P + "dependency_up", dependency="redis") == 1
    metrics.policy_loaded("ab12cd", "/etc/cryptopay/policy.yaml")
    assert value(P + "policy_info", sha256="ab12cd", source="/etc/cryptopay/policy.yaml") == 1


def test_relay_gauges_follow_the_replica_that_relays() -> None:
    lag = [12.5]
    metrics.relay_active("metrics-test", lambda: lag[0])
    assert value(P + "webhook_relay_active", caller="metrics-test") == 1
    assert value(P + "webhook_relay_lag_seconds", caller="metrics-test") == 12.5
    lag[0] = 0.0  # read at each scrape
    assert value(P + "webhook_relay_lag_seconds", caller="metrics-test") == 0.0
    metrics.relay_inactive("metrics-test")
    metrics.relay_inactive("metrics-test")  # twice is harmless
    for name in ("webhook_relay_active", "webhook_relay_lag_seconds"):
        assert metrics.REGISTRY.get_sample_value(P + name, {"caller": "metrics-test"}) is None


def test_render_negotiates_and_scrubs() -> None:
    secrets.register("metric-secret-value-1234")
    metrics.webhook_rejected("metric-secret-value-1234")  # never done; proves the scrubbing
    text, content_type = metrics.render(None)
    assert content_type.startswith("text/plain")
    assert b"metric-secret-value-1234" not in text and b'reason="***"' in text
    text, content_type = metrics.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert text.endswith(b"# EOF\n")


def test_docs_list_every_metric() -> None:
    docs = (REPO / "docs" / "observability.md").read_text()
    documented = set(re.findall(r"`(cryptopay_sidecar_[a-z_]+)`", docs))
    exposed = set()
    for family in metrics.REGISTRY.collect():
        if family.name.startswith(P):
            suffix = {"counter": "_total", "info": "_info"}.get(family.type, "")
            exposed.add(family.name + suffix)
    assert exposed == documented
