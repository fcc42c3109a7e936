"""The Grafana dashboard: a well-formed export whose every query is valid PromQL (promtool)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.monitoring.artifacts import (
    dashboard_variable_queries,
    load_dashboard,
    panel_queries,
    panels,
    promtool,
    substitute_variables,
)
from tests.monitoring.promql import selectors


def test_dashboard_structure() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"] == "cryptopay-sidecar" and dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert {"namespace", "job", "instance"} <= set(variables)
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            expr = target["expr"]
            assert selectors(substitute_variables(expr)), panel["title"]
            # Every sidecar selector follows the dashboard's variables.
            for selector in selectors(expr.replace("$", "")):
                if selector.name.startswith("cryptopay_sidecar_") or "process_" in selector.name:
                    labels = {label for label, _, _ in selector.matchers}
                    assert {"namespace", "job", "instance"} <= labels, panel["title"]


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool has no expression checker: the queries go in as recording rules.
    dashboard = load_dashboard()
    queries = [expr for _, expr in panel_queries(dashboard)] + dashboard_variable_queries(dashboard)
    rules = [
        {"record": f"dashboard:query_{i}", "expr": substitute_variables(expr)}
        for i, expr in enumerate(queries)
    ]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
