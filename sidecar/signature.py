"""Crypto Pay webhook signatures.

The header ``crypto-pay-api-signature`` carries
``hex(HMAC-SHA256(key=SHA256(token) raw digest, msg=raw request body))``.
Shared by the emulator (signing) and the sidecar's webhook ingest (verifying).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["HEADER", "key_from_token_sha256", "secret_key", "sign", "sign_with_key", "verify"]

HEADER = "crypto-pay-api-signature"

_HEX_DIGITS = frozenset("0123456789abcdef")
_SIGNATURE_LENGTH = 64


def secret_key(token: str) -> bytes:
    """The HMAC key: the raw 32-byte SHA-256 digest of the token (not its hex form)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def key_from_token_sha256(token_sha256: str) -> bytes:
    """The HMAC key from the hex SHA-256 of a token, as the policy stores a caller's token:
    the digest is the key, so a webhook can be signed for a token the sidecar never holds."""
    key = bytes.fromhex(token_sha256)
    if len(key) != hashlib.sha256().digest_size:
        raise ValueError("a token's SHA-256 is 64 hex digits")
    return key


def sign_with_key(key: bytes, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 over the exact body bytes, with the key itself."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def sign(token: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 over the exact body bytes."""
    return sign_with_key(secret_key(token), body)


def verify(body: bytes, signature: str | None, tokens: Sequence[str]) -> bool:
    """True if ``signature`` matches ``body`` under any of ``tokens``.

    Several tokens let a receiver accept updates during a token rotation.
    Uppercase hex is accepted; anything that is not 64 hex digits is rejected early.
    """
    if signature is None:
        return False
    candidate = signature.strip().lower()
    if len(candidate) != _SIGNATURE_LENGTH or not _HEX_DIGITS.issuperset(candidate):
        return False
    matched = False
    for token in tokens:
        # No early exit, so timing does not reveal which token matched.
        matched |= hmac.compare_digest(sign(token, body), candidate)
    return matched
