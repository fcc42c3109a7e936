"""Who is calling (pure): the caller named in gRPC metadata, authenticated by its key, the
caller whose verified client certificate (mTLS) carries one of its names, or the caller whose
Crypto-Pay-API-Token an HTTP front call carries.

`identity.from` says which proof counts: key (the metadata), certificate (only the certificate),
or either (a certificate when the call has one). A caller defined by certificate names can only
be that caller with its certificate: naming it in metadata, even with a key, is refused.

In the sidecar pattern the default caller is the local application: a call that names no caller
runs as `default`, unless the policy requires identity. A call that names a caller must name a
known one and carry its key, whose SHA-256 (never the key) is in the policy. Keys are compared
in constant time and never appear in messages.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass

from sidecar.peer import Peer
from sidecar.policy.model import DEFAULT_CALLER, Mode, PolicySnapshot, Source


@dataclass(frozen=True, slots=True)
class Identified:
    caller: str
    # Set when identity is audited: the refusal that enforcement would have given.
    audit: Refusal | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    # CALLER_REQUIRED, CALLER_UNKNOWN, CALLER_KEY_MISSING, CALLER_KEY_INVALID, TOKEN_INVALID,
    # CERTIFICATE_REQUIRED, CERTIFICATE_UNKNOWN, CALLER_MISMATCH, CALLER_NEEDS_CERTIFICATE
    reason: str
    message: str
    caller: str | None = None  # as claimed by the call


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# The policy's caller-name syntax (schema.CALLER_PATTERN), always matched whole.
_CALLER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def shown_name(claimed: str) -> str:
    """An unknown caller name as logs and errors may show it: verbatim when it has the shape of
    a caller name, otherwise a short fingerprint. A key sent in the name header by mistake
    (swapped headers) must never be written out."""
    if _CALLER_NAME.fullmatch(claimed):
        return claimed
    return f"sha256:{key_digest(claimed)[:12]} (not a caller name; {len(claimed)} characters)"


# Where the HTTP front puts the Crypto-Pay-API-Token it received.
TOKEN_HEADER = "crypto-pay-api-token"
TOKEN_PATTERN = re.compile(r"\d{1,20}:[A-Za-z0-9]{35}")


def new_token() -> str:
    """A fresh caller token in the shape SDKs validate (`<digits>:<35 alphanumerics>`)."""
    alphabet = string.ascii_letters + string.digits
    prefix = str(secrets.randbelow(9 * 10**8) + 10**8)
    return prefix + ":" + "".join(secrets.choice(alphabet) for _ in range(35))


def caller_for_token(policy: PolicySnapshot, token: str) -> str | None:
    """The caller whose token_sha256 matches `token`, compared in constant time against every
    configured token; None when no caller has it."""
    digest = key_digest(token)
    found: str | None = None
    for name, rules in policy.callers.items():
        for expected in rules.token_sha256:
            if hmac.compare_digest(digest, expected) and found is None:
                found = name
    return found


def identify(
    policy: PolicySnapshot, metadata: Mapping[str, str], peer: Peer | None = None
) -> Identified | Refusal:
    identity = policy.identity
    token = metadata.get(TOKEN_HEADER)
    if token is not None:
        # A token is an explicit claim: it is checked whatever identity mode says.
        caller = caller_for_token(policy, token)
        if caller is None:
            return Refusal("TOKEN_INVALID", "the Crypto-Pay-API-Token is not a caller's token")
        return _bound(policy, caller, peer)
    if identity.mode is Mode.OFF:
        return Identified(DEFAULT_CALLER)
    found = _check(policy, metadata, peer)
    if isinstance(found, Identified):
        return found
    if identity.mode is Mode.AUDIT:
        return Identified(DEFAULT_CALLER, audit=found)
    return found


def caller_for_peer(policy: PolicySnapshot, peer: Peer) -> str | None:
    """The caller one of whose certificate names the peer's certificate carries."""
    names = policy.by_certificate
    for spiffe_id in peer.spiffe_ids:
        if spiffe_id in names:
            return names[spiffe_id]
    for dns_name in peer.dns_names:
        caller = names.get("dns:" + dns_name.lower())
        if caller is not None:
            return caller
    return None


