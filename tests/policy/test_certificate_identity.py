"""Callers identified by their client certificate (identity.from), from a policy as written."""

from __future__ import annotations

import textwrap

import pytest

from sidecar.peer import Peer, peer_from_auth_context, peer_from_ssl
from sidecar.policy import build
from sidecar.policy.identity import Identified, Refusal, identify, key_digest
from sidecar.policy.lint import LintContext, lint
from sidecar.policy.loader import parse_text
from sidecar.policy.model import PolicySnapshot
from sidecar.policy.problems import Severity

CHECKOUT = "spiffe://cluster.local/ns/shop/sa/checkout"
PAYOUTS_DNS = "payouts.internal.example"
KEY = "legacy-key"
CALLER, KEY_HEADER = "x-cryptopay-caller", "x-cryptopay-caller-key"


def policy(source: str, required: bool = True) -> PolicySnapshot:
    text = f"""
    version: 1
    identity: {{required: {str(required).lower()}, from: {source}}}
    defaults: {{rpcs: {{allow: [GetMe]}}}}
    callers:
      checkout:
        certificate: {{spiffe_ids: [{CHECKOUT}]}}
        rpcs: {{allow: [CreateInvoice]}}
      payouts:
        certificate: {{dns_names: [{PAYOUTS_DNS}]}}
      legacy:
        key_sha256: {key_digest(KEY)}
    """
    document = parse_text(textwrap.dedent(text).lstrip("\n"), "p.yaml")
    assert not [p for p in lint(document, LintContext(redis=True)) if p.is_error]
    return build.snapshot(document, "p.yaml")


CHECKOUT_PEER = Peer(spiffe_ids=(CHECKOUT,), common_name="checkout")
PAYOUTS_PEER = Peer(dns_names=("Payouts.Internal.Example",))
STRANGER = Peer(spiffe_ids=("spiffe://cluster.local/ns/shop/sa/other",), common_name="other")

CASES = [
    # (identity.from, metadata, peer, caller or refusal reason)
    ("certificate", {}, CHECKOUT_PEER, "checkout"),
    ("certificate", {}, PAYOUTS_PEER, "payouts"),  # DNS names compare case-insensitively
    ("certificate", {CALLER: "checkout"}, CHECKOUT_PEER, "checkout"),
    ("certificate", {}, STRANGER, "CERTIFICATE_UNKNOWN"),
    ("certificate", {}, None, "CERTIFICATE_REQUIRED"),
    ("certificate", {CALLER: "legacy", KEY_HEADER: KEY}, None, "CERTIFICATE_REQUIRED"),
    ("certificate", {CALLER: "payouts"}, CHECKOUT_PEER, "CALLER_MISMATCH"),
    ("either", {}, CHECKOUT_PEER, "checkout"),
    ("either", {CALLER: "legacy", KEY_HEADER: KEY}, None, "legacy"),
    # A certificate that names no caller falls back to the key metadata.
    ("either", {CALLER: "legacy", KEY_HEADER: KEY}, STRANGER, "legacy"),
    ("either", {}, STRANGER, "CALLER_REQUIRED"),
    # Headers never stand in for a caller defined by its certificate.
    ("either", {CALLER: "checkout", KEY_HEADER: KEY}, None, "CALLER_NEEDS_CERTIFICATE"),
    ("either", {CALLER: "checkout"}, STRANGER, "CALLER_NEEDS_CERTIFICATE"),
    ("key", {CALLER: "checkout"}, CHECKOUT_PEER, "checkout"),
    ("key", {CALLER: "checkout", KEY_HEADER: KEY}, None, "CALLER_NEEDS_CERTIFICATE"),
    ("key", {CALLER: "legacy", KEY_HEADER: KEY}, CHECKOUT_PEER, "legacy"),
    ("key", {}, CHECKOUT_PEER, "CALLER_REQUIRED"),
]


@pytest.mark.parametrize(("source", "metadata", "peer", "expected"), CASES)
def test_identify_by_certificate(
    source: str, metadata: dict[str, str], peer: Peer | None, expected: str
) -> None:
    result = identify(policy(source), metadata, peer)
    if expected.isupper():
        assert isinstance(result, Refusal), result
        assert result.reason == expected, result.message
        assert KEY not in result.message
    else:
        assert result == Identified(expected)


