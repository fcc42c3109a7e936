"""What the HTTP front answers for a refused call (pure): the HTTP status and the error name in
Crypto Pay's envelope, chosen so that an SDK which retries on 429 and 5xx retries only where a
retry cannot create a second invoice or check (docs/http-front.md has the table)."""

from __future__ import annotations

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2

from sidecar.errors import UPSTREAM_DOMAIN, RpcError
from sidecar.methods import Effect, MethodSpec

# Sidecar reasons with a fixed answer.
_BY_REASON: dict[str, tuple[int, str]] = {
    "TOKEN_INVALID": (401, "UNAUTHORIZED"),
    "CALLER_REQUIRED": (401, "UNAUTHORIZED"),
    "CALLER_UNKNOWN": (401, "UNAUTHORIZED"),
    "CALLER_KEY_MISSING": (401, "UNAUTHORIZED"),
    "CALLER_KEY_INVALID": (401, "UNAUTHORIZED"),
    "RATE_LIMITED": (429, "RATE_LIMITED"),  # refused before sending: a retry is safe
    "IDEMPOTENCY_KEY_REUSED": (409, "IDEMPOTENCY_KEY_REUSED"),
    "IDEMPOTENCY_KEY_IN_USE": (409, "IDEMPOTENCY_KEY_IN_USE"),
    "IDEMPOTENCY_KEY_INVALID": (400, "IDEMPOTENCY_KEY_INVALID"),
    "IDEMPOTENCY_KEY_REQUIRED": (400, "IDEMPOTENCY_KEY_REQUIRED"),
    "IDEMPOTENCY_STORE_UNAVAILABLE": (503, "IDEMPOTENCY_STORE_UNAVAILABLE"),
    "OUTCOME_UNKNOWN": (424, "OUTCOME_UNKNOWN"),
    "UPSTREAM_UNREACHABLE": (503, "UPSTREAM_UNREACHABLE"),  # provably not sent
}

# Outcomes where the upstream may have acted: never a status an SDK retries on, for a create.
_MAYBE_DONE = frozenset(
    {"UPSTREAM_TIMEOUT", "UPSTREAM_DISCONNECTED", "UPSTREAM_MALFORMED_RESPONSE"}
)

_BY_CODE: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 405,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def http_error(spec: MethodSpec, error: RpcError) -> tuple[int, str, float | None]:
    """(HTTP status, error name, Retry-After seconds or None) for a refused call."""
    info = _info(error)
    retry_after = _retry_after(error)
    creates = spec.effect is Effect.CREATE
    if info is not None and info.domain == UPSTREAM_DOMAIN:
        # The upstream's own answer, passed through, unless a create may have happened.
        status_text = info.metadata.get("http_status", "")
        status = int(status_text) if status_text.isdigit() else 500
        if creates and status >= 500:
            return 424, "OUTCOME_UNKNOWN", None
        return status, info.reason, retry_after
    reason = info.reason if info is not None else ""
    if reason == "POLICY_DENIED":
        rule = info.metadata.get("rule", "") if info is not None else ""
        return 403, "SPEND_CAP_EXCEEDED" if rule.startswith("spend_caps") else "POLICY_DENIED", None
    if reason in _MAYBE_DONE:
        if creates:
            return 424, "OUTCOME_UNKNOWN", None
        return (504 if reason == "UPSTREAM_TIMEOUT" else 502), reason, retry_after
    fixed = _BY_REASON.get(reason)
    if fixed is not None:
        return fixed[0], fixed[1], retry_after
    if error.code is grpc.StatusCode.INVALID_ARGUMENT and not reason:
        return 400, "BAD_REQUEST", None
    status = _BY_CODE.get(error.code, 500)
    return status, reason or error.code.name, retry_after


def _info(error: RpcError) -> error_details_pb2.ErrorInfo | None:
    for detail in error.details:
        if isinstance(detail, error_details_pb2.ErrorInfo):
            return detail
    return None


def _retry_after(error: RpcError) -> float | None:
    for detail in error.details:
        if isinstance(detail, error_details_pb2.RetryInfo):
            delay: Duration = detail.retry_delay
            return delay.seconds + delay.nanos / 1e9
    return None
