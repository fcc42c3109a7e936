"""Webhook encoding and backoff (pure parts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sidecar.emulator.delivery import RetryPolicy, backoff_delay, encode_update
from sidecar.emulator.formats import parse_time
from sidecar.signature import sign, verify
from tests.helpers import fixture_path

from .conftest import fixture


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.2, cap=1.0)
    assert [backoff_delay(n, policy) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]


@pytest.mark.parametrize(
    ("update", "vector"),
    [
        ("webhook-invoice-paid.crypto.json", "webhook-signature-vector.json"),
        (
            "shared:webhook-update-invoice-paid.crypto.real-testnet.json",
            "shared:webhook-signature-test-vector.synthetic.json",
        ),
    ],
)
def test_encoding_reproduces_the_real_update_bytes(update: str, vector: str) -> None:
    """The vector's body is a compact dump of an update; ours must be byte-identical."""
    real = fixture(update)
    body = encode_update(real["update_id"], parse_time(real["request_date"]), real["payload"])
    sample = fixture(vector)
    prefix = "shared:" if vector.startswith("shared:") else ""
    assert body == fixture_path(prefix + sample["raw_body_file"]).read_bytes()
    assert sign(sample["token"], body) == sample["expected_signature_hex"]


@pytest.mark.parametrize(
    "name",
    ["webhook-invoice-paid.fiat.json", "shared:webhook-update-invoice-paid.fiat.real-mainnet.json"],
)
def test_non_ascii_stays_utf8(name: str) -> None:
    real = fixture(name)
    body = encode_update(1, datetime(2025, 1, 1, tzinfo=UTC), real["payload"])
    assert real["payload"]["description"].encode() in body
    assert b"\\u" not in body and b", " not in body and b": " not in body
    assert json.loads(body)["payload"] == real["payload"]
    assert verify(body, sign("1:" + "x" * 35, body), ["1:" + "x" * 35])
