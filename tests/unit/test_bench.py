"""The benchmark harness's pure parts: figures, h2load's output, /proc, profiles, the report,
the command line of the sidecar processes it (and the tests) start."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest

from bench import h2load, profiling, report, scenarios, sidecar_process, stats
from bench.stub import canned_bodies
from sidecar import mapping
from sidecar.cli import build_parser
from sidecar.methods import BY_API


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 75, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([float(i) for i in range(1, 1001)], 99, 990.0),
        ([float(i) for i in range(1, 1001)], 99.9, 999.0),
        ([5.0], 99, 5.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert stats.percentile(values, q) == expected


def test_latency_summary_and_overhead() -> None:
    direct = stats.Latency.of([1.0] * 90 + [2.0] * 9 + [5.0])
    through = stats.Latency.of([1.5] * 90 + [3.0] * 9 + [9.0])
    assert (direct.p50, direct.p90, direct.p99, direct.max) == (1.0, 1.0, 2.0, 5.0)
    over = through.minus(direct)
    assert (over.p50, over.p99, over.max) == (0.5, 1.0, 4.0)
    assert math.isnan(stats.Latency.of([]).p50)


def test_proc_figures() -> None:
    # The command name may hold spaces and parentheses.
    stat = "4242 (python (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 0"
    assert stats.parse_proc_stat(stat, 100) == 3.0
    status = "Name:\tpython\nVmHWM:\t   61000 kB\nVmRSS:\t   59000 kB\nRssAnon:\t   30000 kB\n"
    assert stats.parse_proc_status(status) == (59000 * 1024, 61000 * 1024, 30000 * 1024)
    before = stats.ProcSample(10.0, 0, 0)
    after = stats.ProcSample(13.0, 0, 0)
    assert stats.cpu_share(before, after, 10.0) == pytest.approx(0.3)
    assert stats.meets(0.3, 0.3) and not stats.meets(0.31, 0.3)
    assert not stats.meets(math.nan, 1.0)


def test_h2load_log_and_summary() -> None:
    log = [
        "1000000\t200\t900",
        "1500000\t200\t1100",  # inside the 1 s warm-up: dropped
        "2000000\t200\t800",
        "2500000\t200\t700",
        "3000000\t200\t1200",
        "garbage line",
    ]
    rows = h2load.parse_log(log)
    assert len(rows) == 5
    kept, rate = h2load.measured(rows, warmup_s=1.0)
    assert [r[2] for r in kept] == [800, 700, 1200]
    assert rate == pytest.approx(2.0)  # 3 requests sent over 1 s: 2 intervals
    summary = h2load.parse_summary(
        "requests: 100 total, 100 started, 100 done, 98 succeeded, 2 failed, 0 errored, 0 timeout\n"
    )
    assert summary["total"] == 100 and summary["succeeded"] == 98
    assert h2load.parse_summary("nothing") == {}


def test_h2load_command_spreads_the_load() -> None:
    assert h2load.stagger_ms(1000) == 1 and h2load.stagger_ms(250) == 4
    assert h2load.stagger_ms(5000) == 1
    target = h2load.Target("http://127.0.0.1:1/api/getMe", b"{}", ("a: b",), http1=True)
    argv = h2load.argv("h2load", target, "body", "log", 1000, 16, 10, 2)  # type: ignore[arg-type]
    assert argv[argv.index("--rps") + 1] == "62.5"
    assert argv[argv.index("--requests") + 1] == "12000"
    assert argv[argv.index("--rate-period") + 1] == "1ms"
    assert "--h1" in argv and argv[-1] == target.url


def test_grpc_frame() -> None:
    assert h2load.grpc_frame(b"abc") == b"\x00" + struct.pack(">I", 3) + b"abc"


def test_the_direct_payload_is_dapr_sized_and_matches_the_grpc_request() -> None:
    params = scenarios.invoice_params()
    assert len(json.dumps(params)) == scenarios.PAYLOAD_BYTES
    message = scenarios.invoice_message(params)
    assert mapping.to_params(message) == params


@pytest.mark.parametrize("path", sorted(canned_bodies(10)))
def test_stub_answers_are_valid_crypto_pay_results(path: str) -> None:
    envelope = mapping.loads(canned_bodies(10)[path])
    spec = BY_API[path.rsplit("/", 1)[1]]
    response = mapping.result_to_response(spec, envelope["result"])
    # Nothing the proto does not know: the sidecar maps the whole answer.
    assert "unknown_fields" not in str(response)


def test_profile_aggregation() -> None:
    total, self_counts, inclusive = profiling.aggregate(
        ["main;handle;call 3", "main;handle 1", "main;idle 6", "not a stack line"]
    )
    assert total == 10
    assert self_counts["call"] == 3 and self_counts["idle"] == 6
    assert inclusive["main"] == 10 and inclusive["handle"] == 4
    assert profiling.top(inclusive, total, 1, only="hand") == [["40.0 %", "`handle`"]]


def _run(label: str, p50: float, cpu: float | None = None) -> scenarios.Run:
    latency = stats.Latency(100, p50, p50 + 0.5, p50 + 1, p50 + 2, p50 + 3, p50)
    return scenarios.Run(
        label,
        "h2load",
        latency,
        1000.0,
        True,
        cpu=cpu,
        cpu_us_per_request=None if cpu is None else cpu * 1000,
        peak_rss_mb=None if cpu is None else 55.0,
        anon_rss_mb=None if cpu is None else 30.0,
        redis_per_request=None if cpu is None else (9.0, 2.0),
    )


def test_report_tables() -> None:
    direct, through = _run("direct (HTTP/1.1)", 1.0), _run("through the sidecar", 1.4, 0.25)
    result = scenarios.Overhead(
        "stub", "Redis", (direct, through), (scenarios.Comparison("**overhead**", through, direct),)
    )
    text = report.render(
        scenarios.Results(overhead=[result], throughput=scenarios.NotAvailable("why")),
        ["Machine: test"],
    )
    assert "| **overhead** | +0.40 | +0.40 | +0.40 | +0.40 |" in text
    assert "| p50 overhead | <= 0.5 ms | +0.40 ms | yes |" in text
    assert "| CPU at the rate | <= 0.3 vCPU | 0.25 vCPU | yes |" in text
    assert "9.0 (2.0 scripts)" in text
    assert "n/a: why" in text and "- Machine: test" in text


def test_profile_categories_take_the_most_specific_part() -> None:
    lines = [
        "main;Pipeline.handle (sidecar/pipeline.py:1);HttpUpstream.call (sidecar/upstream.py:2) 4",
        "main;IdempotencyStep.run (sidecar/idempotency/step.py:1);"
        "AsyncScript.__call__ (redis/commands/core.py:9) 3",
        "Thread.run (threading.py:982) 2",
        "main;Runner.run (asyncio/runners.py:118) 1",
    ]
    total, parts = profiling.categorize(lines)
    assert total == 10
    assert parts["upstream HTTP call (aiohttp)"] == 4
    assert parts["Redis client (redis-py)"] == 3
    assert parts["gRPC completion-queue poller thread"] == 2
    assert parts[profiling.LOOP] == 1


@pytest.mark.parametrize(
    ("passed_at", "failed_at", "expected"),
    [
        (500.0, None, 750.0),  # every step passed so far: up
        (1750.0, None, 2000.0),
        (2000.0, None, 2500.0),
        (5500.0, None, None),  # above the ceiling
        (None, 500.0, 250.0),  # the first step failed: halve
        (None, 40.0, None),
        (250.0, 500.0, 375.0),  # bisect between the best pass and the first failure
        (375.0, 500.0, 450.0),
        (450.0, 500.0, None),  # known within 50 QPS
    ],
)
def test_throughput_search(
    passed_at: float | None, failed_at: float | None, expected: float | None
) -> None:
    assert scenarios.next_step(passed_at, failed_at, 5000.0) == expected


def test_serve_flags_are_spelled_as_serve_parses_them() -> None:
    flags = sidecar_process.serve_flags(
        {
            "redis_url": "redis://127.0.0.1:1/0",
            "demo": True,
            "policy": Path("/etc/policy.yaml"),
            "grace": 1,
            "request_timeout": 0.5,
            "tls_cert": None,
            "log_format": False,
        }
    )
    assert flags == [
        *("--redis-url", "redis://127.0.0.1:1/0", "--demo", "--policy", "/etc/policy.yaml"),
        *("--grace", "1", "--request-timeout", "0.5"),
    ]
    parsed = build_parser().parse_args(["serve", *flags])
    assert (parsed.redis_url, parsed.demo, parsed.grace) == ("redis://127.0.0.1:1/0", True, 1.0)


def test_pinning_and_priority_prefix_the_command_only_when_asked() -> None:
    assert sidecar_process.pinned(["python"]) == ["python"]
    assert sidecar_process.pinned(["python"], "0", 5) == [
        *("nice", "-n", "5", "taskset", "-c", "0", "python"),
    ]
