"""Renders results as markdown (pure): the tables `python -m bench` prints and
docs/performance.md quotes."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.scenarios import (
    NotAvailable,
    Overhead,
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


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} MB"


def _redis(per_request: tuple[float, float] | None) -> str:
    if per_request is None:
        return ""
    commands, scripts = per_request
    return f"{commands:.1f} ({scripts:.1f} scripts)" if scripts else f"{commands:.1f}"


def overhead_table(result: Overhead) -> str:
    header = ["run", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "QPS", "sidecar CPU"]
    header += ["CPU/req", "peak RSS (anon)", "Redis cmds/req (scripts)"]
    out: list[list[str]] = []
    for run in result.runs:
        label = run.label if run.ok else f"{run.label} (**not valid**: {'; '.join(run.notes)})"
        out.append(
            [
                label,
                *_latency_cells(run.latency),
                f"{run.achieved_rate:.0f}",
                "" if run.cpu is None else f"{run.cpu:.2f} vCPU",
                "" if run.cpu_us_per_request is None else f"{run.cpu_us_per_request:.0f} us",
                ""
                if run.peak_rss_mb is None
                else f"{run.peak_rss_mb:.1f} MB ({run.anon_rss_mb or 0:.1f})",
                _redis(run.redis_per_request),
            ]
        )
    for comparison in result.comparisons:
        cells = _latency_cells(comparison.difference, signed=True)
        out.append([comparison.label, *cells, "", "", "", "", ""])
    for name, dapr in (("gRPC", DAPR_GRPC), ("HTTP", DAPR_HTTP)):
        out.append(
            [f"Dapr v1.17 overhead ({name}), for comparison"]
            + [f"+{dapr[k]:.2f}" for k in ("p50", "p90", "p99")]
            + ["", "1000", f"{dapr['cpu']:.2f} vCPU", "", f"{dapr['rss']:.0f} MB", ""]
        )
    generators = sorted({run.generator for run in result.runs})
    return (
        f"Upstream: **{result.upstream}**; sidecar path: {result.path}; "
        f"load: {', '.join(generators)}.\n\n" + table(header, out)
    )


def goals_table(result: Overhead) -> str:
    comparison = result.headline
    over, run = comparison.difference, comparison.run
    rss = run.peak_rss_mb if run.peak_rss_mb is not None else math.nan
    cpu = run.cpu if run.cpu is not None else math.nan
    checks = [
        ("p50 overhead", "p50", f"<= {GOALS['p50']} ms", f"{ms(over.p50, True)} ms", over.p50),
        ("p99 overhead", "p99", f"<= {GOALS['p99']} ms", f"{ms(over.p99, True)} ms", over.p99),
        ("peak RSS", "rss", f"<= {GOALS['rss']:.0f} MB", f"{rss:.1f} MB", rss),
        ("CPU at the rate", "cpu", f"<= {GOALS['cpu']} vCPU", f"{cpu:.2f} vCPU", cpu),
    ]
    rows = [
        [name, goal, shown, "yes" if meets(value, GOALS[key]) else "**no**"]
        for name, key, goal, shown, value in checks
    ]
    return table([f"goal (upstream: {result.upstream})", "target", "measured", "met"], rows)


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
        body = "\n\n".join(overhead_table(o) + "\n\n" + goals_table(o) for o in results.overhead)
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
