"""The runbook's failures, reproduced on a real sidecar process (real Redis, the emulator, real
gRPC): each shows the symptoms the runbook names. Then one scrape of /metrics, taken after all
that traffic, must contain every metric that an alert, a dashboard panel or the runbook names."""

from __future__ import annotations

import ast
import http.server
import json
import re
import string
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from prometheus_client import Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from bench.sidecar_process import SidecarProcess
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.policy import identity
from sidecar.signature import HEADER, sign, verify
from sidecar.telemetry import metrics
from tests.conftest import RedisServer, spawn_redis
from tests.e2e.test_process import spawn
from tests.helpers import REPO, eventually_sync, free_port, new_token, rich_details
from tests.monitoring.artifacts import (
    RUNBOOK,
    alerts,
    dashboard_variable_queries,
    load_dashboard,
    panel_queries,
    runbook_sections,
    substitute_variables,
)
from tests.monitoring.promql import Selector, family_candidates, selectors
from tests.webhooks.conftest import update_body

# The caller "shop" has the app's webhooks relayed to its own handler.
POLICY = string.Template("""\
version: 1
callers:
  shop:
    token_sha256: $token_sha256
    relay: {url: "$relay_url", timeout: 5s}
defaults:
  spend_caps:
    - {asset: USDT, max: "5", window: rolling_24h}
    - {asset: TON, max: "1", window: rolling_24h, mode: audit}
""")
RELAYED = "cryptopay_sidecar_webhook_relay_deliveries_total"
RELAY_ACTIVE = "cryptopay_sidecar_webhook_relay_active"
RELAY_LAG = "cryptopay_sidecar_webhook_relay_lag_seconds"
# Labels Prometheus adds to every scraped series (and dashboards select on).
TARGET_LABELS = {"namespace", "job", "instance", "pod", "le"}


# --- helpers --------------------------------------------------------------------------------------


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        url = f"http://127.0.0.1:{port}{path}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except urllib.error.URLError:
        return 0, ""  # not listening (yet)


def scrape(port: int) -> list[Metric]:
    status, text = http_get(port, "/metrics")
    assert status == 200
    return list(text_string_to_metric_families(text))


def value(families: list[Metric], name: str, **labels: str) -> float:
    for family in families:
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def reason(error: grpc.RpcError) -> str:
    info = rich_details(error).get("ErrorInfo")
    return str(info.reason) if info is not None else ""


