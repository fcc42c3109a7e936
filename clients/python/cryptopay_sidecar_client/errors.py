"""The sidecar's rich error details (google.rpc.Status in the trailers), decoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class ErrorDetails:
    """What the sidecar attached to an error.

    `reason` is the google.rpc.ErrorInfo reason: the Crypto Pay error name for upstream errors
    (`INSUFFICIENT_FUNDS`, `INVOICE_NOT_FOUND`...) or the sidecar's own (`UPSTREAM_UNREACHABLE`,
    `POLICY_DENIED`...). `violations` maps each bad request field to what is wrong with it.
    """

    code: grpc.StatusCode
    message: str
    reason: str | None = None
    domain: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    retry_delay: float | None = None
    violations: dict[str, str] = field(default_factory=dict)


def _trailers(error: grpc.RpcError) -> Any:
    trailing = getattr(error, "trailing_metadata", None)
    return trailing() if callable(trailing) else None


def error_details(error: grpc.RpcError) -> ErrorDetails:
    """Decodes a failed call's status (works for sync and grpc.aio errors)."""
    code_of = getattr(error, "code", None)
    code = code_of() if callable(code_of) else grpc.StatusCode.UNKNOWN
    details_of = getattr(error, "details", None)
    message = (details_of() if callable(details_of) else None) or ""
    raw: bytes | None = None
    for key, value in _trailers(error) or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            raw = value
    if raw is None:
        return ErrorDetails(code, message)
    status = status_pb2.Status.FromString(raw)
    reason = domain = retry_delay = None
    metadata: dict[str, str] = {}
    violations: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.update({v.field: v.description for v in bad.field_violations})
    return ErrorDetails(code, message, reason, domain, metadata, retry_delay, violations)
