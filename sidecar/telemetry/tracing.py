"""Traces: the tracer provider, the spans of the request path, and context across async gaps.

Configured only by the standard OTEL_* environment variables. Spans are made only when
something can export them: an exporter configured by `OTEL_EXPORTER_OTLP_ENDPOINT` /
`..._TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER`, and a sampler that keeps the call. Otherwise a
call costs no span at all: the caller's `traceparent` becomes the current (non-recording) span
context, so log lines still carry the caller's trace id and the upstream request still carries
the trace context. Every exporter is wrapped in RedactingExporter.

Steps of the request path report through `span(...)` and `annotate(...)`; attribute names are
the constants below, so every feature names things the same way.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from sidecar import __version__, secrets
from sidecar.config import ConfigError

if TYPE_CHECKING:
    import aiohttp
    import grpc.aio

SERVICE_NAME = "cryptopay-sidecar"
TRACER_NAME = "cryptopay_sidecar"

# Span attribute names (documented in docs/observability.md).
RPC = "cryptopay.rpc"  # CreateInvoice
API_METHOD = "cryptopay.method"  # createInvoice
CALLER = "cryptopay.caller"  # the caller's name from the policy, never its key
ASSET = "cryptopay.asset"  # asset or fiat code of the request
OUTCOME = "cryptopay.outcome"  # done | rejected | unknown | not_sent | invalid | refused
ERROR_NAME = "cryptopay.error.name"  # Crypto Pay error name or the sidecar's reason
ATTEMPT = "cryptopay.attempt"  # 1-based number of this upstream attempt
ATTEMPTS = "cryptopay.attempts"  # upstream attempts the RPC made
INVOICE_ID = "cryptopay.invoice_id"
POLICY_DECISION = "cryptopay.policy.decision"  # allow | deny | would_deny
POLICY_RULE = "cryptopay.policy.rule"
POLICY_MODE = "cryptopay.policy.mode"  # enforce | audit
RATELIMIT_BUCKET = "cryptopay.ratelimit.bucket"
RATELIMIT_RESULT = "cryptopay.ratelimit.result"  # admitted | waited | refused
IDEMPOTENCY_RESULT = "cryptopay.idempotency.result"
CACHE_RESULT = "cryptopay.cache.result"  # hit | miss | stale | bypass
RETRY_DELAY = "cryptopay.retry.delay_seconds"
UPDATE_TYPE = "cryptopay.webhook.update_type"
RESEND_COUNT = "http.request.resend_count"  # OTel HTTP semantic conventions
HTTP_STATUS = "http.response.status_code"
GRPC_STATUS = "rpc.grpc.status_code"
LINK_KIND = "cryptopay.link"  # on span links: what the linked span was

_OTLP = "OTEL_EXPORTER_OTLP"
ExporterChoice = Literal["none", "console", "otlp_grpc", "otlp_http"]

_W3C = TraceContextTextMapPropagator()
_resend_count: contextvars.ContextVar[int] = contextvars.ContextVar(
    "cryptopay_resend_count", default=0
)
# The span of the RPC being handled (the server span), for steps that report on the RPC as a
# whole from inside their own child span.
_rpc_span: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "cryptopay_rpc_span", default=None
)
_provider: TracerProvider | None = None
_choice: ExporterChoice = "none"


def exporter_choice(env: Mapping[str, str]) -> ExporterChoice:
    """Which span exporter the OTEL_* variables ask for (pure). Raises ConfigError if unknown."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "none"
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n]
    if names:
        if names[0] in ("none", "console"):
            return "none" if names[0] == "none" else "console"
        if names[0] != "otlp":
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER={names[0]!r} is not supported: use otlp, console or none"
            )
    elif not (env.get(f"{_OTLP}_TRACES_ENDPOINT") or env.get(f"{_OTLP}_ENDPOINT")):
        return "none"
    protocol = (
        env.get(f"{_OTLP}_TRACES_PROTOCOL") or env.get(f"{_OTLP}_PROTOCOL") or ""
    ).strip().lower() or "grpc"
    if protocol == "grpc":
        return "otlp_grpc"
    if protocol == "http/protobuf":
        return "otlp_http"
    raise ConfigError(
        f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported: use grpc or http/protobuf"
    )


