"""sidecar.signature against the synthetic test vector (fixtures) and as a property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.signature import HEADER, secret_key, sign, verify
from tests.helpers import fixture_path

from .conftest import fixture

VECTOR = fixture("webhook-signature-vector.json")
BODY = fixture_path(VECTOR["raw_body_file"]).read_bytes()
TOKEN = VECTOR["token"]
EXPECTED = VECTOR["expected_signature_hex"]


def test_vector_body_is_the_exact_bytes() -> None:
    assert len(BODY) == VECTOR["raw_body_utf8_length"]
    assert VECTOR["header_name"] == HEADER


def test_secret_key_is_the_raw_sha256_of_the_token() -> None:
    key = secret_key(TOKEN)
    assert len(key) == 32
    assert key.hex() == VECTOR["secret_key_sha256_of_token_hex"]


def test_sign_matches_the_vector() -> None:
    assert sign(TOKEN, BODY) == EXPECTED


def test_verify_accepts_the_vector_in_either_case() -> None:
    assert verify(BODY, EXPECTED, [TOKEN])
    assert verify(BODY, EXPECTED.upper(), [TOKEN])


@pytest.mark.parametrize("wrong", list(VECTOR["negative_cases"].values()))
def test_the_three_common_mistakes_do_not_verify(wrong: str) -> None:
    assert not verify(BODY, wrong, [TOKEN])


@pytest.mark.parametrize("garbage", [None, "", "zz", EXPECTED[:8], EXPECTED + "00", "g" * 64])
def test_missing_or_malformed_signatures_do_not_verify(garbage: str | None) -> None:
    assert not verify(BODY, garbage, [TOKEN])


def test_a_reserialized_body_does_not_verify() -> None:
    assert not verify(BODY + b" ", EXPECTED, [TOKEN])


def test_any_of_several_tokens_verifies_for_rotation() -> None:
    other = "9999:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    assert verify(BODY, EXPECTED, [other, TOKEN])
    assert not verify(BODY, EXPECTED, [other])
    assert not verify(BODY, EXPECTED, [])


@given(token=st.text(min_size=1), body=st.binary(), flip=st.integers(min_value=0))
def test_sign_then_verify_roundtrip(token: str, body: bytes, flip: int) -> None:
    signature = sign(token, body)
    assert len(signature) == 64 and signature == signature.lower()
    assert verify(body, signature, [token])
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        assert not verify(tampered, signature, [token])
