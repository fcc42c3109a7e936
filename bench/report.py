"""Renders results as markdown (pure): the tables `python -m bench` prints and
docs/performance.md quotes."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.scenarios import (
    NotAvailable,
    OverheadRow,
    Results,
    StartupResult,
    ThroughputResult,
)
from bench.stats import Latency, meets

# Dapr v1.17 service invocation, 1,000 QPS, 16 connections, 1 KB (tests/perf/report/charts).
DAPR_GRPC = {"p50": 1.68, "p90": 1.97, "p99": 2.83, "cpu": 0.248, "rss": 50.0}
DAPR_HTTP = {"p50": 1.06, "p90": 1.48, "p99": 2.90, "cpu": 0.202, "rss": 51.0}
GOALS = {"p50": 0.5, "p99": 2.0, "rss": 60.0, "cpu": 0.3}


def ms(value: float, signed: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _latency_cells(latency: Latency, signed: bool = False) -> list[str]:
    return [
        ms(latency.p50, signed),
        ms(latency.p90, signed),
        ms(latency.p99, signed),
        ms(latency.p999, signed),
    ]


def overhead_table(rows: Sequence[OverheadRow]) -> str:
    header = ["upstream", "run", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "QPS", "sidecar CPU"]
    header += ["sidecar peak RSS", "Redis cmds/req"]
    out: list[list[str]] = []
    for row in rows:
        redis = "-" if row.redis_per_request is None else f"{row.redis_per_request:.2f}"
        out.append([row.upstream, "direct (HTTP/1.1)", *_latency_cells(row.direct), "", "", "", ""])
        out.append(
            [
                row.upstream,
                f"through the sidecar (gRPC; {row.path})",
                *_latency_cells(row.sidecar),
                f"{row.achieved_rate:.0f}",
                f"{row.cpu:.2f} vCPU",
                f"{row.peak_rss_mb:.1f} MB",
                redis,
            ]
        )
        flag = "" if row.upstream_calls_ok else " (some calls failed!)"
        out.append(
            [
                row.upstream,
                f"**overhead**{flag}",
                *_latency_cells(row.overhead, signed=True),
                "",
                "",
                "",
                "",
            ]
        )
    out.append(
        ["Dapr v1.17", "overhead (gRPC)"]
        + [f"+{DAPR_GRPC[k]:.2f}" for k in ("p50", "p90", "p99")]
        + ["", "1000", f"{DAPR_GRPC['cpu']:.2f} vCPU", f"{DAPR_GRPC['rss']:.0f} MB", ""]
    )
    out.append(
        ["Dapr v1.17", "overhead (HTTP)"]
        + [f"+{DAPR_HTTP[k]:.2f}" for k in ("p50", "p90", "p99")]
        + ["", "1000", f"{DAPR_HTTP['cpu']:.2f} vCPU", f"{DAPR_HTTP['rss']:.0f} MB", ""]
    )
    return table(header, out)


def goals_table(row: OverheadRow) -> str:
    over = row.overhead
    checks = [
        ("p50 overhead", "p50", f"<= {GOALS['p50']} ms", f"{ms(over.p50, True)} ms", over.p50),
        ("p99 overhead", "p99", f"<= {GOALS['p99']} ms", f"{ms(over.p99, True)} ms", over.p99),
        (
            "peak RSS",
            "rss",
            f"<= {GOALS['rss']:.0f} MB",
            f"{row.peak_rss_mb:.1f} MB",
            row.peak_rss_mb,
        ),
        ("CPU", "cpu", f"<= {GOALS['cpu']} vCPU", f"{row.cpu:.2f} vCPU", row.cpu),
    ]
    rows = [
        [name, goal, shown, "yes" if meets(value, GOALS[key]) else "**no**"]
        for name, key, goal, shown, value in checks
    ]
    return table([f"goal (upstream: {row.upstream})", "target", "measured", "met"], rows)


def throughput_table(result: ThroughputResult) -> str:
    rows = [
        [
            f"{step.rate:.0f}",
            f"{step.achieved:.0f}",
            ms(step.latency.p50),
            ms(step.latency.p99),
            f"{step.cpu:.2f}",
            "yes" if step.passed else "no",
        ]
        for step in result.steps
    ]
    best = result.best
    verdict = (
        f"Highest sustained rate on one core with p99 <= 10 ms: **{best.achieved:.0f} QPS** "
        f"(upstream: {result.upstream})."
        if best
        else "No step passed."
    )
    header = ["target QPS", "achieved QPS", "p50 ms", "p99 ms", "sidecar CPU (vCPU)", "pass"]
    return table(header, rows) + "\n\n" + verdict


def startup_table(result: StartupResult) -> str:
    rows = [
        [
            "time from exec to SERVING",
            f"{result.median_seconds * 1000:.0f} ms",
            ", ".join(f"{s * 1000:.0f}" for s in result.seconds),
        ],
        [
            "idle RSS (2 s after SERVING)",
            f"{result.median_idle_rss_mb:.1f} MB",
            ", ".join(f"{m:.1f}" for m in result.idle_rss_mb),
        ],
    ]
    return table(["figure", "median", "runs"], rows)


def section(title: str, body: str) -> str:
    return f"### {title}\n\n{body}\n"


def render(results: Results, preamble: Sequence[str]) -> str:
    parts = ["## Results\n", "\n".join(f"- {line}" for line in preamble) + "\n"]
    if results.overhead:
        body = overhead_table(results.overhead)
        body += "\n\n" + "\n\n".join(goals_table(row) for row in results.overhead)
        parts.append(section("1. Overhead at a fixed rate (Dapr's method)", body))
    parts.append(section("2. Throughput on one core", _or_na(results.throughput)))
    parts.append(section("3. Rate limiter", _or_na(results.limiter)))
    parts.append(section("4. Webhooks", _or_na(results.webhooks)))
    parts.append(section("5. Start-up", _or_na(results.startup)))
    return "\n".join(parts)


def _or_na(result: object) -> str:
    if result is None:
        return "not run"
    if isinstance(result, NotAvailable):
        return f"n/a: {result.reason}"
    if isinstance(result, ThroughputResult):
        return throughput_table(result)
    if isinstance(result, StartupResult):
        return startup_table(result)
    render_method = getattr(result, "markdown", None)
    if callable(render_method):
        return str(render_method())
    return str(result)
