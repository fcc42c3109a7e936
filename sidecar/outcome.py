"""What one upstream attempt means (pure): a response, a definite error, or an unknown outcome.

Retries and idempotency decide on these facts: whether the attempt is worth retrying, and
whether the upstream may have performed the operation (which matters for money).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from sidecar.errors import RpcError, error_info, retry_info, upstream_error
from sidecar.mapping import MappingError, loads, result_to_response
from sidecar.methods import MethodSpec

RETRYABLE_HTTP = frozenset({429, 500, 502, 503, 504})


class Delivery(enum.Enum):
    """Did the request reach the upstream?"""

    NOT_SENT = "not_sent"  # provably never sent (connection refused, DNS, connect timeout)
    REJECTED = "rejected"  # the upstream answered with an error: nothing happened
    UNKNOWN = "unknown"  # sent, but the outcome is unknown (timeout, dropped connection, 5xx)
    DONE = "done"  # the upstream answered with success


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: bytes
    retry_after: float | None = None


class FailureKind(enum.Enum):
    CONNECT = "connect"  # could not connect: not sent
    TIMEOUT = "timeout"  # no answer in time: maybe done
    DISCONNECT = "disconnect"  # connection dropped after sending: maybe done


@dataclass(frozen=True, slots=True)
class TransportFailure:
    kind: FailureKind
    detail: str


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery: Delivery
    response: Message | None = None
    error: RpcError | None = None
    retryable: bool = False
    retry_after: float | None = None
    http_status: int | None = None  # None when no HTTP answer was received
    error_name: str | None = None
    body: bytes | None = None  # the upstream's raw answer to a successful request


def _malformed(spec: MethodSpec, status: int, what: str) -> Outcome:
    # A success status with a body we cannot read: the operation may have happened.
    return Outcome(
        Delivery.UNKNOWN,
        error=RpcError(
            grpc.StatusCode.INTERNAL,
            f"{spec.api}: the upstream {what}; the outcome is unknown",
            (error_info("UPSTREAM_MALFORMED_RESPONSE", method=spec.api),),
        ),
        http_status=status,
        error_name="UPSTREAM_MALFORMED_RESPONSE",
    )


def from_answer(spec: MethodSpec, answer: HttpAnswer) -> Outcome:
    """Interprets an HTTP answer from the upstream."""
    status = answer.status
    retryable = status in RETRYABLE_HTTP
    # A 5xx after sending may have performed the operation; a 4xx (429 included) did not.
    failed_delivery = Delivery.UNKNOWN if status >= 500 else Delivery.REJECTED
    try:
        envelope: Any = loads(answer.body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, Mapping) or "ok" not in envelope:
        if 200 <= status < 300:
            return _malformed(
                spec, status, f"answered HTTP {status} with a body that is no Crypto Pay response"
            )
        name = f"HTTP_{status}"
        return Outcome(
            failed_delivery,
            error=upstream_error(spec.api, status, name, answer.retry_after),
            retryable=retryable,
            retry_after=answer.retry_after,
            http_status=status,
            error_name=name,
        )
    if envelope.get("ok") is True and 200 <= status < 300:
        try:
            response = result_to_response(spec, envelope.get("result"))
        except MappingError as exc:
            return _malformed(spec, status, f"sent a result of an unexpected shape ({exc})")
        return Outcome(Delivery.DONE, response=response, http_status=status, body=answer.body)
    error = envelope.get("error")
    raw_name = error.get("name") if isinstance(error, Mapping) else error
    name = raw_name if isinstance(raw_name, str) and raw_name else f"HTTP_{status}"
    if 200 <= status < 300:
        # ok:false with HTTP 200 has never been observed; treat it as the error it names.
        status = 400
        failed_delivery = Delivery.REJECTED
        retryable = False
    return Outcome(
        failed_delivery,
        error=upstream_error(spec.api, status, name, answer.retry_after),
        retryable=retryable,
        retry_after=answer.retry_after,
        http_status=status,
        error_name=name,
    )


def from_failure(spec: MethodSpec, failure: TransportFailure) -> Outcome:
    """Interprets a transport failure (no HTTP answer)."""
    if failure.kind is FailureKind.CONNECT:
        return Outcome(
            Delivery.NOT_SENT,
            error=RpcError(
                grpc.StatusCode.UNAVAILABLE,
                f"{spec.api}: cannot connect to the upstream ({failure.detail}); "
                "the request was not sent",
                (error_info("UPSTREAM_UNREACHABLE", method=spec.api),),
            ),
            retryable=True,
            error_name="UPSTREAM_UNREACHABLE",
        )
    if failure.kind is FailureKind.TIMEOUT:
        return Outcome(
            Delivery.UNKNOWN,
            error=RpcError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"{spec.api}: the upstream did not answer in time; the outcome is unknown",
                (error_info("UPSTREAM_TIMEOUT", method=spec.api),),
            ),
            retryable=True,
            error_name="UPSTREAM_TIMEOUT",
        )
    return Outcome(
        Delivery.UNKNOWN,
        error=RpcError(
            grpc.StatusCode.UNAVAILABLE,
            f"{spec.api}: the connection to the upstream broke after the request was sent "
            f"({failure.detail}); the outcome is unknown",
            (error_info("UPSTREAM_DISCONNECTED", method=spec.api),),
        ),
        retryable=True,
        error_name="UPSTREAM_DISCONNECTED",
    )


def with_retry_hint(error: RpcError, seconds: float) -> RpcError:
    return RpcError(
        error.code, error.message, (*error.details, retry_info(seconds)), error.trailing
    )
