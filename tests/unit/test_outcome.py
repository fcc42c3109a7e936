"""Interpreting upstream answers: the error table, malformed bodies, transport failures."""

from __future__ import annotations

import json

import grpc
import pytest
from google.rpc import error_details_pb2

from sidecar.errors import upstream_code
from sidecar.methods import BY_API
from sidecar.outcome import (
    Delivery,
    FailureKind,
    HttpAnswer,
    TransportFailure,
    from_answer,
    from_failure,
)
from sidecar.upstream import parse_retry_after

SPEC = BY_API["createCheck"]


def error_body(status: int, name: str) -> bytes:
    return json.dumps({"ok": False, "error": {"code": status, "name": name}}).encode()


@pytest.mark.parametrize(
    ("status", "name", "code"),
    [
        (400, "PAID_BTN_URL_REQUIRED", grpc.StatusCode.INVALID_ARGUMENT),
        (400, "UNSUPPORTED_ASSET", grpc.StatusCode.INVALID_ARGUMENT),
        (400, "ASSET_INVALID", grpc.StatusCode.INVALID_ARGUMENT),
        (400, "AMOUNT_TOO_BIG", grpc.StatusCode.INVALID_ARGUMENT),
        (400, "EXPIRES_IN_INVALID", grpc.StatusCode.INVALID_ARGUMENT),
        (400, "INTERVAL_TOO_BIG", grpc.StatusCode.INVALID_ARGUMENT),
        (400, "NOT_ENOUGH_COINS", grpc.StatusCode.FAILED_PRECONDITION),
        (400, "SOMETHING_NEW", grpc.StatusCode.INVALID_ARGUMENT),
        (401, "UNAUTHORIZED", grpc.StatusCode.FAILED_PRECONDITION),
        (403, "METHOD_DISABLED", grpc.StatusCode.PERMISSION_DENIED),
        (404, "NOT_FOUND", grpc.StatusCode.NOT_FOUND),
        (400, "INVOICE_NOT_FOUND", grpc.StatusCode.NOT_FOUND),
        (405, "METHOD_NOT_FOUND", grpc.StatusCode.UNIMPLEMENTED),
        (429, "TOO_MANY_REQUESTS", grpc.StatusCode.RESOURCE_EXHAUSTED),
        (500, "APP_ERROR", grpc.StatusCode.UNAVAILABLE),
        (503, "SERVICE_UNAVAILABLE", grpc.StatusCode.UNAVAILABLE),
        (418, "TEAPOT", grpc.StatusCode.UNKNOWN),
    ],
)
def test_error_table_keeps_the_name(status: int, name: str, code: grpc.StatusCode) -> None:
    outcome = from_answer(SPEC, HttpAnswer(status, error_body(status, name)))
    assert outcome.error is not None
    assert outcome.error.code == code
    assert outcome.error.reason == name
    assert name in outcome.error.message
    assert upstream_code(status, name).code == code


def test_unauthorized_tells_the_operator_about_the_token() -> None:
    outcome = from_answer(SPEC, HttpAnswer(401, error_body(401, "UNAUTHORIZED")))
    assert outcome.error is not None and "token" in outcome.error.message


def test_4xx_is_a_definite_rejection_and_5xx_is_unknown() -> None:
    assert from_answer(SPEC, HttpAnswer(400, error_body(400, "X"))).delivery is Delivery.REJECTED
    rate_limited = from_answer(SPEC, HttpAnswer(429, error_body(429, "X"), retry_after=2.0))
    assert rate_limited.delivery is Delivery.REJECTED and rate_limited.retryable
    assert rate_limited.retry_after == 2.0
    assert rate_limited.error is not None
    assert any(isinstance(d, error_details_pb2.RetryInfo) for d in rate_limited.error.details)
    failed = from_answer(SPEC, HttpAnswer(502, b"<html>bad gateway</html>"))
    assert failed.delivery is Delivery.UNKNOWN and failed.retryable
    assert failed.error is not None and failed.error.code == grpc.StatusCode.UNAVAILABLE
    assert failed.error.reason == "HTTP_502"


def test_malformed_success_is_internal_and_unknown() -> None:
    for body in (b"not json", b'{"ok": true, "result": "nope"}', b"[1,2]"):
        outcome = from_answer(SPEC, HttpAnswer(200, body))
        assert outcome.delivery is Delivery.UNKNOWN
        assert outcome.error is not None and outcome.error.code == grpc.StatusCode.INTERNAL
        assert outcome.error.reason == "UPSTREAM_MALFORMED_RESPONSE"


def test_success_maps_to_response() -> None:
    body = json.dumps({"ok": True, "result": {"check_id": 5, "asset": "TON", "amount": "1"}})
    outcome = from_answer(SPEC, HttpAnswer(200, body.encode()))
    assert outcome.delivery is Delivery.DONE
    assert outcome.response is not None
    assert outcome.response.check.check_id == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "delivery", "code"),
    [
        (FailureKind.CONNECT, Delivery.NOT_SENT, grpc.StatusCode.UNAVAILABLE),
        (FailureKind.TIMEOUT, Delivery.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED),
        (FailureKind.DISCONNECT, Delivery.UNKNOWN, grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_transport_failures(kind: FailureKind, delivery: Delivery, code: grpc.StatusCode) -> None:
    outcome = from_failure(SPEC, TransportFailure(kind, "x"))
    assert outcome.delivery is delivery
    assert outcome.retryable
    assert outcome.error is not None and outcome.error.code == code


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("999999") == 3600.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now=now) == 10.0
