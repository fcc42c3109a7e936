"""The Prometheus alerting rules: their structure, promtool's checks, and each alert evaluated by
promtool against series that should (and should not) make it fire."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.artifacts import (
    RULES,
    RUNBOOK_URL,
    alerts,
    load_rules,
    promtool,
    runbook_anchors,
)
from tests.monitoring.promql import selectors

SEVERITIES = {"critical", "warning", "info"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def test_rules_file_structure() -> None:
    data = load_rules()
    assert set(data) == {"groups"}
    groups = data["groups"]
    assert groups and len({g["name"] for g in groups}) == len(groups)
    names = [rule["alert"] for rule in alerts(data)]
    assert len(names) == len(set(names)), "alert names must be unique"
    anchors = runbook_anchors()
    for group in groups:
        assert set(group) == {"name", "rules"} and group["rules"]
        for rule in group["rules"]:
            name = rule["alert"]
            assert re.fullmatch(r"CryptoPay[A-Za-z]+", name)
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, name
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert DURATION.match(rule["for"]), name
            assert rule["labels"]["severity"] in SEVERITIES, name
            annotations = rule["annotations"]
            assert set(annotations) == {"summary", "description", "runbook_url"}, name
            assert annotations["summary"].strip() and annotations["description"].strip()
            url, _, anchor = annotations["runbook_url"].partition("#")
            assert url == RUNBOOK_URL, name
            assert anchor in anchors, f"{name}: docs/runbook.md has no heading #{anchor}"
            assert selectors(rule["expr"]), f"{name} selects no metric"


def test_every_runbook_failure_has_an_alert() -> None:
    linked = {rule["annotations"]["runbook_url"].partition("#")[2] for rule in alerts()}
    failures = {
        "redis-down-or-slow",
        "upstream-429-storm",
        "upstream-outage",
        "webhook-signature-failures",
        "subscribers-lagging-or-a-consumer-group-stuck",
        "webhook-events-delivered-untyped",
        "webhook-relay-behind-or-failing",
        "policy-rejected-on-reload",
        "spend-cap-reached",
        "payments-with-an-unknown-outcome",
        "idempotency-conflicts-spiking",
    }
    assert failures <= linked


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


# --- each alert evaluated by promtool -------------------------------------------------------------

BASE = {"namespace": "pay", "job": "gw", "instance": "a"}


def s(name: str, **labels: str) -> str:
    """A series with the base labels (namespace pay, job gw, instance a) plus `labels`."""
    merged = {**BASE, **labels}
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in merged.items()) + "}"


@dataclass(frozen=True)
class Case:
    alert: str
    series: dict[str, str]  # series -> promtool values ('1 0x10', '_x3 1x5', '0+10x20')
    at: str  # evaluation time
    fires: list[dict[str, str]] = field(default_factory=list)  # labels besides severity


NS_JOB = {"namespace": "pay", "job": "gw"}
RPCS = "cryptopay_sidecar_rpcs_total"
ATTEMPTS = "cryptopay_sidecar_upstream_attempts_total"
REJECTED = "cryptopay_sidecar_webhooks_rejected_total"
DECISIONS = "cryptopay_sidecar_policy_decisions_total"
STOPPED = "cryptopay_sidecar_retries_stopped_total"
IDEMPOTENCY = "cryptopay_sidecar_idempotency_total"
LOADS = "cryptopay_sidecar_policy_loads_total"
UPSTREAM_SECONDS = "cryptopay_sidecar_upstream_attempt_duration_seconds_bucket"
RELAYED = "cryptopay_sidecar_webhook_relay_deliveries_total"
RELAY_LAG = "cryptopay_sidecar_webhook_relay_lag_seconds"
SHOP = {**NS_JOB, "caller": "shop"}

CASES = [
    # Readiness
    Case("CryptoPaySidecarNotReady", {s("cryptopay_sidecar_ready"): "1 0x10"}, "8m", [BASE]),
    Case("CryptoPaySidecarNotReady", {s("cryptopay_sidecar_ready"): "1 0 0 1x10"}, "8m"),
    Case(
        "CryptoPaySidecarNoReadyReplica",
        {
            s("cryptopay_sidecar_ready"): "1 0x10",
            s("cryptopay_sidecar_ready", instance="b"): "1 0x10",
        },
        "5m",
        [NS_JOB],
    ),
    Case(
        "CryptoPaySidecarNoReadyReplica",
        {
            s("cryptopay_sidecar_ready"): "1 0x10",
            s("cryptopay_sidecar_ready", instance="b"): "1x10",
        },
        "5m",
    ),
    Case(
        "CryptoPaySidecarErrors",
        {
            s(RPCS, method="GetMe", code="OK"): "0+100x30",
            s(RPCS, method="GetMe", code="UNAVAILABLE"): "0+10x30",
        },
        "20m",
        [NS_JOB],
    ),
    # The callers' own mistakes are not the sidecar's errors.
    Case(
        "CryptoPaySidecarErrors",
        {
            s(RPCS, method="GetMe", code="OK"): "0+100x30",
            s(RPCS, method="Transfer", code="INVALID_ARGUMENT"): "0+50x30",
            s(RPCS, method="Transfer", code="PERMISSION_DENIED"): "0+50x30",
        },
        "20m",
    ),
    # Redis
    Case(
        "CryptoPaySidecarRedisDown",
        {s("cryptopay_sidecar_dependency_up", dependency="redis"): "1 0x5"},
        "4m",
        [{**BASE, "dependency": "redis"}],
    ),
    Case(
        "CryptoPaySidecarRedisDown",
        {s("cryptopay_sidecar_dependency_up", dependency="redis"): "1 0 1x5"},
        "4m",
    ),
    Case(
        "CryptoPaySidecarRedisFlapping",
        {s("cryptopay_sidecar_dependency_up", dependency="redis"): "1 0 1 0 1 0 1x5"},
        "8m",
        [{**BASE, "dependency": "redis"}],
    ),
    Case(
        "CryptoPaySidecarRedisFlapping",
        {s("cryptopay_sidecar_dependency_up", dependency="redis"): "1 0 1x10"},
        "8m",
    ),
    Case(
        "CryptoPayIdempotencyStoreUnavailable",
        {s(IDEMPOTENCY, method="CreateInvoice", result="unavailable"): "0+5x10"},
        "8m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayIdempotencyStoreUnavailable",
        {s(IDEMPOTENCY, method="CreateInvoice", result="new"): "0+5x10"},
        "8m",
    ),
    # Upstream
    Case(
        "CryptoPayUpstreamRateLimited",
        {
            s(ATTEMPTS, method="transfer", status="200"): "0+100x20",
            s(ATTEMPTS, method="transfer", status="429"): "0+20x20",
        },
        "15m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayUpstreamRateLimited",
        {
            s(ATTEMPTS, method="transfer", status="200"): "0+100x20",
            s(ATTEMPTS, method="transfer", status="429"): "0+1x20",
        },
        "15m",
    ),
    Case(
        "CryptoPaySidecarRateLimitRefusals",
        {
            s("cryptopay_sidecar_ratelimit_decisions_total", bucket="app", result="admitted"): (
                "0+100x30"
            ),
            s("cryptopay_sidecar_ratelimit_decisions_total", bucket="app", result="refused"): (
                "0+20x30"
            ),
        },
        "20m",
        [{**NS_JOB, "bucket": "app"}],
    ),
    Case(
        "CryptoPaySidecarRateLimitRefusals",
        {
            s("cryptopay_sidecar_ratelimit_decisions_total", bucket="app", result="waited"): (
                "0+100x30"
            ),
            s("cryptopay_sidecar_ratelimit_decisions_total", bucket="app", result="refused"): (
                "0+1x30"
            ),
        },
        "20m",
    ),
    Case(
        "CryptoPayUpstreamErrors",
        {
            s(ATTEMPTS, method="getMe", status="200"): "0+100x30",
            s(ATTEMPTS, method="getMe", status="503"): "0+20x30",
        },
        "20m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayUpstreamOutage",
        {
            s(ATTEMPTS, method="getMe", status="200"): "0+100x30",
            s(ATTEMPTS, method="getMe", status="503"): "0+20x30",
        },
        "20m",
    ),
    Case(
        "CryptoPayUpstreamOutage",
        {
            s(ATTEMPTS, method="getMe", status="200"): "0+10x10",
            s(ATTEMPTS, method="getMe", status="timeout"): "0+30x10",
            s(ATTEMPTS, method="transfer", status="connect"): "0+30x10",
        },
        "8m",
        [NS_JOB],
    ),
    # Callers' 400s are definite answers, not an outage.
    Case(
        "CryptoPayUpstreamErrors",
        {
            s(ATTEMPTS, method="getMe", status="200"): "0+10x30",
            s(ATTEMPTS, method="transfer", status="400"): "0+90x30",
        },
        "20m",
    ),
    Case(
        "CryptoPayUpstreamSlow",
        {
            s(UPSTREAM_SECONDS, method="getMe", le="1"): "0x20",
            s(UPSTREAM_SECONDS, method="getMe", le="5"): "0x20",
            s(UPSTREAM_SECONDS, method="getMe", le="10"): "0+10x20",
            s(UPSTREAM_SECONDS, method="getMe", le="+Inf"): "0+10x20",
        },
        "20m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayUpstreamSlow",
        {
            s(UPSTREAM_SECONDS, method="getMe", le="1"): "0+10x20",
            s(UPSTREAM_SECONDS, method="getMe", le="5"): "0+10x20",
            s(UPSTREAM_SECONDS, method="getMe", le="10"): "0+10x20",
            s(UPSTREAM_SECONDS, method="getMe", le="+Inf"): "0+10x20",
        },
        "20m",
    ),
    Case(
        "CryptoPayRetryBudgetExhausted",
        {s(STOPPED, method="getMe", reason="budget"): "0+3x10"},
        "9m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayRetryBudgetExhausted",
        {s(STOPPED, method="getMe", reason="deadline"): "0+3x10"},
        "9m",
    ),
    # A counter born at 1 (its first 401) is seen; one that stopped growing long ago is not.
    Case(
        "CryptoPayApiTokenRejected",
        {s(ATTEMPTS, method="getMe", status="401"): "_x5 1x10"},
        "8m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayApiTokenRejected",
        {s(ATTEMPTS, method="getMe", status="401"): "0x5 1x10"},
        "8m",
        [NS_JOB],
    ),
    Case("CryptoPayApiTokenRejected", {s(ATTEMPTS, method="getMe", status="401"): "1x40"}, "30m"),
    # Webhooks: the reason matches in any case.
    Case(
        "CryptoPayWebhookSignatureFailures",
        {s(REJECTED, reason="BAD_SIGNATURE"): "_x2 3 3 4"},
        "4m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayWebhookSignatureFailures",
        {s(REJECTED, reason="bad_signature"): "0x3 2 5 8"},
        "6m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayWebhookSignatureFailures",
        {s(REJECTED, reason="STALE_REQUEST_DATE"): "0+5x10"},
        "6m",
    ),
    # Two failures in the window (a series present before it): counted once, below 3.
    Case(
        "CryptoPayWebhookSignatureFailures",
        {s(REJECTED, reason="BAD_SIGNATURE"): "0x10 1 2"},
        "12m",
    ),
    # Old failures, long before the window, do not count.
    Case(
        "CryptoPayWebhookSignatureFailures", {s(REJECTED, reason="BAD_SIGNATURE"): "0 5x40"}, "30m"
    ),
    Case(
        "CryptoPayWebhooksAllFailVerification",
        {s(REJECTED, reason="BAD_SIGNATURE"): "0+1x40"},
        "10m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayWebhooksAllFailVerification",
        {
            s(REJECTED, reason="BAD_SIGNATURE"): "0+1x40",
            s("cryptopay_sidecar_webhooks_received_total", update_type="invoice_paid"): "0+1x40",
        },
        "10m",
    ),
    Case(
        "CryptoPayWebhookEventsNotDelivered",
        {s("cryptopay_sidecar_webhooks_published_total", update_type="invoice_paid"): "0+1x40"},
        "20m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayWebhookEventsNotDelivered",
        {
            s("cryptopay_sidecar_webhooks_published_total", update_type="invoice_paid"): "0+1x40",
            s(
                "cryptopay_sidecar_webhooks_delivered_total",
                update_type="invoice_paid",
                instance="b",
            ): "0+2x40",
        },
        "20m",
    ),
    # One untyped event is enough, even the first of its series; an hour later it is quiet.
    Case(
        "CryptoPayWebhookEventsUntyped",
        {s("cryptopay_sidecar_webhooks_untyped_total", update_type="invoice_paid"): "_x3 1x10"},
        "5m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayWebhookEventsUntyped",
        {s("cryptopay_sidecar_webhooks_untyped_total", update_type="invoice_paid"): "1x100"},
        "90m",
    ),
    # The relay: the oldest undelivered event ages past 3 minutes and stays there.
    Case(
        "CryptoPayWebhookRelayLagging", {s(RELAY_LAG, caller="shop"): "0 0 60+60x10"}, "8m", [SHOP]
    ),
    # The lease moved to replica b: the lag goes on from there, one alert for the caller.
    Case(
        "CryptoPayWebhookRelayLagging",
        {
            s(RELAY_LAG, caller="shop"): "0 60 120 180 240",
            s(RELAY_LAG, caller="shop", instance="b"): "_x5 300+60x5",
        },
        "8m",
        [SHOP],
    ),
    # A handler restarting: the lag passes 3 minutes for a moment, then the event is delivered.
    Case("CryptoPayWebhookRelayLagging", {s(RELAY_LAG, caller="shop"): "0 120 200 0x10"}, "4m"),
    Case("CryptoPayWebhookRelayLagging", {s(RELAY_LAG, caller="shop"): "0 60 120 170x10"}, "12m"),
    # It delivered, then every attempt fails (refused, then unreachable).
    Case(
        "CryptoPayWebhookRelayFailing",
        {
            s(RELAYED, caller="shop", outcome="delivered"): "0+2x3 6x20",
            s(RELAYED, caller="shop", outcome="refused"): "0x3 0+2x5 10x15",
            s(RELAYED, caller="shop", outcome="unreachable"): "_x9 0+3x15",
        },
        "15m",
        [SHOP],
    ),
    # A new relay whose handler never answered a 2xx.
    Case(
        "CryptoPayWebhookRelayFailing",
        {s(RELAYED, caller="shop", outcome="timeout"): "0+1x20"},
        "8m",
        [SHOP],
    ),
    # Failures for 4 minutes, then deliveries: a handler's deploy.
    Case(
        "CryptoPayWebhookRelayFailing",
        {
            s(RELAYED, caller="shop", outcome="refused"): "0+2x4 8x20",
            s(RELAYED, caller="shop", outcome="delivered"): "0x4 1+1x20",
        },
        "8m",
    ),
    # Failed attempts on replica a, deliveries on replica b, which took the lease.
    Case(
        "CryptoPayWebhookRelayFailing",
        {
            s(RELAYED, caller="shop", outcome="unreachable"): "0+3x20",
            s(RELAYED, caller="shop", outcome="delivered", instance="b"): "0+1x20",
        },
        "15m",
    ),
    # One event lost or skipped is enough, even the first of its series; an hour later it is quiet.
    Case(
        "CryptoPayWebhookRelayEventsLost",
        {s(RELAYED, caller="shop", outcome="lost"): "_x3 1x10"},
        "5m",
        [SHOP],
    ),
    Case(
        "CryptoPayWebhookRelayEventsLost",
        {s(RELAYED, caller="shop", outcome="skipped"): "0x3 1x10"},
        "5m",
        [SHOP],
    ),
    Case(
        "CryptoPayWebhookRelayEventsLost",
        {s(RELAYED, caller="shop", outcome="lost"): "1x100"},
        "90m",
    ),
    Case(
        "CryptoPayWebhookRelayEventsLost",
        {s(RELAYED, caller="shop", outcome="refused"): "0+5x10"},
        "5m",
    ),
    # Policy
    Case("CryptoPayPolicyReloadRejected", {s(LOADS, result="error"): "_x3 1x10"}, "6m", [BASE]),
    Case("CryptoPayPolicyReloadRejected", {s(LOADS, result="error"): "1x100"}, "90m"),
    Case(
        "CryptoPayPolicyDrift",
        {
            s("cryptopay_sidecar_policy_info", sha256="aa", source="/p"): "1x20",
            s("cryptopay_sidecar_policy_info", sha256="bb", source="/p", instance="b"): "1x20",
        },
        "15m",
        [NS_JOB],
    ),
    Case(
        "CryptoPayPolicyDrift",
        {
            s("cryptopay_sidecar_policy_info", sha256="aa", source="/p"): "1x20",
            s("cryptopay_sidecar_policy_info", sha256="aa", source="/p", instance="b"): "1x20",
        },
        "15m",
    ),
    Case(
        "CryptoPaySpendCapReached",
        {s(DECISIONS, rule="spend_caps[0]", mode="enforce", result="deny"): "_x2 1x5"},
        "5m",
        [{**NS_JOB, "rule": "spend_caps[0]"}],
    ),
    Case(
        "CryptoPaySpendCapReached",
        {s(DECISIONS, rule="amounts.USDT", mode="enforce", result="deny"): "_x2 1+1x5"},
        "5m",
    ),
    Case(
        "CryptoPaySpendCapWouldBeReached",
        {s(DECISIONS, rule="spend_caps[1]", mode="audit", result="would_deny"): "0 0 2x5"},
        "5m",
        [{**NS_JOB, "rule": "spend_caps[1]"}],
    ),
    Case(
        "CryptoPaySpendCapWouldBeReached",
        {s(DECISIONS, rule="spend_caps[1]", mode="enforce", result="deny"): "0 0 2x5"},
        "5m",
    ),
    # Money
    Case(
        "CryptoPayTransfersOutcomeUnknown",
        {
            s(RPCS, method="Transfer", code="UNAVAILABLE"): "_x2 1x10",
            s(ATTEMPTS, method="transfer", status="timeout"): "_x2 1x10",
        },
        "5m",
        [NS_JOB],
    ),
    # Unreachable: nothing was sent, so nothing awaits reconciliation.
    Case(
        "CryptoPayTransfersOutcomeUnknown",
        {
            s(RPCS, method="Transfer", code="UNAVAILABLE"): "_x2 1x10",
            s(ATTEMPTS, method="transfer", status="connect"): "_x2 3x10",
        },
        "5m",
    ),
    Case(
        "CryptoPayCreatesOutcomeUnknown",
        {s(STOPPED, method="createInvoice", reason="effect_forbids"): "_x2 1x10"},
        "5m",
        [{**NS_JOB, "method": "createInvoice"}],
    ),
    Case(
        "CryptoPayCreatesOutcomeUnknown",
        {s(STOPPED, method="createInvoice", reason="attempts_exhausted"): "_x2 1x10"},
        "5m",
    ),
    Case(
        "CryptoPayIdempotencyConflicts",
        {
            s(IDEMPOTENCY, method="Transfer", result="new"): "0+50x30",
            s(IDEMPOTENCY, method="Transfer", result="conflict"): "0+2x30",
        },
        "20m",
        [{**NS_JOB, "method": "Transfer"}],
    ),
    # A single mistake is not a spike.
    Case(
        "CryptoPayIdempotencyConflicts",
        {
            s(IDEMPOTENCY, method="Transfer", result="new"): "0+50x30",
            s(IDEMPOTENCY, method="Transfer", result="conflict"): "0x10 1x20",
        },
        "20m",
    ),
]


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    names = {rule["alert"] for rule in alerts()}
    firing = {case.alert for case in CASES if case.fires}
    quiet = {case.alert for case in CASES if not case.fires}
    assert names - firing == set(), "alerts without a case that makes them fire"
    assert names - quiet == set(), "alerts without a case where they stay quiet"
    assert {case.alert for case in CASES} <= names


def promtool_test_file(rules_file: Path, severities: dict[str, str]) -> dict[str, Any]:
    tests = []
    for case in CASES:
        tests.append(
            {
                "name": f"{case.alert} at {case.at}: {'fires' if case.fires else 'quiet'}",
                "interval": "1m",
                "input_series": [{"series": k, "values": v} for k, v in case.series.items()],
                "alert_rule_test": [
                    {
                        "eval_time": case.at,
                        "alertname": case.alert,
                        "exp_alerts": [
                            {"exp_labels": {**labels, "severity": severities[case.alert]}}
                            for labels in case.fires
                        ],
                    }
                ],
            }
        )
    return {"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}


def without_annotations(rules: dict[str, Any]) -> dict[str, Any]:
    """promtool compares annotations exactly; the cases are about when alerts fire."""
    return {
        "groups": [
            {
                "name": group["name"],
                "rules": [
                    {k: v for k, v in rule.items() if k != "annotations"} for rule in group["rules"]
                ],
            }
            for group in rules["groups"]
        ]
    }


def run_promtool_tests(rules: dict[str, Any], directory: Path) -> None:
    rules_file = directory / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(without_annotations(rules)), encoding="utf-8")
    severities = {rule["alert"]: rule["labels"]["severity"] for rule in alerts(rules)}
    test_file = directory / "tests.yaml"
    test_file.write_text(
        yaml.safe_dump(promtool_test_file(rules_file, severities)), encoding="utf-8"
    )
    result = subprocess.run(
        [promtool(), "test", "rules", str(test_file)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_when_they_should(tmp_path: Path) -> None:
    run_promtool_tests(load_rules(), tmp_path)


@pytest.mark.parametrize("case", [c for c in CASES if c.fires], ids=lambda c: c.alert)
def test_cases_use_only_the_alerts_labels(case: Case) -> None:
    # The expected labels are what the expression keeps: a typo in a case would otherwise
    # only show as a promtool mismatch.
    for labels in case.fires:
        assert set(labels) <= {
            "namespace",
            "job",
            "instance",
            "dependency",
            "bucket",
            "rule",
            "method",
            "caller",
        }
