"""The verified client certificate of a call (pure): the names it proves, as the transports
report them. gRPC gives an auth context, aiohttp's TLS transport a decoded `peercert`; both
are only present when the listener required and verified the certificate (mTLS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Peer:
    # URI SANs that are SPIFFE ids, and DNS SANs, exactly as the certificate carries them.
    spiffe_ids: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    common_name: str = ""

    def describe(self) -> str:
        """The certificate's names for logs and errors (names are not secrets)."""
        names = [*self.spiffe_ids, *(f"DNS:{d}" for d in self.dns_names)]
        if not names and self.common_name:
            names.append(f"CN={self.common_name}")
        return ", ".join(names) or "a certificate with no SPIFFE id or DNS name"


def _texts(values: Iterable[bytes | str]) -> tuple[str, ...]:
    return tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in values)


def peer_from_auth_context(auth: Mapping[str, Iterable[bytes]]) -> Peer | None:
    """From grpc.aio's `context.auth_context()`; None without a verified client certificate."""
    if not auth.get("x509_pem_cert"):
        return None
    uris = _texts(auth.get("peer_uri", ()))
    common = _texts(auth.get("x509_common_name", ()))
    return Peer(
        spiffe_ids=tuple(u for u in uris if u.startswith("spiffe://")),
        dns_names=_texts(auth.get("peer_dns", ())),
        common_name=common[0] if common else "",
    )


def peer_from_ssl(peercert: Mapping[str, Any] | None) -> Peer | None:
    """From `ssl.SSLObject.getpeercert()` (decoded form); None without a client certificate."""
    if not peercert:
        return None
    sans = peercert.get("subjectAltName", ())
    common = [
        value for rdn in peercert.get("subject", ()) for key, value in rdn if key == "commonName"
    ]
    return Peer(
        spiffe_ids=tuple(v for k, v in sans if k == "URI" and v.startswith("spiffe://")),
        dns_names=tuple(v for k, v in sans if k == "DNS"),
        common_name=common[0] if common else "",
    )
