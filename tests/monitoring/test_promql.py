"""The PromQL tokenizer that finds the metrics an alert or a dashboard panel selects."""

from __future__ import annotations

import pytest

from tests.monitoring.promql import (
    PromQLError,
    Selector,
    family_candidates,
    metric_names,
    selectors,
)

NAMES = [
    ("up", {"up"}),
    ("cryptopay_sidecar_ready == 0", {"cryptopay_sidecar_ready"}),
    (
        'sum by (namespace, job) (rate(cryptopay_sidecar_rpcs_total{code!~"OK|NOT_FOUND"}[5m]))',
        {"cryptopay_sidecar_rpcs_total"},
    ),
    # Aggregations with the grouping clause after the expression; functions; durations.
    (
        "histogram_quantile(0.99, sum(rate(a_seconds_bucket[5m])) by (le, method))",
        {"a_seconds_bucket"},
    ),
    # Label names in on()/group_left() are not metrics; nor are keywords and numbers.
    (
        "a_total / on (job) group_left (version) b_info > bool 1e3 unless c offset 1h30m",
        {"a_total", "b_info", "c"},
    ),
    ('{__name__="x_total", job="j"}', {"x_total"}),
    ("count(count by (sha256) (p_info)) > 1", {"p_info"}),
    ("max_over_time(d[10m:1m]) and absent(e)", {"d", "e"}),
    # Strings may contain braces, quotes and words that look like metrics.
    ('f{reason=~"(?i)bad_\\"sig\\"{1}", le="+Inf"}', {"f"}),
    ("# a comment naming g\nh", {"h"}),
    ("-i + 0x1F * .5 - inf", {"i"}),
    ("changes(j[15m]) > 4", {"j"}),
    ("sum without (instance) (k)", {"k"}),
    ("min(l) by (job)", {"l"}),
    ("m @ start()", {"m"}),
]


@pytest.mark.parametrize(("expr", "names"), NAMES)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_selectors_carry_their_matchers() -> None:
    assert selectors('a{x="1", y=~"b|c",} / b{z!="\\"q\\""}') == [
        Selector("a", (("x", "=", "1"), ("y", "=~", "b|c"))),
        Selector("b", (("z", "!=", '"q"'),)),
    ]


@pytest.mark.parametrize("expr", ["sum(a", "a{x=}", "a]", 'a{x="1"', "a ; b", "(a))"])
def test_malformed_expressions_are_refused(expr: str) -> None:
    with pytest.raises(PromQLError):
        selectors(expr)


@pytest.mark.parametrize(
    ("name", "families"),
    [
        ("x_seconds_bucket", ["x_seconds_bucket", "x_seconds"]),
        ("x_seconds_count", ["x_seconds_count", "x_seconds"]),
        ("x_total", ["x_total", "x"]),
        ("x_info", ["x_info", "x"]),
        ("x", ["x"]),
    ],
)
def test_family_candidates(name: str, families: list[str]) -> None:
    assert family_candidates(name) == families
