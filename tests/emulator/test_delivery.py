"""Webhook encoding and backoff (pure parts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sidecar.emulator.delivery import RetryPolicy, backoff_delay, encode_update
from sidecar.signature import sign, verify
from tests.helpers import FIXTURES

from .conftest import fixture


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.2, cap=1.0)
    assert [backoff_delay(n, policy) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_encoding_reproduces_the_real_update_bytes() -> None:
    """The vector's body is a compact dump of a real update; ours must be byte-identical."""
    real = fixture("webhook-update-invoice-paid.crypto.real-testnet.json")
    body = encode_update(
        real["update_id"],
        datetime(2024, 11, 12, 17, 11, 6, 375000, tzinfo=UTC),
        real["payload"],
    )
    vector = fixture("webhook-signature-test-vector.synthetic.json")
    assert body == (FIXTURES / vector["raw_body_file"]).read_bytes()
    assert sign(vector["token"], body) == vector["expected_signature_hex"]


def test_non_ascii_stays_utf8() -> None:
    real = fixture("webhook-update-invoice-paid.fiat.real-mainnet.json")
    body = encode_update(1, datetime(2025, 1, 1, tzinfo=UTC), real["payload"])
    assert "Пополнение баланса на 100₽".encode() in body
    assert b"\\u" not in body and b", " not in body and b": " not in body
    assert json.loads(body)["payload"] == real["payload"]
    assert verify(body, sign("1:" + "x" * 35, body), ["1:" + "x" * 35])
