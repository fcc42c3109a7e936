"""The Python client's pure decisions: when a call may be resent, backoff, channel config."""

from __future__ import annotations

import json

import grpc
import pytest
from cryptopay_sidecar_client import (
    READ_METHODS,
    Backoff,
    channel_options,
    idempotency_metadata,
    may_resend,
    new_idempotency_key,
    service_config,
)
from cryptopay_sidecar_client.retry import next_wait

C = grpc.StatusCode


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        # The sidecar itself was unreachable: the key makes a resend safe.
        (C.UNAVAILABLE, None, True),
        (C.UNAVAILABLE, "UPSTREAM_UNREACHABLE", True),
        # The upstream may have acted: never resend automatically.
        (C.UNAVAILABLE, "UPSTREAM_DISCONNECTED", False),
        (C.UNAVAILABLE, "OUTCOME_UNKNOWN", False),
        (C.UNAVAILABLE, "APP_ERROR", False),
        (C.DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT", False),
        (C.DEADLINE_EXCEEDED, None, False),
        (C.INTERNAL, "UPSTREAM_MALFORMED_RESPONSE", False),
        # Refused before reaching the upstream.
        (C.RESOURCE_EXHAUSTED, None, True),
        (C.RESOURCE_EXHAUSTED, "RATE_LIMITED", True),
        (C.ABORTED, "IDEMPOTENCY_KEY_IN_USE", True),
        # Definite answers.
        (C.ABORTED, None, False),
        (C.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED", False),
        (C.INVALID_ARGUMENT, "AMOUNT_INVALID", False),
        (C.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS", False),
        (C.PERMISSION_DENIED, "POLICY_DENIED", False),
        (C.NOT_FOUND, "INVOICE_NOT_FOUND", False),
        (C.UNAUTHENTICATED, None, False),
        (C.OK, None, False),
    ],
)
def test_may_resend(code: grpc.StatusCode, reason: str | None, expected: bool) -> None:
    assert may_resend(code, reason) is expected


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        # The upstream refuses a second transfer with the same spend_id: unknown is fine.
        (C.UNAVAILABLE, "UPSTREAM_DISCONNECTED", True),
        (C.UNAVAILABLE, "APP_ERROR", True),
        (C.DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT", True),
        (C.INTERNAL, "UPSTREAM_MALFORMED_RESPONSE", True),
        (C.UNAVAILABLE, None, True),
        # Still final.
        (C.UNAVAILABLE, "OUTCOME_UNKNOWN", False),
        (C.FAILED_PRECONDITION, "SPEND_ID_ALREADY_USED", False),
        (C.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED", False),
        (C.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS", False),
    ],
)
def test_may_resend_repeatable(code: grpc.StatusCode, reason: str | None, expected: bool) -> None:
    assert may_resend(code, reason, repeatable=True) is expected


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [(0, 1.0, 0.1), (1, 1.0, 0.2), (3, 0.5, 0.4), (10, 1.0, 5.0), (10, 0.0, 0.0), (-1, 1.0, 0.1)],
)
def test_backoff_full_jitter_is_capped(attempt: int, rand: float, expected: float) -> None:
    assert Backoff(base=0.1, cap=5.0).delay(attempt, lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("server_delay", "remaining", "expected"),
    [
        (None, 10.0, 0.2),
        (1.5, 10.0, 1.5),  # RetryInfo is a floor
        (0.01, 10.0, 0.2),
        (None, 0.2, None),  # no time left for another attempt
        (3.0, 2.0, None),  # the server asks for longer than the deadline allows
    ],
)
def test_next_wait(server_delay: float | None, remaining: float, expected: float | None) -> None:
    wait = next_wait(Backoff(base=0.1, cap=5.0), 1, server_delay, remaining, lambda: 1.0)
    assert wait == (pytest.approx(expected) if expected is not None else None)


def test_service_config_retries_reads_only() -> None:
    config = service_config()
    (method_config,) = config["methodConfig"]
    names = {name["method"] for name in method_config["name"]}
    assert names == set(READ_METHODS)
    assert not names & {"CreateInvoice", "CreateCheck", "Transfer", "DeleteInvoice", "DeleteCheck"}
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert config["retryThrottling"] == {"maxTokens": 10, "tokenRatio": 0.1}
    assert service_config(retry_reads=False) == {}


def test_channel_options_keepalive_within_what_the_sidecar_accepts() -> None:
    options = dict(channel_options())
    # The sidecar accepts pings every 10 s at most (grpc.http2.min_recv_ping_interval...).
    assert options["grpc.keepalive_time_ms"] >= 10_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert json.loads(options["grpc.service_config"]) == service_config()
    assert (
        dict(channel_options(extra=[("grpc.primary_user_agent", "x")]))["grpc.primary_user_agent"]
        == "x"
    )


def test_idempotency_keys() -> None:
    first, second = new_idempotency_key(), new_idempotency_key()
    assert first != second and 0 < len(first) <= 255
    assert idempotency_metadata(first) == (("idempotency-key", first),)
    for bad in ("", "k" * 256):
        with pytest.raises(ValueError, match=r"1\.\.255"):
            idempotency_metadata(bad)
