"""The chart's optional monitoring objects: the PrometheusRule (the alerting rules, scoped to the
release) and the Grafana dashboard ConfigMap, rendered by the real Helm engine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.helm.test_chart import CHART, FULLNAME, K8S_VERSIONS, NAMESPACE, Doc, render
from tests.monitoring.artifacts import RULES, alerts, load_dashboard, load_rules, promtool
from tests.monitoring.promql import selectors
from tests.monitoring.test_rules import run_promtool_tests

MONITORING = {
    "metrics": {"prometheusRule": {"enabled": True}, "grafanaDashboard": {"enabled": True}}
}


def kinds(docs: list[Doc]) -> list[str]:
    return sorted(d["kind"] for d in docs)


def rule_doc(values: dict[str, Any]) -> Doc:
    (doc,) = [d for d in render(values) if d["kind"] == "PrometheusRule"]
    return doc


def with_rule(**settings: Any) -> dict[str, Any]:
    return {"metrics": {"prometheusRule": {"enabled": True, **settings}}}


def test_off_by_default() -> None:
    assert "PrometheusRule" not in kinds(render())
    assert "ConfigMap" not in kinds(render())


def test_prometheus_rule_holds_every_alert_scoped_to_the_namespace(tmp_path: Path) -> None:
    doc = rule_doc(with_rule(labels={"release": "kps"}))
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert doc["metadata"]["name"] == FULLNAME and doc["metadata"]["namespace"] == NAMESPACE
    assert doc["metadata"]["labels"]["release"] == "kps"
    assert set(doc["spec"]) == {"groups"}
    rendered = alerts(doc["spec"])
    source = {rule["alert"]: rule for rule in alerts()}
    assert [r["alert"] for r in rendered] == list(source)
    for rule in rendered:
        original = source[rule["alert"]]
        assert {k: v for k, v in rule.items() if k != "expr"} == {
            k: v for k, v in original.items() if k != "expr"
        }
        for selector in selectors(rule["expr"]):
            assert selector.matchers[0] == ("namespace", "=", NAMESPACE), rule["alert"]
        # Only the scope was added.
        assert [s.name for s in selectors(rule["expr"])] == [
            s.name for s in selectors(original["expr"])
        ]

    # Valid for promtool, and every alert fires exactly as the plain rules do (the test series
    # live in namespace "pay", the release's namespace).
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(doc["spec"]), encoding="utf-8")
    checked = subprocess.run(
        [promtool(), "check", "rules", str(spec_file)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    run_promtool_tests(doc["spec"], tmp_path)


def test_selector_labels_disabled_alerts_and_runbook_url() -> None:
    doc = rule_doc(
        with_rule(
            selector='job="payments-cryptopay-sidecar"',
            disabled=["CryptoPayPolicyDrift", "CryptoPaySpendCapWouldBeReached"],
            additionalRuleLabels={"team": "payments", "severity": "page"},
            runbookBaseUrl="https://wiki.example.com/cryptopay/runbook",
        )
    )
    rendered = alerts(doc["spec"])
    names = {rule["alert"] for rule in rendered}
    assert names == {r["alert"] for r in alerts()} - {
        "CryptoPayPolicyDrift",
        "CryptoPaySpendCapWouldBeReached",
    }
    severities = {r["alert"]: r["labels"]["severity"] for r in alerts()}
    for rule in rendered:
        assert rule["labels"] == {"severity": severities[rule["alert"]], "team": "payments"}
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("https://wiki.example.com/cryptopay/runbook#")
        for selector in selectors(rule["expr"]):
            assert selector.matchers[0] == ("job", "=", "payments-cryptopay-sidecar")
            assert ("namespace", "=", NAMESPACE) not in selector.matchers


def test_dashboard_config_map() -> None:
    docs = render(
        {
            "metrics": {
                "grafanaDashboard": {
                    "enabled": True,
                    "namespace": "monitoring",
                    "annotations": {"grafana_folder": "Payments"},
                }
            }
        }
    )
    (config_map,) = [d for d in docs if d["kind"] == "ConfigMap"]
    metadata = config_map["metadata"]
    assert metadata["name"] == f"{FULLNAME}-dashboard"
    assert metadata["namespace"] == "monitoring"
    assert metadata["labels"]["grafana_dashboard"] == "1"
    assert metadata["annotations"] == {"grafana_folder": "Payments"}
    assert json.loads(config_map["data"]["cryptopay-sidecar.json"]) == load_dashboard()
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(config_map, version, strict=True)


def test_lint_is_clean_with_monitoring_enabled() -> None:
    helm.Chart.load(CHART).validate_schema(MONITORING)
    report = helm.lint(CHART, MONITORING, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize(
    "values",
    [
        with_rule(selector="namespace"),
        with_rule(disabled=["SomethingElse"]),
        with_rule(runbookBaseUrl="wiki/runbook#x"),
        with_rule(labels={"release": 1}),
        {"metrics": {"grafanaDashboard": {"enabled": True, "folder": "x"}}},
    ],
)
def test_schema_refuses_bad_monitoring_values(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        helm.Chart.load(CHART).validate_schema(values)


def test_the_rules_file_is_the_one_the_chart_renders() -> None:
    # The plain rules file users load without Helm is the chart's own file.
    assert RULES.is_relative_to(CHART / "files")
    assert load_rules()["groups"]
