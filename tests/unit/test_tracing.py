"""Tracing: exporter choice from OTEL_*, redaction of exported spans, context across gaps."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from sidecar import secrets
from sidecar.config import ConfigError
from sidecar.telemetry import tracing
from tests.conftest import SpanRecorder

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}


@pytest.mark.parametrize(
    ("env", "choice"),
    [
        ({}, "none"),
        (ENDPOINT, "otlp_grpc"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "otlp_grpc"),
        ({**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "otlp_http"),
        (
            {
                **ENDPOINT,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            },
            "otlp_http",
        ),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp_grpc"),  # the exporter's default endpoint
        ({**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, "none"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": " Console , otlp"}, "console"),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "true"}, "none"),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "false"}, "otlp_grpc"),
    ],
)
def test_exporter_choice(env: dict[str, str], choice: str) -> None:
    assert tracing.exporter_choice(env) == choice


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin' is not supported"),
        (
            {**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_PROTOCOL='http/json' is not supported",
        ),
    ],
)
def test_exporter_choice_refuses_what_it_cannot_do(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        tracing.exporter_choice(env)


def test_exported_spans_are_scrubbed_of_registered_secrets(spans: SpanRecorder) -> None:
    secret = "1234:ScrubMeFromEveryExportedSpan00000000"
    secrets.register(secret)
    with tracing.span("clean", {"a": "nothing to see"}):
        pass
    with pytest.raises(RuntimeError), tracing.span(f"leaky {secret}", {"a": f"x{secret}x"}):
        raise RuntimeError(f"failed with {secret}")
    clean, leaky = spans.finished()
    assert clean.name == "clean"
    exported = leaky.to_json()
    assert secret not in exported and "***" in exported
    assert leaky.name == "leaky ***" and (leaky.attributes or {})["a"] == "x***x"
    assert leaky.status.description == "RuntimeError: failed with ***"
    [_raw_clean, raw_leaky] = spans.raw.get_finished_spans()
    assert secret in raw_leaky.to_json()  # the recorded span itself is untouched


def test_a_clean_span_is_exported_as_is() -> None:
    span = ReadableSpan(name="x", attributes={"k": "v", "n": 1, "l": ("a", "b")})
    assert tracing.scrub_span(span) is span


def test_traceparent_round_trip_makes_a_link(spans: SpanRecorder) -> None:
    assert tracing.current_traceparent() is None
    with tracing.span("create") as created:
        traceparent = tracing.current_traceparent()
    assert traceparent is not None
    link = tracing.link(traceparent, "invoice.created")
    assert link is not None
    assert link.context.trace_id == created.get_span_context().trace_id
    assert link.context.span_id == created.get_span_context().span_id
    assert tracing.link(None, "x") is None
    assert tracing.link("00-not-a-traceparent", "x") is None


def test_untraced_blocks_make_no_spans(spans: SpanRecorder) -> None:
    with tracing.untraced(), tracing.span("background"):
        assert tracing.ids() is None
    assert spans.finished() == []


def test_policy_decision_lands_on_the_step_and_the_rpc(spans: SpanRecorder) -> None:
    with tracing.span("rpc"), tracing.rpc_scope():
        with tracing.span("policy"):
            tracing.policy_decided("shop", "audit", "would_deny")
        tracing.annotate_rpc({tracing.CALLER: "shop", "skipped": None})
    policy, rpc = spans.finished()
    expected = {
        tracing.POLICY_RULE: "shop",
        tracing.POLICY_MODE: "audit",
        tracing.POLICY_DECISION: "would_deny",
    }
    assert dict(policy.attributes or {}) == expected
    assert dict(rpc.attributes or {}) == {**expected, tracing.CALLER: "shop"}


def test_spans_are_recorded_only_once_something_exports_them() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON

    gate = tracing.ExportGate(ALWAYS_ON)
    tracer = TracerProvider(sampler=gate).get_tracer("test")
    with tracer.start_as_current_span("before") as before:
        assert not before.is_recording()
        assert tracing.ids() is not None  # log lines still get their ids
        with tracer.start_as_current_span("child") as child:
            assert child.get_span_context().trace_id == before.get_span_context().trace_id
    gate.open = True
    with tracer.start_as_current_span("after") as after:
        assert after.is_recording()