def _bound(policy: PolicySnapshot, caller: str, peer: Peer | None) -> Identified | Refusal:
    """`caller`, proven by a key or token, unless its certificate is what must prove it."""
    rules = policy.callers.get(caller)
    if rules is None or not (rules.spiffe_ids or rules.dns_names):
        return Identified(caller)
    if peer is not None and caller_for_peer(policy, peer) == caller:
        return Identified(caller)
    return Refusal(
        "CALLER_NEEDS_CERTIFICATE",
        f"caller {caller!r} is identified by its client certificate; connect with that "
        "certificate (mTLS)"
        + ("" if peer is None else f": this connection's certificate is {peer.describe()}"),
        caller,
    )


def _check(
    policy: PolicySnapshot, metadata: Mapping[str, str], peer: Peer | None
) -> Identified | Refusal:
    source = policy.identity.source
    by_key = source is Source.KEY or (
        source is Source.EITHER and (peer is None or caller_for_peer(policy, peer) is None)
    )
    if by_key:
        return _check_key(policy, metadata, peer)
    if peer is None:
        return Refusal(
            "CERTIFICATE_REQUIRED",
            "this sidecar's policy identifies callers by their client certificate: connect "
            "with mTLS (the sidecar needs --tls-client-ca, the client its certificate and key)",
        )
    caller = caller_for_peer(policy, peer)
    if caller is None:
        return Refusal(
            "CERTIFICATE_UNKNOWN",
            f"the client certificate ({peer.describe()}) names no caller of the policy; ask "
            "the platform team to add its SPIFFE id or DNS name to a caller's certificate",
        )
    claimed = metadata.get(policy.identity.caller_header, "").strip()
    if claimed and claimed != caller:
        return Refusal(
            "CALLER_MISMATCH",
            f"the metadata {policy.identity.caller_header} names {shown_name(claimed)!r}, but "
            f"the client certificate ({peer.describe()}) is caller {caller!r}",
            shown_name(claimed),
        )
    return Identified(caller)


def _check_key(
    policy: PolicySnapshot, metadata: Mapping[str, str], peer: Peer | None
) -> Identified | Refusal:
    identity = policy.identity
    claimed = metadata.get(identity.caller_header, "").strip()
    if not claimed:
        if identity.required:
            return Refusal(
                "CALLER_REQUIRED",
                "this sidecar's policy requires every call to identify its caller: send the "
                f"metadata {identity.caller_header} (your caller name) and "
                f"{identity.key_header} (your key)",
            )
        return Identified(DEFAULT_CALLER)
    rules = policy.callers.get(claimed)
    shown = shown_name(claimed)
    if rules is None:
        return Refusal(
            "CALLER_UNKNOWN",
            f"caller {shown!r} (metadata {identity.caller_header}) is not defined in the "
            "policy; ask the platform team to add it, or check the spelling"
            + (
                ""
                if shown == claimed
                else f" (did you swap {identity.caller_header} and {identity.key_header}?)"
            ),
            shown,
        )
    if rules.spiffe_ids or rules.dns_names:
        # Its certificate proves it, and nothing else does.
        return _bound(policy, claimed, peer)
    key = metadata.get(identity.key_header, "")
    if not key:
        return Refusal(
            "CALLER_KEY_MISSING",
            f"caller {shown!r} must send its key in the metadata {identity.key_header}",
            shown,
        )
    digest = key_digest(key)
    # Compare against every configured key, so timing does not tell which one nearly matched.
    matched = False
    for expected in rules.key_sha256:
        matched |= hmac.compare_digest(digest, expected)
    if not matched:
        return Refusal(
            "CALLER_KEY_INVALID",
            f"the key sent for caller {shown!r} (metadata {identity.key_header}) is not this "
            "caller's key",
            shown,
        )
    return Identified(claimed)
