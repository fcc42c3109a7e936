"""Which buckets a call uses, each replica's fallback share, and the trailing metadata."""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.ratelimit import metadata
from sidecar.ratelimit.backend import BucketStatus
from sidecar.ratelimit.config import WhenEmpty, parse_rate_limits
from sidecar.ratelimit.gcra import Limit
from sidecar.ratelimit.plan import plan_call

SECTION: dict[str, Any] = {
    "replicas": 4,
    "app": {"rate": "40/s", "burst": 10},
    "callers": {"*": "10/s", "billing": {"rate": "20/s", "burst": 6, "when_empty": "refuse"}},
    "rpcs": {"CreateInvoice": "5/s"},
    "costs": {"GetStats": 3},
}


@pytest.mark.parametrize(
    ("rpc", "caller", "names", "cost", "mode"),
    [
        ("GetMe", "default", ["app", "caller:default"], 1, WhenEmpty.WAIT),
        ("GetMe", "billing", ["app", "caller:billing"], 1, WhenEmpty.REFUSE),
        ("CreateInvoice", "shop", ["app", "caller:shop", "rpc:CreateInvoice"], 1, WhenEmpty.WAIT),
        ("GetStats", "shop", ["app", "caller:shop"], 3, WhenEmpty.WAIT),
    ],
)
def test_plan(rpc: str, caller: str, names: list[str], cost: int, mode: WhenEmpty) -> None:
    plan = plan_call(parse_rate_limits(SECTION), rpc, caller)
    assert [b.name for b in plan.buckets] == names
    assert (plan.cost, plan.when_empty) == (cost, mode)


def test_no_buckets_when_none_are_configured() -> None:
    plan = plan_call(parse_rate_limits({"when_empty": "refuse"}), "GetMe", "default")
    assert plan.buckets == () and plan.when_empty is WhenEmpty.REFUSE


def test_each_replica_falls_back_to_its_share() -> None:
    app, caller = plan_call(parse_rate_limits(SECTION), "GetMe", "x").buckets
    assert app.limit == Limit.per(40, 1, 10)
    assert app.local == Limit.per(40, 4, 3)  # 10/s each; burst 10 // 4 = 2, but GetStats costs 3
    assert caller.local.rate == pytest.approx(2.5) and caller.local.burst == 3


def test_trailing_metadata() -> None:
    app, caller = plan_call(parse_rate_limits(SECTION), "GetMe", 'we"ird').buckets
    trailing = dict(
        metadata.trailing([BucketStatus(app, 7.6, 0.24), BucketStatus(caller, -2.0, 1.2)])
    )
    assert trailing == {
        "ratelimit-policy": '"app";q=40;w=1;burst=10, "caller:we\\"ird";q=10;w=1;burst=10',
        "ratelimit": '"app";r=7;t=1, "caller:we\\"ird";r=0;t=2',
        "ratelimit-remaining": "0",
        "ratelimit-reset": "2",
    }
    assert metadata.trailing([]) == []