def test_a_caller_bound_to_its_certificate_cannot_be_claimed_with_a_key() -> None:
    """Even a caller that has both a key and a certificate needs the certificate."""
    text = f"""
    version: 1
    identity: {{required: true, from: either}}
    defaults: {{rpcs: {{allow: []}}}}
    callers:
      checkout:
        key_sha256: {key_digest(KEY)}
        certificate: {{spiffe_ids: [{CHECKOUT}]}}
    """
    snapshot = build.snapshot(parse_text(textwrap.dedent(text).lstrip("\n"), "p.yaml"), "p")
    claimed = {CALLER: "checkout", KEY_HEADER: KEY}
    result = identify(snapshot, claimed, None)
    assert isinstance(result, Refusal) and result.reason == "CALLER_NEEDS_CERTIFICATE"
    assert "mTLS" in result.message
    result = identify(snapshot, claimed, STRANGER)
    assert isinstance(result, Refusal) and result.reason == "CALLER_NEEDS_CERTIFICATE"
    assert "spiffe://cluster.local/ns/shop/sa/other" in result.message
    assert identify(snapshot, claimed, CHECKOUT_PEER) == Identified("checkout")


def test_refusals_name_the_certificate_and_what_to_do() -> None:
    result = identify(policy("certificate"), {}, STRANGER)
    assert isinstance(result, Refusal)
    assert "spiffe://cluster.local/ns/shop/sa/other" in result.message
    assert "platform team" in result.message
    required = identify(policy("certificate"), {}, None)
    assert isinstance(required, Refusal) and "--tls-client-ca" in required.message


def lint_problems(text: str) -> list[tuple[str, str, str]]:
    document = parse_text(textwrap.dedent(text).lstrip("\n"), "p.yaml")
    return [
        (p.severity.value, ".".join(map(str, p.path)), p.message)
        for p in lint(document, LintContext(redis=True))
    ]


def test_lint_refuses_a_certificate_name_given_to_two_callers() -> None:
    found = lint_problems(
        f"""
        version: 1
        identity: {{from: certificate, required: true}}
        callers:
          a: {{certificate: {{spiffe_ids: [{CHECKOUT}]}}}}
          b: {{certificate: {{spiffe_ids: [{CHECKOUT}], dns_names: [x.example]}}}}
          c: {{certificate: {{dns_names: [x.example]}}}}
        """
    )
    errors = [(path, m) for severity, path, m in found if severity == Severity.ERROR.value]
    assert errors == [
        (
            "callers.b.certificate.spiffe_ids.0",
            f"{CHECKOUT!r} already names caller 'a': a certificate name identifies one caller",
        ),
        (
            "callers.c.certificate.dns_names.0",
            "'x.example' already names caller 'b': a certificate name identifies one caller",
        ),
    ]


def test_lint_refuses_malformed_certificate_names() -> None:
    found = lint_problems(
        """
        version: 1
        identity: {from: certificate}
        callers:
          a: {certificate: {spiffe_ids: ["https://not-spiffe"], dns_names: ["*.example.com"]}}
        """
    )
    paths = {path for severity, path, _ in found if severity == Severity.ERROR.value}
    assert {"callers.a.certificate.spiffe_ids.0", "callers.a.certificate.dns_names.0"} <= paths


def test_lint_warns_where_certificates_would_not_identify_anyone() -> None:
    unused = lint_problems(
        f"""
        version: 1
        identity: {{required: true}}
        callers:
          a: {{certificate: {{spiffe_ids: [{CHECKOUT}]}}}}
        """
    )
    assert any(s == "warning" and p == "identity" and "identity.from" in m for s, p, m in unused)
    keyed = lint_problems(
        f"""
        version: 1
        identity: {{required: true, from: certificate}}
        callers:
          a: {{key_sha256: {key_digest(KEY)}}}
        """
    )
    assert any(s == "warning" and p == "callers.a" and "no certificate" in m for s, p, m in keyed)


def test_peer_from_grpc_auth_context() -> None:
    auth = {
        "transport_security_type": [b"ssl"],
        "x509_common_name": [b"checkout"],
        "x509_pem_cert": [b"-----BEGIN CERTIFICATE-----..."],
        "peer_uri": [CHECKOUT.encode(), b"https://not-an-id.example"],
        "peer_dns": [b"checkout.shop.svc"],
    }
    assert peer_from_auth_context(auth) == Peer(
        spiffe_ids=(CHECKOUT,), dns_names=("checkout.shop.svc",), common_name="checkout"
    )
    # TLS without a client certificate, or plaintext: no peer.
    assert peer_from_auth_context({"transport_security_type": [b"ssl"]}) is None
    assert peer_from_auth_context({}) is None


def test_peer_from_ssl_peercert() -> None:
    peercert = {
        "subject": ((("commonName", "payouts"),),),
        "subjectAltName": (("DNS", PAYOUTS_DNS), ("URI", CHECKOUT), ("IP Address", "10.0.0.1")),
    }
    assert peer_from_ssl(peercert) == Peer(
        spiffe_ids=(CHECKOUT,), dns_names=(PAYOUTS_DNS,), common_name="payouts"
    )
    assert peer_from_ssl(None) is None and peer_from_ssl({}) is None
    assert Peer(common_name="x").describe() == "CN=x"