def _exporter(choice: ExporterChoice) -> SpanExporter | None:
    # The exporters read their endpoint, headers, timeout and compression from OTEL_* themselves.
    if choice == "otlp_grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if choice == "otlp_http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return HttpExporter()
    if choice == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    return None


def _resource() -> Resource:
    detected = Resource.create({"service.version": __version__})
    name = str(detected.attributes.get("service.name", ""))
    if not name or name.startswith("unknown_service"):
        detected = detected.merge(Resource({"service.name": SERVICE_NAME}))
    return detected


class ExportGate(Sampler):
    """Records spans only once something exports them; until then every span is dropped at
    its start. The request path asks `wants_span()` first and makes no span at all then."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner
        self.open = False

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if not self.open:
            parent = trace.get_current_span(parent_context).get_span_context()
            return SamplingResult(Decision.DROP, trace_state=parent.trace_state)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"ExportGate{{{self.inner.get_description()}}}"


def _sampler_from_env() -> Sampler:
    try:  # the SDK's own reading of OTEL_TRACES_SAMPLER / _ARG (a private helper)
        from opentelemetry.sdk.trace.sampling import _get_from_env_or_default
    except ImportError:
        return ParentBased(ALWAYS_ON)
    sampler: Sampler = _get_from_env_or_default()
    return sampler


_gate = ExportGate(ParentBased(ALWAYS_ON))
# Whether a span under a non-recording parent is dropped too (a parent-based sampler, the
# default): then nothing below an unsampled caller's traceparent is worth starting.
_follows_parent = True


def wants_span() -> bool:
    """Whether a span started here could be exported: something exports, instrumentation is
    not suppressed, and the sampler does not drop it for its unsampled parent. The request
    path's spans and client hooks are skipped when not, which is most of what tracing costs."""
    if not _gate.open:
        return False
    current = trace.get_current_span()
    if current.is_recording():
        return True
    if _follows_parent and current.get_span_context().is_valid:
        return False
    return is_instrumentation_enabled()


def setup(env: Mapping[str, str] | None = None) -> TracerProvider:
    """The process's tracer provider, created on first use from the OTEL_* variables.

    The sampler comes from OTEL_TRACES_SAMPLER / _ARG (default: parent-based, always on).
    """
    global _provider, _choice, _follows_parent
    if _provider is not None:
        return _provider
    choice = exporter_choice(os.environ if env is None else env)
    _gate.inner = _sampler_from_env()
    _follows_parent = isinstance(_gate.inner, ParentBased)
    provider = TracerProvider(resource=_resource(), sampler=_gate)
    exporter = _exporter(choice)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(exporter)))
        _gate.open = True
    # Global too, so other instrumented libraries in the process share it.
    trace.set_tracer_provider(provider)
    _provider, _choice = provider, choice
    return provider


def shutdown() -> None:
    """Exports what is still queued (at process exit)."""
    if _provider is not None:
        _provider.shutdown()


def exporter_in_use() -> ExporterChoice:
    return _choice


def add_exporter(exporter: SpanExporter, *, batch: bool = True, redact: bool = True) -> None:
    """Exports spans to one more exporter (tests add an in-memory one with batch=False)."""
    wrapped: SpanExporter = RedactingExporter(exporter) if redact else exporter
    processor = BatchSpanProcessor(wrapped) if batch else SimpleSpanProcessor(wrapped)
    setup().add_span_processor(processor)
    _gate.open = True


_tracer: trace.Tracer | None = None


def tracer() -> trace.Tracer:
    global _tracer
    if _tracer is None:  # get_tracer is costly: once per process
        _tracer = setup().get_tracer(TRACER_NAME, __version__)
    return _tracer


