"""gRPC errors the sidecar returns, and the one table that maps upstream errors onto them (pure).

Every error carries a google.rpc.ErrorInfo: for upstream errors its reason is the Crypto Pay
error name, verbatim (unknown names pass through), in the domain `pay.crypt.bot`; for the
sidecar's own refusals the reason is one of the names below, in the domain `cryptopay-sidecar`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from sidecar.validation import Violation

UPSTREAM_DOMAIN = "pay.crypt.bot"
SIDECAR_DOMAIN = "cryptopay-sidecar"

# Upstream 400 names that describe the app's state rather than a malformed request.
_FAILED_PRECONDITION_NAMES = frozenset(
    {"NOT_ENOUGH_COINS", "INSUFFICIENT_FUNDS", "SPEND_ID_ALREADY_USED", "INVOICE_EXPIRED"}
)
_NOT_FOUND_NAMES = frozenset({"INVOICE_NOT_FOUND", "CHECK_NOT_FOUND", "TRANSFER_NOT_FOUND"})


@dataclass
class RpcError(Exception):
    """A gRPC status to send to the caller, with rich details and trailing metadata."""

    code: grpc.StatusCode
    message: str
    details: Sequence[Message] = ()
    trailing: Sequence[tuple[str, str]] = field(default_factory=tuple)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    @property
    def reason(self) -> str | None:
        for detail in self.details:
            if isinstance(detail, error_details_pb2.ErrorInfo):
                return str(detail.reason)
        return None

    def to_status(self, trailing: Sequence[tuple[str, str]] = ()) -> grpc.Status:
        packed = []
        for detail in self.details:
            any_detail = any_pb2.Any()
            any_detail.Pack(detail)
            packed.append(any_detail)
        proto = status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)
        status = rpc_status.to_status(proto)
        return _StatusWithTrailers(
            status.code, status.details, (*status.trailing_metadata, *self.trailing, *trailing)
        )


@dataclass(frozen=True)
class _StatusWithTrailers(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def error_info(reason: str, domain: str = SIDECAR_DOMAIN, **metadata: str) -> Message:
    info: Message = error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata=metadata)
    return info


def retry_info(seconds: float) -> Message:
    seconds = max(seconds, 0.0)
    whole = math.floor(seconds)
    info: Message = error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
    )
    return info


def bad_request(violations: Iterable[Violation]) -> RpcError:
    items = list(violations)
    summary = "; ".join(f"{v.field} {v.description}" for v in items)
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in items
        ]
    )
    return RpcError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"invalid request: {summary}",
        (detail, error_info("INVALID_REQUEST")),
    )


def refusal(
    code: grpc.StatusCode,
    reason: str,
    message: str,
    *,
    retry_after: float | None = None,
    metadata: Mapping[str, str] | None = None,
    trailing: Sequence[tuple[str, str]] = (),
) -> RpcError:
    """An error decided by the sidecar itself (policy, limiter, idempotency...)."""
    details: list[Message] = [error_info(reason, **(metadata or {}))]
    if retry_after is not None:
        details.append(retry_info(retry_after))
    return RpcError(code, message, tuple(details), tuple(trailing))


@dataclass(frozen=True, slots=True)
class UpstreamErrorRule:
    code: grpc.StatusCode
    explanation: str


def upstream_code(http_status: int, name: str) -> UpstreamErrorRule:
    """The documented mapping of an upstream error (HTTP status + Crypto Pay name) to gRPC."""
    if http_status == 401:
        return UpstreamErrorRule(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the upstream rejected the sidecar's API token: the operator must fix "
            "CRYPTOPAY_API_TOKEN / --token-file (mainnet and testnet tokens differ)",
        )
    if http_status == 403:
        return UpstreamErrorRule(
            grpc.StatusCode.PERMISSION_DENIED,
            "the method is disabled for this app; enable it in @CryptoBot: "
            "Crypto Pay > My Apps > app > Security",
        )
    if http_status == 404 or name in _NOT_FOUND_NAMES:
        return UpstreamErrorRule(grpc.StatusCode.NOT_FOUND, "the object does not exist")
    if http_status == 405:
        return UpstreamErrorRule(
            grpc.StatusCode.UNIMPLEMENTED, "the upstream does not know this method"
        )
    if http_status == 429:
        return UpstreamErrorRule(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "the upstream rate limit was reached"
        )
    if http_status >= 500:
        return UpstreamErrorRule(grpc.StatusCode.UNAVAILABLE, "the upstream failed")
    if name in _FAILED_PRECONDITION_NAMES:
        return UpstreamErrorRule(
            grpc.StatusCode.FAILED_PRECONDITION, "the app's state does not allow this"
        )
    if http_status == 400:
        return UpstreamErrorRule(
            grpc.StatusCode.INVALID_ARGUMENT, "the upstream refused a parameter"
        )
    if http_status == 409:
        return UpstreamErrorRule(grpc.StatusCode.ABORTED, "the upstream reported a conflict")
    return UpstreamErrorRule(grpc.StatusCode.UNKNOWN, f"unexpected upstream HTTP {http_status}")


def upstream_error(
    api_method: str, http_status: int, name: str, retry_after: float | None = None
) -> RpcError:
    rule = upstream_code(http_status, name)
    details: list[Message] = [
        error_info(name, UPSTREAM_DOMAIN, method=api_method, http_status=str(http_status))
    ]
    if retry_after is not None:
        details.append(retry_info(retry_after))
    return RpcError(rule.code, f"{api_method}: {name} ({rule.explanation})", tuple(details))
