"""Log lines: JSON with trace ids inside a span, a readable text format, secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging

from sidecar import logs, secrets
from sidecar.telemetry import tracing
from tests.conftest import SpanRecorder


def lines_of(fmt: str, emit: logging.Logger) -> str:
    stream = io.StringIO()
    handler = logs.handler(stream, fmt)
    emit.addHandler(handler)
    emit.setLevel(logging.DEBUG)
    try:
        emit.info("one event", extra={"invoice_id": 7})
        with tracing.span("work") as span:
            emit.warning("inside", extra={"method": "getMe"})
            context = span.get_span_context()
    finally:
        emit.removeHandler(handler)
    return stream.getvalue() + f"{context.trace_id:032x} {context.span_id:016x}"


def test_json_lines_carry_trace_and_span_ids(spans: SpanRecorder) -> None:
    *lines, ids = lines_of("json", logging.getLogger("test.logs.json")).splitlines()
    outside, inside = (json.loads(line) for line in lines)
    assert outside["msg"] == "one event" and outside["invoice_id"] == 7
    assert "trace_id" not in outside
    trace_id, span_id = ids.split()
    assert (inside["trace_id"], inside["span_id"]) == (trace_id, span_id)
    assert inside["level"] == "warning" and inside["method"] == "getMe"


def test_text_format_is_readable(spans: SpanRecorder) -> None:
    first, second, _ids = lines_of("text", logging.getLogger("test.logs.text")).splitlines()
    assert "INFO    test.logs.text: one event  invoice_id=7" in first
    assert "WARNING test.logs.text: inside  method=getMe trace_id=" in second


def test_secrets_are_scrubbed_everywhere_in_a_line() -> None:
    secret = "5678:LogSecretThatMustNeverBeWritten0000000"
    logs.redact(secret)
    assert secret in secrets.registered()
    stream = io.StringIO()
    logger = logging.getLogger("test.logs.secret")
    handler = logs.handler(stream, "json")
    logger.addHandler(handler)
    try:
        logger.error("token %s", secret, extra={"detail": f"x{secret}"})
        try:
            raise ValueError(secret)
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text and text.count("***") >= 3


def test_a_secret_inside_a_longer_one_leaves_nothing_of_either() -> None:
    # Registered short first, and many of them, so no set order can put the long one first
    # by chance.
    shorts = [f"pw{n:02d}" for n in range(40)]
    for short in shorts:
        secrets.register(short)
    longs = [f"{short}-redis-password" for short in shorts]
    for long in longs:
        secrets.register(long)
    scrubbed = secrets.scrub(" ".join(longs + shorts))
    assert scrubbed == " ".join(["***"] * 80)