@contextlib.contextmanager
def span(
    name: str,
    attributes: Mapping[str, AttributeValue | None] | None = None,
    *,
    links: Sequence[Link] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A child span of the current one for the duration of the block (exceptions are recorded)."""
    if not wants_span():
        # Nothing would export it: skip the span; logs keep the enclosing span's ids.
        yield trace.INVALID_SPAN
        return
    with tracer().start_as_current_span(
        name, kind=kind, attributes=_clean(attributes), links=links
    ) as current:
        yield current


@contextlib.contextmanager
def attempt_span(api_method: str, attempt: int) -> Iterator[Span]:
    """The span of one upstream attempt; the HTTP client span inside gets the resend count."""
    resend = max(attempt - 1, 0)
    token = _resend_count.set(resend)
    try:
        with span(
            f"upstream {api_method}",
            {API_METHOD: api_method, ATTEMPT: attempt, RESEND_COUNT: resend},
        ) as current:
            yield current
    finally:
        _resend_count.reset(token)


def annotate(attributes: Mapping[str, AttributeValue | None], target: Span | None = None) -> None:
    """Sets attributes on the current span (None values are skipped)."""
    current = target or trace.get_current_span()
    if current.is_recording():
        current.set_attributes(_clean(attributes) or {})


@contextlib.contextmanager
def rpc_scope() -> Iterator[Span]:
    """Marks the current span as the RPC's span for `annotate_rpc` within the block."""
    current = trace.get_current_span()
    token = _rpc_span.set(current)
    try:
        yield current
    finally:
        _rpc_span.reset(token)


def annotate_rpc(attributes: Mapping[str, AttributeValue | None]) -> None:
    """Sets attributes on the RPC's span, wherever in its steps the caller is."""
    annotate(attributes, _rpc_span.get())


def policy_decided(rule: str, mode: str, result: str) -> None:
    """The policy step's decision, on its own span and on the RPC's span."""
    attributes = {POLICY_RULE: rule, POLICY_MODE: mode, POLICY_DECISION: result}
    annotate(attributes)
    annotate_rpc(attributes)


def fail(description: str, target: Span | None = None) -> None:
    """Marks the current span as failed (ERROR status) with a description."""
    current = target or trace.get_current_span()
    if current.is_recording():
        current.set_status(Status(trace.StatusCode.ERROR, description))


def _clean(attributes: Mapping[str, AttributeValue | None] | None) -> dict[str, AttributeValue]:
    return {k: v for k, v in (attributes or {}).items() if v is not None}


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """No spans inside: for background loops (health probes, blocking reads) that would
    otherwise start a new trace every few seconds."""
    with suppress_instrumentation():
        yield


def ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the current span as hex, or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def current_traceparent() -> str | None:
    """The current span context as a W3C traceparent, to carry across an async gap."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def link(traceparent: str | None, kind: str) -> Link | None:
    """A span link to a remembered traceparent (None if absent or malformed)."""
    if not traceparent:
        return None
    context = trace.get_current_span(_W3C.extract({"traceparent": traceparent})).get_span_context()
    if not context.is_valid:
        return None
    return Link(context, {LINK_KIND: kind})


# --- instrumentation of the edges ----------------------------------------------------------------


_UNTRACED_SERVICES = ("/grpc.health.", "/grpc.reflection.")


def exporting() -> bool:
    """Whether spans are exported (an exporter is configured or was added)."""
    return _gate.open


def grpc_server_interceptors() -> list[grpc.aio.ServerInterceptor[Any, Any]]:
    """The interceptors of the gRPC server: OpenTelemetry's server span per RPC, continuing the
    caller's W3C traceparent from metadata, when spans are exported; none otherwise (the
    interceptor costs about a tenth of a call even when its spans are dropped).

    Health checks and reflection are not traced: probes would start a trace every few seconds.
    A call whose traceparent is unsampled passes straight through under a parent-based sampler
    (its span would be dropped); the servicer then continues the caller's context itself
    (`remote_parent`).
    """
    if not exporting():
        return []
    import grpc.aio
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    def traced(details: Any) -> bool:
        # A plain prefix test: the library's composable filters cost more than a span here.
        method = details.method or ""
        if isinstance(method, bytes):
            method = method.decode("ascii", "replace")
        return not str(method).startswith(_UNTRACED_SERVICES)

    library: grpc.aio.ServerInterceptor[Any, Any] = aio_server_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=setup(), filter_=traced
    )

    class Gated(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            if _follows_parent and _unsampled(details.invocation_metadata):
                return await continuation(details)
            return await library.intercept_service(continuation, details)

    return [Gated()]


def _unsampled(metadata: Sequence[tuple[str, Any]] | None) -> bool:
    for key, value in metadata or ():
        if key == "traceparent":
            context = _parse_traceparent(value)
            return context is not None and not context.trace_flags.sampled
    return False


def _parse_traceparent(value: str | bytes | None) -> SpanContext | None:
    """The span context of a W3C traceparent (None if absent or malformed), as the W3C
    propagator reads it."""
    if not value or isinstance(value, bytes):
        return None
    context = trace.get_current_span(_W3C.extract({"traceparent": value})).get_span_context()
    return context if context.is_valid else None


@contextlib.contextmanager
def remote_parent(metadata: Mapping[str, str]) -> Iterator[None]:
    """Within the block, the caller's traceparent (if any) is the current span context when no
    server span was made for the call: log lines carry the caller's trace id, and the trace
    context still travels upstream, without a span of the sidecar's own."""
    traceparent = metadata.get("traceparent")
    if not traceparent or trace.get_current_span().get_span_context().is_valid:
        yield
        return
    context = _parse_traceparent(traceparent)
    if context is None:
        yield
        return
    token = otel_context.attach(trace.set_span_in_context(trace.NonRecordingSpan(context)))
    try:
        yield
    finally:
        otel_context.detach(token)


