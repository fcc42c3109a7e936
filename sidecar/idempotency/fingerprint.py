"""Keys and hashes for idempotency (pure): the record's name, the request's fingerprint, and the
spend_id derived for a transfer sent with an idempotency key but no spend_id."""

from __future__ import annotations

import hashlib

from google.protobuf.message import Message

from sidecar.methods import MethodSpec

IDEMPOTENCY_KEY = "idempotency-key"  # request metadata
REPLAYED = "idempotent-replayed"  # trailing metadata on a replayed answer
MAX_KEY_LENGTH = 255
SPEND_ID_PREFIX = "idk-"


def key_problem(key: str) -> str | None:
    """Why an idempotency key is unusable, or None."""
    if not key:
        return "is empty: send a unique string of 1 to 255 characters (a UUID is ideal)"
    if len(key) > MAX_KEY_LENGTH:
        return f"is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
    if not key.isprintable() or not key.isascii():
        return "must be printable ASCII"
    return None


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefixed, so ("ab", "c") and ("a", "bc") never collide.
        h.update(len(data).to_bytes(4, "big"))
        h.update(data)
    return h.hexdigest()


def fingerprint(spec: MethodSpec, request: Message) -> str:
    """A hash of the RPC and the request's deterministic serialization."""
    return _digest(spec.full_rpc, request.SerializeToString(deterministic=True))


def record_key(caller: str, rpc: str, key: str) -> str:
    """The record's name: one per caller, RPC and key (hashed, so any key text is safe)."""
    return _digest("record", caller, rpc, key)[:40]


def derive_spend_id(caller: str, key: str) -> str:
    """The spend_id of a transfer sent with this idempotency key: the same on every replica and
    after any restart, so the upstream deduplicates even when the sidecar's record is gone."""
    return SPEND_ID_PREFIX + _digest("spend_id", caller, key)[:48]