def refused(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert isinstance(info.value, grpc.RpcError)
    return info.value


def key(text: str) -> tuple[tuple[str, str]]:
    return (("idempotency-key", text),)


def post_webhook(port: int, token: str, body: bytes) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/cryptopay",
        data=body,
        headers={HEADER: sign(token, body), "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


@dataclass
class Handler:
    """A caller's own webhook endpoint: answers 500 to the first request (a failed attempt),
    then 200 to a body signed with the caller's token, 400 to any other."""

    token: str
    url: str = ""
    statuses: list[int] = field(default_factory=list)

    def answer(self, body: bytes, signature: str | None) -> int:
        verified = verify(body, signature, [self.token])
        status = (200 if verified else 400) if self.statuses else 500
        self.statuses.append(status)
        return status


@pytest.fixture(scope="module")
def shop_handler() -> Iterator[Handler]:
    """The handler of the caller "shop", on a port of its own, with a token of its own."""
    handler = Handler(identity.new_token())

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(handler.answer(body, self.headers.get(HEADER)))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A path and query, which the relay's logs must not show.
    handler.url = f"http://127.0.0.1:{server.server_port}/hooks/shop?secret=s3"
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Sidecar:
    """A `python -m sidecar serve` process against the emulator and Redis."""

    def __init__(self, upstream: str, redis: RedisServer, token: str, policy: Path):
        self.process = SidecarProcess(
            upstream=upstream,
            redis_url=redis.url,
            policy=policy,
            policy_poll_interval=0.2,
            log_level="debug",
            env={"CRYPTOPAY_API_TOKEN": token},
        ).wait_serving()
        self.http_port = self.process.http_port
        self.channel = grpc.insecure_channel(self.process.target)
        self.stub = pb_grpc.CryptoPayServiceStub(self.channel)

    def stop(self) -> list[dict[str, Any]]:
        """Stops the process; its log lines."""
        self.channel.close()
        return self.process.stop(timeout=30)


# --- the failures, one after the other on one process ---------------------------------------------


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[str]:
    """An emulator of its own, in a process: the tests here block on synchronous calls."""
    port = free_port()
    proc = spawn("emulator", "--listen", f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    try:
        eventually_sync(
            lambda: http_get(port, "/_emulator/faults")[0] == 200, "the emulator", within=20
        )
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def redis_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private redis-server for this module (never the machine's shared one)."""
    directory = str(tmp_path_factory.mktemp("redis"))
    port = free_port()
    server = RedisServer(port, spawn_redis(port, directory), directory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def logs_and_scrape(
    emulator_process: str,
    redis_module: RedisServer,
    shop_handler: Handler,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[list[dict[str, Any]], list[Metric]]]:
    """Drives every failure the runbook can reproduce through one sidecar; yields its log lines
    and the scrape of /metrics taken before Redis was stopped (so the Redis metrics are there)."""
    token = new_token()
    redis_server = redis_module

    def fault(**rule: Any) -> None:
        request = urllib.request.Request(
            f"{emulator_process}/_emulator/faults",
            data=json.dumps(rule).encode(),
            headers={"Crypto-Pay-API-Token": token, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    handler = shop_handler
    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text(
        POLICY.substitute(token_sha256=identity.key_digest(handler.token), relay_url=handler.url),
        encoding="utf-8",
    )
    sidecar = Sidecar(emulator_process, redis_server, token, policy)
    stub = sidecar.stub
    lines: list[dict[str, Any]] = []
    try:
        # A webhook relayed to the caller's handler: refused once, then delivered.
        eventually_sync(
            lambda: value(scrape(sidecar.http_port), RELAY_ACTIVE, caller="shop") == 1,
            "the relay to be active",
            within=20,
        )
        assert post_webhook(sidecar.http_port, token, update_body(4242)) == 200
        eventually_sync(
            lambda: value(scrape(sidecar.http_port), RELAYED, caller="shop", outcome="delivered"),
            "the event to be relayed",
            within=20,
        )
        assert handler.statuses == [500, 200]

        # Ordinary traffic: reads, a keyed create, a transfer under the cap, an audited one.
        stub.GetMe(pb.GetMeRequest(), timeout=10)
        stub.GetBalance(pb.GetBalanceRequest(), timeout=10)
        stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="1"), metadata=key("a"))
        stub.Transfer(
            pb.TransferRequest(user_id=7, asset="USDT", amount="2", spend_id="t-1"), timeout=10
        )
        stub.Transfer(
            pb.TransferRequest(user_id=7, asset="TON", amount="2", spend_id="t-ton"), timeout=10
        )

        # Idempotency conflict: the same key with a different request.
        error = refused(
            lambda: stub.CreateInvoice(
                pb.CreateInvoiceRequest(asset="USDT", amount="2"), metadata=key("a"), timeout=10
            )
        )
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert reason(error) == "IDEMPOTENCY_KEY_REUSED"

        # Upstream 429, then 503: retried, and counted by status.
        # (Reads of the app's own state: reference data may come from the cache.)
        fault(method="getBalance", kind="status", status=429, count=1)
        stub.GetBalance(pb.GetBalanceRequest(), timeout=10)
        fault(method="getInvoices", kind="status", status=503, count=1)
        stub.GetInvoices(pb.GetInvoicesRequest(), timeout=10)

        # A transfer performed, then its connection dropped: looked up and reconciled.
        fault(method="transfer", kind="commit_then_fail", then="drop", count=1)
        stub.Transfer(
            pb.TransferRequest(user_id=7, asset="USDT", amount="2", spend_id="t-2"), timeout=15
        )
        # A create performed, then answered 502: OUTCOME_UNKNOWN, not retried.
        fault(method="createInvoice", kind="commit_then_fail", status=502, count=1)
        error = refused(
            lambda: stub.CreateInvoice(
                pb.CreateInvoiceRequest(asset="TON", amount="1"), metadata=key("b"), timeout=10
            )
        )
        assert reason(error) == "OUTCOME_UNKNOWN"

        # The spend cap: 2 + 2 of 5 USDT are spent, 2 more would pass it.
        error = refused(
            lambda: stub.Transfer(
                pb.TransferRequest(user_id=7, asset="USDT", amount="2", spend_id="t-3"),
                timeout=10,
            )
        )
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED
        assert rich_details(error)["ErrorInfo"].metadata["rule"] == "spend_caps[0]"

        # A policy rejected on reload: the previous one stays active.
        policy.write_text("version: 2\n", encoding="utf-8")
        eventually_sync(
            lambda: json.loads(http_get(sidecar.http_port, "/policy")[1])["last_reload_error"],
            "the reload to be rejected",
            within=20,
        )
        families = scrape(sidecar.http_port)

        # Redis down: not ready with the reason, keyed calls and capped calls refused.
        redis_server.stop()
        eventually_sync(
            lambda: http_get(sidecar.http_port, "/readyz")[0] == 503, "not ready", within=20
        )
        _, body = http_get(sidecar.http_port, "/readyz")
        assert json.loads(body)["reason"].startswith("redis: ")
        down = scrape(sidecar.http_port)
        assert value(down, "cryptopay_sidecar_dependency_up", dependency="redis") == 0
        assert value(down, "cryptopay_sidecar_ready") == 0
        error = refused(
            lambda: stub.CreateInvoice(
                pb.CreateInvoiceRequest(asset="USDT", amount="1"), metadata=key("c"), timeout=10
            )
        )
        assert (error.code(), reason(error)) == (
            grpc.StatusCode.UNAVAILABLE,
            "IDEMPOTENCY_STORE_UNAVAILABLE",
        )
        error = refused(
            lambda: stub.Transfer(
                pb.TransferRequest(user_id=7, asset="USDT", amount="1", spend_id="t-4"),
                timeout=10,
            )
        )
        assert reason(error) == "SPEND_STORE_UNAVAILABLE"
        stub.GetMe(pb.GetMeRequest(), timeout=10)  # reads are still served
        after = scrape(sidecar.http_port)
        assert value(after, "cryptopay_sidecar_idempotency_total", result="unavailable") >= 1

        # Redis back: ready again, by itself.
        redis_server.start()
        eventually_sync(
            lambda: http_get(sidecar.http_port, "/readyz")[0] == 200, "ready again", within=20
        )
    finally:
        lines = sidecar.stop()
    yield lines, families


def test_runbook_symptoms_show(
    logs_and_scrape: tuple[list[dict[str, Any]], list[Metric]],
) -> None:
    lines, families = logs_and_scrape
    messages = [line["msg"] for line in lines]
    for expected in (
        "policy denied the call",
        "transfer reconciled: the upstream had performed it",
        "upstream attempt failed",
        "policy rejected; the previous policy stays active",
        "dependency down",
        "not ready",
        "idempotency store unavailable; refusing a keyed call",
        "spend store unreachable; spend cap fails closed",
        "dependency recovered",
        "ready",
        "webhook relay configured",
        "webhook relay active on this replica",
        "webhook relay attempt failed; retrying",
    ):
        assert expected in messages, expected
    denied = next(line for line in lines if line["msg"] == "policy denied the call")
    assert denied["rule"] == "spend_caps[0]" and "left: 1" in denied["reason"]
    statuses = {line.get("status") for line in lines if line["msg"] == "upstream attempt failed"}
    assert {429, 503, "disconnect", 502} <= statuses

    failed = next(line for line in lines if line["msg"] == "webhook relay attempt failed; retrying")
    assert (failed["caller"], failed["outcome"], failed["status"]) == ("shop", "refused", 500)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", failed["target"])  # no path, no query

    def v(name: str, **labels: str) -> float:
        return value(families, name, **labels)

    assert v("cryptopay_sidecar_idempotency_total", result="conflict") == 1
    assert v("cryptopay_sidecar_upstream_attempts_total", method="getBalance", status="429") == 1
    assert v("cryptopay_sidecar_retries_total", reason="TOO_MANY_REQUESTS") == 1
    assert v("cryptopay_sidecar_upstream_attempts_total", status="503") == 1
    assert v("cryptopay_sidecar_upstream_attempts_total", method="transfer", status="disconnect")
    assert v("cryptopay_sidecar_retries_stopped_total", reason="effect_forbids") == 1
    assert v("cryptopay_sidecar_policy_decisions_total", rule="spend_caps[0]", result="deny") == 1
    assert (
        v("cryptopay_sidecar_policy_decisions_total", rule="spend_caps[1]", result="would_deny")
        == 1
    )
    assert v("cryptopay_sidecar_policy_loads_total", result="error") == 1
    assert v("cryptopay_sidecar_dependency_up", dependency="redis") == 1
    assert v(RELAYED, caller="shop", outcome="refused") == 1
    assert v(RELAYED, caller="shop", outcome="delivered") == 1
    assert v(RELAY_ACTIVE, caller="shop") == 1
    lag = [s.value for f in families for s in f.samples if s.name == RELAY_LAG]
    assert lag == [0.0]  # caught up


# --- every metric named anywhere exists in the scrape ---------------------------------------------


def exported(families: list[Metric]) -> set[str]:
    """Every name a query may use: the families and the samples of the scrape."""
    names = set()
    for family in families:
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
        if family.type == "info":
            names.add(family.name + "_info")
    return names


def declared_labels() -> dict[str, set[str]]:
    """family -> label names, from the sidecar's own metric definitions."""
    out: dict[str, set[str]] = {}
    for item in vars(metrics).values():
        if isinstance(item, MetricWrapperBase):
            out[item._name] = set(item._labelnames)
    return out


def check_selector(selector: Selector, names: set[str], where: str) -> None:
    assert selector.name in names, f"{where}: {selector.name} is not in the scrape of /metrics"
    if not selector.name.startswith("cryptopay_sidecar_"):
        return
    labels = declared_labels()
    family = next(f for f in family_candidates(selector.name) if f in labels)
    for label, _, _ in selector.matchers:
        assert label in labels[family] | TARGET_LABELS, f"{where}: {family} has no label {label}"


def test_alert_rules_use_only_exported_metrics(
    logs_and_scrape: tuple[list[dict[str, Any]], list[Metric]],
) -> None:
    names = exported(logs_and_scrape[1])
    for rule in alerts():
        for selector in selectors(rule["expr"]):
            check_selector(selector, names, rule["alert"])


def test_dashboard_uses_only_exported_metrics(
    logs_and_scrape: tuple[list[dict[str, Any]], list[Metric]],
) -> None:
    names = exported(logs_and_scrape[1])
    dashboard = load_dashboard()
    queries = [
        *panel_queries(dashboard),
        *(("variable", q) for q in dashboard_variable_queries(dashboard)),
    ]
    assert queries
    for title, expr in queries:
        for selector in selectors(substitute_variables(expr)):
            check_selector(selector, names, f"panel {title!r}")


def test_runbook_names_only_exported_metrics(
    logs_and_scrape: tuple[list[dict[str, Any]], list[Metric]],
) -> None:
    names = exported(logs_and_scrape[1])
    text = RUNBOOK.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"\b(?:cryptopay_sidecar|process)_[a-z0-9_]+", text))
    assert mentioned
    assert mentioned - names == set()


# --- the runbook's log lines are the code's ----------------------------------------------------


def code_messages() -> list[re.Pattern[str]]:
    """Every string literal of the sidecar's code, f-strings as patterns."""
    out: list[re.Pattern[str]] = []
    for path in (REPO / "sidecar").rglob("*.py"):
        if "gen" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append(re.compile(re.escape(node.value)))
            elif isinstance(node, ast.JoinedStr):
                text = [v.value for v in node.values if isinstance(v, ast.Constant)]
                if sum(len(str(t)) for t in text) < 10:
                    continue  # f"{a}: {b}" would match anything
                parts = [
                    re.escape(str(v.value)) if isinstance(v, ast.Constant) else ".+"
                    for v in node.values
                ]
                out.append(re.compile("".join(parts)))
    return out


# Entries about a component check its log lines once the component is part of the sidecar.
COMPONENT_SECTIONS = {
    "Webhook signature failures": "webhooks",
    "Subscribers lagging or a consumer group stuck": "webhooks",
}


def quoted_messages(text: str) -> set[str]:
    return set(re.findall(r'"msg": "([^"]+)"', text)) | set(re.findall(r'\.msg == "([^"]+)"', text))


def test_runbook_log_lines_exist_in_the_code() -> None:
    quoted: set[str] = set()
    for title, body in runbook_sections().items():
        component = COMPONENT_SECTIONS.get(title)
        if component is None or (REPO / "sidecar" / component).is_dir():
            quoted |= quoted_messages(body)
    quoted |= quoted_messages(RUNBOOK.read_text(encoding="utf-8").split("\n## ")[0])
    assert len(quoted) > 15
    patterns = code_messages()
    missing = sorted(m for m in quoted if not any(p.fullmatch(m) for p in patterns))
    assert missing == [], "log messages the code never writes"


def test_each_failure_names_its_metric_or_log_line() -> None:
    sections = runbook_sections()
    skip = {"Where to look", "Alerts", "After the incident"}
    failures = {title: body for title, body in sections.items() if title not in skip}
    assert len(failures) >= 11
    for title, body in failures.items():
        assert "**Symptoms.**" in body, title
        assert re.search(r"cryptopay_sidecar_\w+|\"msg\": \"", body), title
        assert "**Steps.**" in body or "| code, reason |" in body, title