def http_client_trace_config(sensitive_headers: Sequence[str] = ()) -> aiohttp.TraceConfig:
    """A client span per outgoing HTTP request, which also carries the trace context."""
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config

    def request_hook(current: Span, _params: Any) -> None:
        resend = _resend_count.get()
        if resend and current.is_recording():
            current.set_attribute(RESEND_COUNT, resend)

    config: aiohttp.TraceConfig = create_trace_config(
        request_hook=request_hook,
        tracer_provider=setup(),
        captured_request_headers=[],
        captured_response_headers=[],
        sensitive_headers=list(sensitive_headers),
    )
    return config


def instrument_redis(client: Any) -> None:
    """A client span per Redis command or pipeline (arguments are never recorded: `SET ? ?`),
    when the span can be exported (`wants_span`); otherwise the command goes straight to the
    client, without the instrumentation's wrapper."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    plain = {name: getattr(client, name) for name in ("execute_command", "pipeline")}
    RedisInstrumentor.instrument_client(client, tracer_provider=setup())
    for name, untraced_method in plain.items():
        setattr(client, name, _either(getattr(client, name), untraced_method))


def _either(traced: Any, untraced_method: Any) -> Any:
    def method(*args: Any, **kwargs: Any) -> Any:
        chosen = traced if wants_span() else untraced_method
        return chosen(*args, **kwargs)

    return method


# --- redaction -----------------------------------------------------------------------------------


class RedactingExporter(SpanExporter):
    """Removes registered secrets from every exported span: a second line of defence."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if secrets.registered():
            spans = [scrub_span(s) for s in spans]
        return self._inner.export(spans)

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return secrets.scrub(value)
    if isinstance(value, tuple | list):
        return tuple(_scrub_value(v) for v in value)
    return value


def _scrub_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: _scrub_value(v) for k, v in (attributes or {}).items()}


def scrub_span(original: ReadableSpan) -> ReadableSpan:
    """A copy of the span with registered secrets replaced, or the span itself if clean."""
    attributes = _scrub_attributes(original.attributes)
    events = [Event(e.name, _scrub_attributes(e.attributes), e.timestamp) for e in original.events]
    description = original.status.description
    status = (
        Status(original.status.status_code, secrets.scrub(description))
        if description
        else original.status
    )
    name = secrets.scrub(original.name)
    unchanged = (
        name == original.name
        and attributes == dict(original.attributes or {})
        and all(
            dict(a.attributes or {}) == dict(b.attributes or {})
            for a, b in zip(events, original.events, strict=True)
        )
        and status.description == original.status.description
    )
    if unchanged:
        return original
    return ReadableSpan(
        name=name,
        context=original.context,
        parent=original.parent,
        resource=original.resource,
        attributes=attributes,
        events=events,
        links=original.links,
        kind=original.kind,
        status=status,
        start_time=original.start_time,
        end_time=original.end_time,
        instrumentation_scope=original.instrumentation_scope,
    )
