"""Traces, metrics, health and logs of a real sidecar: real gRPC in, real HTTP to the emulator,
real Redis, spans caught by an in-memory exporter, /metrics scraped over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets as random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from sidecar.config import Settings
from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.secrets import Secret
from sidecar.server import Sidecar
from sidecar.telemetry import health, links, metrics, tracing
from tests.conftest import (
    EmulatorControl,
    LogCapture,
    RedisServer,
    RunningSidecar,
    SpanRecorder,
    sample,
    scrape,
    start_sidecar,
)
from tests.helpers import eventually, fixture

CREATE_INVOICE = "/cryptopay.v1.CryptoPayService/CreateInvoice"


def write_policy(directory: Path, key: str) -> str:
    """A policy with a named caller whose amount rule is in audit mode; the default caller
    may only call GetMe."""
    path = directory / "policy.yaml"
    path.write_text(
        "version: 1\n"
        "defaults:\n"
        "  rpcs: {allow: [GetMe]}\n"
        "callers:\n"
        "  shop:\n"
        f"    key_sha256: {hashlib.sha256(key.encode()).hexdigest()}\n"
        "    mode: audit\n"
        '    amounts: {USDT: {max: "4"}}\n'
        "rate_limits:\n"
        "  app: {rate: 100/s, burst: 100}\n"
    )
    return str(path)


def as_shop(key: str) -> tuple[tuple[str, str], ...]:
    return (("x-cryptopay-caller", "shop"), ("x-cryptopay-caller-key", key))


async def closed(running: RunningSidecar) -> None:
    await running.channel.close(None)
    await running.sidecar.stop()


def attr(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(name)


async def test_span_tree_of_a_create_invoice_retried_once(
    emulator: RunningEmulator,
    control: EmulatorControl,
    token: str,
    spans: SpanRecorder,
    tmp_path: Path,
) -> None:
    key = random.token_hex(16)
    running = await start_sidecar(emulator, token, policy_path=write_policy(tmp_path, key))
    try:
        assert running.sidecar.pipeline is not None
        # The real policy, rate limit, retry and idempotency steps.
        await control.fault(token, method="createInvoice", kind="status", status=429, count=1)
        retries_before = metrics.REGISTRY.get_sample_value(
            "cryptopay_sidecar_retries_total",
            {"method": "createInvoice", "reason": "TOO_MANY_REQUESTS"},
        )
        caller_trace, caller_span = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7
        call = running.stub.CreateInvoice(
            pb.CreateInvoiceRequest(asset="USDT", amount="3"),
            metadata=(
                ("traceparent", f"00-{caller_trace:032x}-{caller_span:016x}-01"),
                ("idempotency-key", f"order-{token[-8:]}"),
                *as_shop(key),
            ),
        )
        invoice = (await call).invoice
        assert dict(await call.trailing_metadata())["cryptopay-attempts"] == "2"
    finally:
        await closed(running)

    [server] = spans.named(CREATE_INVOICE)
    assert server.kind is SpanKind.SERVER
    assert server.context.trace_id == caller_trace  # the caller's trace continues
    assert server.parent is not None and server.parent.span_id == caller_span
    assert attr(server, tracing.RPC) == "CreateInvoice"
    assert attr(server, tracing.CALLER) == "shop"
    assert attr(server, tracing.ASSET) == "USDT"
    assert attr(server, tracing.OUTCOME) == "done"
    assert attr(server, tracing.ATTEMPTS) == 2
    assert attr(server, tracing.INVOICE_ID) == invoice.invoice_id
    assert attr(server, tracing.POLICY_DECISION) == "allow"
    assert attr(server, tracing.POLICY_RULE) == "*"

    assert [s.name for s in spans.children(server)] == ["policy", "idempotency"]
    idempotency = spans.children(server)[1]
    assert attr(idempotency, tracing.IDEMPOTENCY_RESULT) == "new"
    steps = spans.children(idempotency)
    assert [s.name for s in steps] == [
        "ratelimit",
        "upstream createInvoice",
        "retry backoff",
        "ratelimit",
        "upstream createInvoice",
    ]
    first, second = steps[1], steps[4]
    assert (attr(first, tracing.ATTEMPT), attr(first, tracing.RESEND_COUNT)) == (1, 0)
    assert (attr(second, tracing.ATTEMPT), attr(second, tracing.RESEND_COUNT)) == (2, 1)
    assert attr(first, tracing.HTTP_STATUS) == 429
    assert attr(first, tracing.ERROR_NAME) == "TOO_MANY_REQUESTS"
    assert first.status.status_code is StatusCode.ERROR
    assert attr(second, tracing.HTTP_STATUS) == 200
    assert second.status.status_code is not StatusCode.ERROR
    assert attr(steps[0], tracing.RATELIMIT_RESULT) == "admitted"

    # The HTTP client span of each attempt, the retry marked as a resend.
    [http_first], [http_second] = spans.children(first), spans.children(second)
    assert http_first.kind is SpanKind.CLIENT and http_first.name == "POST"
    assert tracing.RESEND_COUNT not in (http_first.attributes or {})
    assert attr(http_second, tracing.RESEND_COUNT) == 1
    assert all(s.context.trace_id == caller_trace for s in spans.finished() if s is not server)

    retries_after = metrics.REGISTRY.get_sample_value(
        "cryptopay_sidecar_retries_total",
        {"method": "createInvoice", "reason": "TOO_MANY_REQUESTS"},
    )
    assert (retries_after or 0) - (retries_before or 0) == 1


async def test_policy_decisions_are_counted_and_traced(
    emulator: RunningEmulator,
    token: str,
    spans: SpanRecorder,
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
) -> None:
    key = random.token_hex(16)
    policy = write_policy(tmp_path, key)
    running = await start_sidecar(emulator, token, policy_path=policy)
    try:
        before = await scrape(http_session, running.sidecar.http_port)
        # Above the shop's amount limit, which is in audit mode: allowed, and logged.
        await running.stub.CreateInvoice(
            pb.CreateInvoiceRequest(asset="USDT", amount="5"), metadata=as_shop(key)
        )
        with pytest.raises(grpc.aio.AioRpcError) as denied:  # the default caller may not
            await running.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="1"))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        after = await scrape(http_session, running.sidecar.http_port)
    finally:
        await closed(running)

    def delta(**labels: str) -> float:
        name = "cryptopay_sidecar_policy_decisions_total"
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta(rule="amounts.USDT", mode="audit", result="would_deny") == 1
    assert delta(rule="*", mode="enforce", result="allow") == 1
    assert delta(rule="rpcs", mode="enforce", result="deny") == 1
    active = running.sidecar.policy
    assert active is not None
    assert (
        sample(after, "cryptopay_sidecar_policy_info", sha256=active.current.hash, source=policy)
        == 1
    )
    audited, refused = spans.named(CREATE_INVOICE)
    assert attr(audited, tracing.POLICY_DECISION) == "would_deny"
    assert attr(audited, tracing.POLICY_RULE) == "amounts.USDT"
    assert attr(audited, tracing.CALLER) == "shop"
    assert attr(refused, tracing.POLICY_DECISION) == "deny"
    assert attr(refused, tracing.ERROR_NAME) == "POLICY_DENIED"
    assert attr(refused, tracing.OUTCOME) == "refused"
    [policy_span] = [s for s in spans.children(refused) if s.name == "policy"]
    assert policy_span.status.status_code is StatusCode.ERROR


async def test_reads_and_steps_not_configured_have_no_span(stub: Any, spans: SpanRecorder) -> None:
    await stub.GetMe(pb.GetMeRequest())
    [server] = await spans.ended("/cryptopay.v1.CryptoPayService/GetMe")
    # No rate limit configured, and a read skips idempotency; it goes through the cache.
    policy, cache = spans.children(server)
    assert (policy.name, cache.name) == ("policy", "cache")
    assert attr(cache, tracing.CACHE_RESULT) == "miss"
    [attempt] = spans.children(cache)
    assert attempt.name == "upstream getMe"
    assert [s.kind for s in spans.children(attempt)] == [SpanKind.CLIENT]
    # Answered from the cache: no upstream span at all.
    await stub.GetMe(pb.GetMeRequest())
    servers = await spans.ended("/cryptopay.v1.CryptoPayService/GetMe", count=2)
    hit = next(s for s in spans.children(servers[-1]) if s.name == "cache")
    assert attr(hit, tracing.CACHE_RESULT) == "hit" and spans.children(hit) == []


async def test_health_checks_are_not_traced(sidecar: RunningSidecar, spans: SpanRecorder) -> None:
    await grpc_health(sidecar.target)
    await sidecar.stub.GetMe(pb.GetMeRequest())  # traced, and ends after the health check
    await spans.ended("/cryptopay.v1.CryptoPayService/GetMe")
    assert not [s for s in spans.finished() if "grpc.health" in s.name]


async def test_a_refused_rpc_marks_its_server_span(stub: Any, spans: SpanRecorder) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="FFF", amount="1"))
    [server] = await spans.ended(CREATE_INVOICE)
    assert server.status.status_code is StatusCode.ERROR
    assert attr(server, tracing.GRPC_STATUS) == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert attr(server, tracing.ERROR_NAME) == "UNSUPPORTED_ASSET"
    assert attr(server, tracing.OUTCOME) == "rejected"


@pytest.fixture
async def redis_sidecar(
    emulator: RunningEmulator, token: str, redis_server: RedisServer
) -> AsyncIterator[RunningSidecar]:
    running = await start_sidecar(
        emulator, token, redis_url=Secret(redis_server.url), redis_probe_interval=0.1
    )
    yield running
    await closed(running)


async def test_webhook_span_links_to_the_trace_that_created_the_invoice(
    redis_sidecar: RunningSidecar, spans: SpanRecorder
) -> None:
    invoice = (
        await redis_sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="2"))
    ).invoice
    [server] = await spans.ended(CREATE_INVOICE)
    # The trace context went to Redis inside the RPC, as a Redis client span.
    assert "SET" in [s.name for s in spans.children(server)]

    hub = redis_sidecar.sidecar.webhooks
    assert hub is not None and isinstance(hub.trace_links, links.RedisTraceContextStore)
    # What the webhook ingest does when Crypto Pay reports the invoice paid.
    link = await links.invoice_link(hub.trace_links, invoice.invoice_id)
    assert link is not None
    with tracing.span("webhook ingest", links=[link]):
        pass
    [ingest] = spans.named("webhook ingest")
    [linked] = ingest.links
    assert linked.context.trace_id == server.context.trace_id
    assert linked.context.span_id == server.context.span_id
    assert (linked.attributes or {})[tracing.LINK_KIND] == links.LINK_INVOICE_CREATED
    assert await links.invoice_link(hub.trace_links, invoice.invoice_id + 10**9) is None


async def test_the_upstream_request_carries_the_trace_context(spans: SpanRecorder) -> None:
    headers: list[dict[str, str]] = []

    async def get_me(request: web.Request) -> web.Response:
        headers.append(dict(request.headers))
        return web.json_response(fixture("getMe-response.json"), dumps=_dumps)

    app = web.Application()
    app.router.add_post("/api/getMe", get_me)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sidecar = Sidecar(
        Settings(
            grpc_listen="127.0.0.1:0",
            http_listen=None,
            upstream_url=f"http://127.0.0.1:{port}",
            token=Secret("1:" + "a" * 35),
            grace_seconds=1.0,
        )
    )
    await sidecar.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}") as channel:
            from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc

            await pb_grpc.CryptoPayServiceStub(channel).GetMe(pb.GetMeRequest())
    finally:
        await sidecar.stop()
        await runner.cleanup()

    [http] = [s for s in spans.finished() if s.kind is SpanKind.CLIENT]
    _version, trace_id, parent_id, _flags = headers[0]["traceparent"].split("-")
    assert int(trace_id, 16) == http.context.trace_id
    assert int(parent_id, 16) == http.context.span_id


@pytest.mark.parametrize("exporting", [False, True], ids=["no exporter", "unsampled caller"])
async def test_a_call_without_an_exportable_span_makes_none_and_keeps_the_callers_trace(
    exporting: bool,
    spans: SpanRecorder,
    captured_logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing exports (or the caller's trace is unsampled under the parent-based sampler): no
    # span is made, yet log lines carry the caller's trace id and the trace context goes on.
    if not exporting:
        monkeypatch.setattr(tracing._gate, "open", False)
    headers: list[dict[str, str]] = []

    async def get_me(request: web.Request) -> web.Response:
        headers.append(dict(request.headers))
        return web.json_response(fixture("getMe-response.json"), dumps=_dumps)

    app = web.Application()
    app.router.add_post("/api/getMe", get_me)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sidecar = Sidecar(
        Settings(
            grpc_listen="127.0.0.1:0",
            http_listen=None,
            upstream_url=f"http://127.0.0.1:{runner.addresses[0][1]}",
            token=Secret("1:" + "a" * 35),
            grace_seconds=1.0,
        )
    )
    caller_trace, caller_span = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
    flags = "00" if exporting else "01"
    await sidecar.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}") as channel:
            from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc

            await pb_grpc.CryptoPayServiceStub(channel).GetMe(
                pb.GetMeRequest(),
                metadata=(("traceparent", f"00-{caller_trace:032x}-{caller_span:016x}-{flags}"),),
            )
            await pb_grpc.CryptoPayServiceStub(channel).GetMe(pb.GetMeRequest())
    finally:
        await sidecar.stop()
        await runner.cleanup()

    assert not [s for s in spans.finished() if s.context.trace_id == caller_trace]
    if not exporting:
        assert spans.finished() == []
    _version, trace_id, parent_id, sent_flags = headers[0]["traceparent"].split("-")
    assert (int(trace_id, 16), int(parent_id, 16), sent_flags) == (caller_trace, caller_span, flags)
    finished = [line for line in captured_logs.lines() if line["msg"] == "rpc finished"]
    assert len(finished) == 2
    assert finished[0]["trace_id"] == f"{caller_trace:032x}"
    if not exporting:  # a caller without a traceparent starts no trace of its own
        assert "trace_id" not in finished[1]


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def test_metrics_count_what_happened(
    sidecar: RunningSidecar,
    control: EmulatorControl,
    token: str,
    http_session: aiohttp.ClientSession,
) -> None:
    port = sidecar.sidecar.http_port
    before = await scrape(http_session, port)
    await sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="1"))
    await sidecar.stub.GetMe(pb.GetMeRequest())
    with pytest.raises(grpc.aio.AioRpcError):  # refused before the upstream
        await sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="-1"))
    with pytest.raises(grpc.aio.AioRpcError):  # refused by the upstream
        await sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="FFF", amount="1"))
    await control.fault(token, method="createInvoice", kind="status", status=429, count=1)
    await sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="3"))  # retried
    # A 5xx may have created the invoice: never retried.
    await control.fault(token, method="createInvoice", kind="status", status=500, count=1)
    with pytest.raises(grpc.aio.AioRpcError) as unclear:
        await sidecar.stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="4"))
    keyed = (("idempotency-key", f"metrics-{token[-8:]}"),)
    for _ in range(2):  # the second is a replay
        await sidecar.stub.CreateInvoice(
            pb.CreateInvoiceRequest(asset="USDT", amount="5"), metadata=keyed
        )
    after = await scrape(http_session, port)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    rpcs = "cryptopay_sidecar_rpcs_total"
    assert delta(rpcs, method="CreateInvoice", code="OK", protocol="grpc") == 4
    assert delta(rpcs, method="CreateInvoice", code="INVALID_ARGUMENT", protocol="grpc") == 2
    assert delta(rpcs, method="CreateInvoice", code=unclear.value.code().name, protocol="grpc") == 1
    assert delta(rpcs, method="GetMe", code="OK", protocol="grpc") == 1
    assert (
        delta(
            "cryptopay_sidecar_rpc_duration_seconds_count", method="CreateInvoice", protocol="grpc"
        )
        == 7
    )
    attempts = "cryptopay_sidecar_upstream_attempts_total"
    assert delta(attempts, method="createInvoice", status="200") == 3
    assert delta(attempts, method="createInvoice", status="400") == 1
    assert delta(attempts, method="createInvoice", status="429") == 1
    assert delta(attempts, method="createInvoice", status="500") == 1
    assert delta(attempts, method="getMe", status="200") == 1
    assert (
        delta("cryptopay_sidecar_upstream_attempt_duration_seconds_count", method="createInvoice")
        == 6
    )
    retries = "cryptopay_sidecar_retries_total"
    assert delta(retries, method="createInvoice", reason="TOO_MANY_REQUESTS") == 1
    stopped = "cryptopay_sidecar_retries_stopped_total"
    assert delta(stopped, method="createInvoice", reason="effect_forbids") == 1
    idempotency = "cryptopay_sidecar_idempotency_total"
    assert delta(idempotency, method="CreateInvoice", result="new") == 1
    assert delta(idempotency, method="CreateInvoice", result="replayed") == 1
    assert (
        sample(after, "cryptopay_sidecar_rpcs_in_flight", method="CreateInvoice", protocol="grpc")
        == 0
    )
    assert sample(after, "cryptopay_sidecar_ready") == 1
    assert sample(after, "cryptopay_sidecar_build_info", version="0.1.0") == 1


async def test_metrics_speak_openmetrics_when_asked(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{sidecar.sidecar.http_port}/metrics"
    headers = {"Accept": "application/openmetrics-text; version=1.0.0"}
    async with http_session.get(url, headers=headers) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await response.text()).rstrip().endswith("# EOF")


async def test_secrets_never_reach_spans_logs_or_metrics(
    emulator: RunningEmulator,
    control: EmulatorControl,
    token: str,
    spans: SpanRecorder,
    captured_logs: LogCapture,
    http_session: aiohttp.ClientSession,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    caller_key = "ck_" + random.token_hex(16)
    hidden = "HIDDEN" + random.token_hex(8)
    payload = "PAYLOAD" + random.token_hex(8)
    comment = "COMMENT" + random.token_hex(8)
    keyed = (
        *as_shop(caller_key),  # the key the policy identifies the caller by
        ("authorization", f"Bearer {caller_key}"),
        ("x-api-key", caller_key),
    )
    # With Redis, so the idempotency records (which hold whole answers) go through it too, and
    # a policy that identifies the caller by its key and logs an audited amount.
    running = await start_sidecar(
        emulator,
        token,
        redis_url=Secret(redis_server.url),
        policy_path=write_policy(tmp_path, caller_key),
    )
    try:
        stub = running.stub
        created = await stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                asset="USDT", amount="5", hidden_message=hidden, payload=payload
            ),
            metadata=(*keyed, ("idempotency-key", "invoice-1")),
        )
        await stub.GetInvoices(pb.GetInvoicesRequest(), metadata=keyed)
        # Refused by validation, by the upstream, and lost on the way: every error path logs.
        for request in (
            pb.CreateInvoiceRequest(asset="USDT", amount="5", hidden_message=hidden * 200),
            pb.CreateInvoiceRequest(asset="FFF", amount="5", payload=payload),
        ):
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.CreateInvoice(request, metadata=keyed)
        # Lost on the way, then retried and reconciled by spend_id.
        await control.fault(token, method="transfer", kind="drop", count=1)
        await stub.Transfer(
            pb.TransferRequest(user_id=42, asset="TON", amount="1", spend_id="s1", comment=comment),
            metadata=(*keyed, ("idempotency-key", "transfer-1")),
        )
        await stub.Transfer(
            pb.TransferRequest(user_id=42, asset="TON", amount="1", spend_id="s2", comment=comment),
            metadata=keyed,
        )
        await control.pay(token, created.invoice.invoice_id, comment=comment)
        await stub.GetInvoices(pb.GetInvoicesRequest(), metadata=keyed)
        metrics_text = json.dumps(
            [list(k) for k in await scrape(http_session, running.sidecar.http_port)], default=str
        )
    finally:
        await closed(running)

    exported = [s.to_json() for s in spans.finished()]
    raw = [s.to_json() for s in spans.raw.get_finished_spans()]
    log_text = captured_logs.text()
    # The checks see real traffic: the server spans, attempt failures and the RPC lines.
    assert sum(CREATE_INVOICE in s for s in exported) == 3
    assert any('"name": "EVALSHA"' in s or '"name": "SET"' in s for s in exported)
    messages = [line["msg"] for line in captured_logs.lines()]
    assert "upstream attempt failed" in messages
    assert "policy would deny the call (audit mode)" in messages
    assert sum(line["msg"] == "rpc finished" for line in captured_logs.lines()) == 7
    assert "cryptopay_sidecar_rpcs_total" in metrics_text
    for name, secret in {
        "API token": token,
        "token secret part": token.split(":")[1],
        "caller key": caller_key,
        "hidden_message": hidden,
        "payload": payload,
        "comment": comment,
    }.items():
        for where, text in {
            "exported spans": "\n".join(exported),
            "recorded spans": "\n".join(raw),
            "logs": log_text,
            "/metrics": metrics_text,
        }.items():
            assert secret not in text, f"the {name} appears in {where}"


async def grpc_health(target: str, service: str = "cryptopay.v1.CryptoPayService") -> int:
    async with grpc.aio.insecure_channel(target) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        return int(response.status)


async def readyz(session: aiohttp.ClientSession, port: int) -> tuple[int, dict[str, Any]]:
    async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
        return response.status, await response.json()


SERVING: int = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING: int = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_follows_redis_loss_and_recovery(
    redis_sidecar: RunningSidecar,
    redis_server: RedisServer,
    http_session: aiohttp.ClientSession,
    captured_logs: LogCapture,
) -> None:
    target, port = redis_sidecar.target, redis_sidecar.sidecar.http_port

    async def serving() -> bool:
        return await grpc_health(target) == SERVING

    async def not_serving() -> bool:
        return await grpc_health(target) == NOT_SERVING

    await eventually(serving, "SERVING", within=20)
    redis_server.stop()
    await eventually(not_serving, "NOT_SERVING", within=20)
    status, body = await readyz(http_session, port)
    assert status == 503 and body["reason"].startswith("redis: ")
    async with http_session.get(f"http://127.0.0.1:{port}/healthz") as response:
        assert response.status == 200  # alive: a restart would not bring Redis back
    redis_server.start()
    await eventually(serving, "SERVING", within=20)
    assert (await readyz(http_session, port))[0] == 200
    messages = [line["msg"] for line in captured_logs.lines()]
    assert "dependency down" in messages and "dependency recovered" in messages


async def test_degraded_readiness_stays_ready_while_redis_is_down(
    emulator: RunningEmulator,
    token: str,
    redis_server: RedisServer,
    http_session: aiohttp.ClientSession,
) -> None:
    running = await start_sidecar(
        emulator,
        token,
        redis_url=Secret(redis_server.url),
        redis_probe_interval=0.1,
        readiness="degraded",
    )
    target, port = running.target, running.sidecar.http_port

    async def api_not_serving() -> bool:
        return await grpc_health(target) == NOT_SERVING

    async def api_serving() -> bool:
        return await grpc_health(target) == SERVING

    try:
        await eventually(api_serving, "the API SERVING", within=20)
        redis_server.stop()
        await eventually(api_not_serving, "the API NOT_SERVING", within=20)
        # The pod stays in its Service: the overall status (what probes ask) and /readyz.
        assert await grpc_health(target, service="") == SERVING
        status, body = await readyz(http_session, port)
        assert status == 200 and body["status"] == "ready"
        assert body["reason"].startswith("degraded: redis: ")
        assert metrics.REGISTRY.get_sample_value("cryptopay_sidecar_degraded") == 1
        redis_server.start()
        await eventually(api_serving, "the API SERVING", within=20)
        assert await readyz(http_session, port) == (200, {"status": "ready", "reason": "ok"})
    finally:
        await running.sidecar.stop()


async def test_dependencies_reported_by_components_drive_health(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    target, port = sidecar.target, sidecar.sidecar.http_port
    try:
        health.set_dependency("policy", False, "policy file has errors")
        await sidecar.sidecar.health.settle()
        assert await grpc_health(target) == NOT_SERVING
        assert await readyz(http_session, port) == (
            503,
            {"status": "not_ready", "reason": "policy: policy file has errors"},
        )
        # A dependency with an allowed fallback degrades without leaving service.
        health.set_dependency("policy", True)
        health.set_dependency("redis", False, "connection refused", required=False)
        await sidecar.sidecar.health.settle()
        assert await grpc_health(target) == SERVING
        assert await readyz(http_session, port) == (
            200,
            {"status": "ready", "reason": "degraded: redis: connection refused"},
        )
    finally:
        health.clear_dependency("policy")
        health.clear_dependency("redis")
    await sidecar.sidecar.health.settle()
    assert await grpc_health(target) == SERVING


async def test_stop_reports_not_serving_before_refusing_calls(
    emulator: RunningEmulator, token: str, http_session: aiohttp.ClientSession
) -> None:
    running = await start_sidecar(emulator, token, shutdown_delay=3.0)
    port = running.sidecar.http_port
    assert await grpc_health(running.target) == SERVING
    stopping = asyncio.create_task(running.sidecar.stop())
    try:

        async def not_ready() -> bool:
            return (await readyz(http_session, port))[0] == 503

        await eventually(not_ready, "not ready", within=5)
        assert (await readyz(http_session, port))[1]["reason"] == "draining"
        assert await grpc_health(running.target) == NOT_SERVING
        # Still answering calls while load balancers notice.
        assert (await running.stub.GetMe(pb.GetMeRequest())).app.app_id > 0
    finally:
        await stopping
        await running.channel.close(None)
