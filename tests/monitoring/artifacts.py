"""The monitoring artifacts the project ships, and small readers for them: the Prometheus rules,
the Grafana dashboard and the runbook (with its GitHub-style heading anchors)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import REPO
from tests.tools import require_tool

CHART = REPO / "helm" / "cryptopay-sidecar"
RULES = CHART / "files" / "prometheus" / "alerts.yaml"
DASHBOARD = CHART / "files" / "grafana" / "cryptopay-sidecar.json"
RUNBOOK = REPO / "docs" / "runbook.md"
RUNBOOK_URL = "https://github.com/cryptopay-sidecar/cryptopay-sidecar/blob/main/docs/runbook.md"

Rule = dict[str, Any]


def load_rules(path: Path = RULES) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def alerts(rules: dict[str, Any] | None = None) -> list[Rule]:
    data = rules if rules is not None else load_rules()
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def load_dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    out: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of every panel."""
    return [
        (panel["title"], target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def dashboard_variable_queries(dashboard: dict[str, Any]) -> list[str]:
    """The PromQL inside the template variables' label_values(...) queries."""
    out = []
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query":
            text = query["query"] if isinstance(query, dict) else query
            match = re.fullmatch(r"label_values\((.*),\s*\w+\)", text.strip())
            assert match, f"variable {variable['name']}: {text!r} is not label_values(expr, label)"
            out.append(match.group(1))
    return out


def substitute_variables(expr: str) -> str:
    """Grafana variables ($namespace, ${job}, $__rate_interval) replaced by valid PromQL."""
    expr = re.sub(r"\$__(rate_)?interval|\$__range", "5m", expr)
    return re.sub(r"\$\{?(\w+)\}?", "x", expr)


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors() -> dict[str, str]:
    """anchor -> heading text, for every heading of the runbook."""
    out: dict[str, str] = {}
    in_code = False
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and (match := re.match(r"^#{1,6}\s+(.*)$", line)):
            anchor = slug(match.group(1))
            out.setdefault(anchor, match.group(1))
    return out


def runbook_sections(level: int = 2) -> dict[str, str]:
    """heading -> body text, for the runbook's headings of one level."""
    sections: dict[str, str] = {}
    current: str | None = None
    in_code = False
    prefix = "#" * level + " "
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith(prefix):
            current = line[len(prefix) :].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def promtool() -> str:
    return require_tool(
        "promtool",
        "apt-get install prometheus (.ci/run takes only the binary from Debian's package)",
    )
