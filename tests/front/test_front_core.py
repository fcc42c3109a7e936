"""The front's pure parts: tokens, parameters, the error table, the envelope."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from argparse import Namespace
from types import MappingProxyType

import grpc
import pytest

from sidecar.api_front import BY_API, BadParameters, envelope, parse_params
from sidecar.errors import refusal, retry_info, upstream_error
from sidecar.front_errors import http_error
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.policy import commands
from sidecar.policy.identity import (
    TOKEN_HEADER,
    Identified,
    Refusal,
    identify,
    key_digest,
    new_token,
)
from sidecar.policy.model import CallerRules
from tests.helpers import snapshot

CREATE = BY_API["createInvoice"]
TRANSFER = BY_API["transfer"]


def test_new_tokens_have_the_shape_sdks_validate() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(r"\d+:[A-Za-z0-9]{35}", t) for t in tokens)


def test_new_token_command_prints_the_token_and_its_digest() -> None:
    out = io.StringIO()
    assert commands.run(Namespace(policy_command="new-token", caller="shop"), out) == 0
    text = out.getvalue()
    token = re.search(r"^  (\d+:[A-Za-z0-9]{35})$", text, re.M)
    assert token is not None
    assert f"token_sha256: {key_digest(token.group(1))}" in text
    assert "callers.shop" in text


def test_a_token_identifies_its_caller_and_an_unknown_one_is_refused() -> None:
    token = new_token()
    base = snapshot({})
    shop = CallerRules(name="shop", token_sha256=(key_digest(token),))
    policy = dataclasses.replace(base, callers=MappingProxyType({"shop": shop}))
    assert identify(policy, {TOKEN_HEADER: token}) == Identified("shop")
    refused = identify(policy, {TOKEN_HEADER: new_token()})
    assert isinstance(refused, Refusal) and refused.reason == "TOKEN_INVALID"


def test_query_strings_become_typed_requests() -> None:
    request = parse_params(
        {"asset": "USDT", "amount": "1.50", "allow_comments": "false", "expires_in": "60"}, CREATE
    )
    assert isinstance(request, pb.CreateInvoiceRequest)
    assert (request.amount, request.allow_comments, request.expires_in) == ("1.50", False, 60)
    listed = parse_params({"invoice_ids": "3,4", "status": "paid"}, BY_API["getInvoices"])
    assert list(listed.invoice_ids) == [3, 4]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "params", [{"colour": "red"}, {"amount": "1", "asset": "USDT", "expires_in": "soon"}]
)
def test_unknown_or_ill_typed_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(BadParameters):
        parse_params(params, CREATE)


def test_error_table() -> None:
    limited = refusal(grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED", "x", retry_after=2.5)
    assert http_error(CREATE, limited) == (429, "RATE_LIMITED", 2.5)
    cap = refusal(
        grpc.StatusCode.PERMISSION_DENIED, "POLICY_DENIED", "x", metadata={"rule": "spend_caps[0]"}
    )
    assert http_error(TRANSFER, cap)[:2] == (403, "SPEND_CAP_EXCEEDED")
    denied = refusal(
        grpc.StatusCode.PERMISSION_DENIED, "POLICY_DENIED", "x", metadata={"rule": "rpcs"}
    )
    assert http_error(TRANSFER, denied)[:2] == (403, "POLICY_DENIED")
    reused = refusal(grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED", "x")
    assert http_error(CREATE, reused)[:2] == (409, "IDEMPOTENCY_KEY_REUSED")
    assert http_error(CREATE, refusal(grpc.StatusCode.ABORTED, "OUTCOME_UNKNOWN", "x"))[:2] == (
        424,
        "OUTCOME_UNKNOWN",
    )
    # The upstream's own errors pass through, except a 5xx on a create: it may have happened.
    assert http_error(CREATE, upstream_error("createInvoice", 400, "UNSUPPORTED_ASSET"))[:2] == (
        400,
        "UNSUPPORTED_ASSET",
    )
    assert http_error(CREATE, upstream_error("createInvoice", 500, "APP_ERROR"))[:2] == (
        424,
        "OUTCOME_UNKNOWN",
    )
    assert http_error(TRANSFER, upstream_error("transfer", 500, "APP_ERROR"))[:2] == (
        500,
        "APP_ERROR",
    )
    assert retry_info(1.0) is not None


def test_envelope_prefers_the_upstream_body_and_renders_otherwise() -> None:
    response = pb.DeleteInvoiceResponse(deleted=True)
    spec = BY_API["deleteInvoice"]
    assert (
        envelope(spec, response, b'{"ok": true, "result": true}') == b'{"ok": true, "result": true}'
    )
    assert json.loads(envelope(spec, response, None)) == {"ok": True, "result": True}
