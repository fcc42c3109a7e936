"""Structured logging: one JSON object per line (or a readable line for local use).

A redaction filter removes registered secrets from every record, as a second line of defence:
secrets are already wrapped in Secret and never formatted into messages on purpose. Every line
written inside a traced operation carries its `trace_id` and `span_id`, so a log line leads to
its trace and back.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

from opentelemetry import trace

from sidecar import secrets

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class _Redactor(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if secrets.registered():
            message = record.getMessage()
            redacted = secrets.scrub(message)
            if redacted != message:
                record.msg, record.args = redacted, None
            for key, value in list(record.__dict__.items()):
                if key not in _RESERVED and isinstance(value, str):
                    record.__dict__[key] = secrets.scrub(value)
        return True


class _TraceContext(logging.Filter):
    """Stamps the current trace and span ids on the record (when there is a valid span)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid and not hasattr(record, "trace_id"):
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


_redactor = _Redactor()
_trace_context = _TraceContext()


def redact(secret: str) -> None:
    """Registers a secret that must never appear in a log line, span or metric."""
    secrets.register(secret)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # Scrubbing the finished line also covers exception texts and tracebacks.
        return secrets.scrub(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = (
            f"{time.strftime('%H:%M:%S', time.localtime(record.created))} "
            f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        )
        if extras:
            line += f"  {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return secrets.scrub(line)


def handler(stream: TextIO | None = None, fmt: str = "json") -> logging.Handler:
    """A handler that writes redacted, trace-stamped lines in the given format."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    out.addFilter(_trace_context)
    out.addFilter(_redactor)
    return out


def configure(level: str = "info", fmt: str = "json") -> None:
    root = logging.getLogger()
    root.handlers[:] = [handler(sys.stderr, fmt)]
    root.setLevel(level.upper())
    # aiohttp's access log and grpc's internals are noisy at info.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # grpc logs a line per event-loop handoff at debug.
    logging.getLogger("grpc._cython.cygrpc").setLevel(logging.INFO)
