"""The Crypto Pay-compatible HTTP front: `/api/{method}` as Crypto Pay serves it, for apps that
keep their existing SDK. Another edge onto the same request path as gRPC (`Pipeline.handle`):
the caller is the owner of the `Crypto-Pay-API-Token` it sends (a per-caller token whose
SHA-256 is in the policy), and every answer is in Crypto Pay's envelope.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.message import Message
from opentelemetry import propagate
from opentelemetry.trace import SpanKind

from sidecar.errors import RpcError
from sidecar.front_errors import http_error
from sidecar.idempotency.fingerprint import IDEMPOTENCY_KEY
from sidecar.mapping import from_json, loads, to_json
from sidecar.methods import BY_RPC, MethodSpec, Result
from sidecar.peer import peer_from_ssl
from sidecar.pipeline import Call, Pipeline
from sidecar.policy.identity import TOKEN_HEADER, caller_for_token
from sidecar.policy.reload import PolicyHolder
from sidecar.telemetry import metrics, tracing

log = logging.getLogger(__name__)

BY_API: dict[str, MethodSpec] = {spec.api: spec for spec in BY_RPC.values()}
# Metadata the front passes on from the HTTP request (lower-case header names).
_PASSED = (IDEMPOTENCY_KEY, "cache-control", "traceparent", "tracestate")
REPLAYED_TRAILER = "idempotent-replayed"


class BadParameters(ValueError):
    pass


def parse_params(raw: Mapping[str, Any], spec: MethodSpec) -> Message:
    """The request message from Crypto Pay parameters (query, form or JSON: the same names);
    a parameter the method does not take, or whose value does not fit, is refused."""
    fields = {f.name for f in spec.request_type.DESCRIPTOR.fields}
    unknown = sorted(k for k in raw if k not in fields)
    if unknown:
        raise BadParameters(f"{spec.api} takes no parameter {', '.join(unknown)}")
    data = {k: v for k, v in raw.items() if v is not None}
    message = from_json(data, spec.request_type)
    set_names = {f.name for f, _ in message.ListFields()}
    bad = sorted(k for k, v in data.items() if k not in set_names and not _is_default(v))
    if bad:
        raise BadParameters(f"{spec.api}: bad value for {', '.join(bad)}")
    return message


def _is_default(value: Any) -> bool:
    return value in ("", 0, False, "0", "false") or value == []


def envelope(spec: MethodSpec, response: Message, body: bytes | None) -> bytes:
    """`{"ok":true,"result":...}`: the upstream's own answer when there is one (field order,
    number formats and unknown fields intact), else rendered from the response message."""
    if body is not None:
        return body
    field = getattr(response, spec.result_field)
    result: Any
    if spec.result is Result.OBJECT:
        result = to_json(field)
    elif spec.result is Result.ITEMS:
        result = {"items": [to_json(item) for item in field]}
    elif spec.result is Result.ARRAY:
        result = [to_json(item) for item in field]
    else:
        result = bool(field)
    return json.dumps({"ok": True, "result": result}, separators=(",", ":")).encode()


def error_body(code: int, name: str) -> bytes:
    return json.dumps({"ok": False, "error": {"code": code, "name": name}}).encode()


class ApiFront:
    def __init__(
        self, pipeline: Pipeline, policy: PolicyHolder, client_certificates: bool = False
    ) -> None:
        self._pipeline = pipeline
        self._policy = policy
        # mTLS: the listener verified a client certificate on every connection.
        self._client_certificates = client_certificates

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/api/{method}", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        spec = BY_API.get(request.match_info["method"])
        if spec is None or request.method not in ("GET", "POST"):
            return _answer(405, error_body(405, "METHOD_NOT_FOUND"))
        token = request.headers.get("Crypto-Pay-API-Token", "")
        caller = caller_for_token(self._policy.current, token) if token else None
        if caller is None:
            return _answer(401, error_body(401, "UNAUTHORIZED"))
        try:
            raw = await _parameters(request)
            message = parse_params(raw, spec)
        except BadParameters as exc:
            log.info("front: bad parameters", extra={"method": spec.api, "detail": str(exc)})
            return _answer(400, error_body(400, "BAD_REQUEST"))
        metadata = {k: v for k in _PASSED if (v := request.headers.get(k)) is not None}
        metadata[TOKEN_HEADER] = token
        call = Call(spec=spec, request=message, metadata=metadata, deadline=None)
        if self._client_certificates and request.transport is not None:
            ssl_object = request.transport.get_extra_info("ssl_object")
            call.peer = peer_from_ssl(ssl_object.getpeercert() if ssl_object else None)
        started = time.perf_counter()
        metrics.rpc_started(spec.rpc, "http")

        def finished(code: grpc.StatusCode) -> None:
            metrics.rpc_finished(spec.rpc, code, time.perf_counter() - started, "http")

        try:
            with _server_span(spec, request, metadata):
                response = await self._pipeline.handle(call)
        except RpcError as error:
            finished(error.code)
            return _refused(error, call)
        except asyncio.CancelledError:
            finished(grpc.StatusCode.CANCELLED)
            raise
        except Exception:
            log.exception("unexpected error", extra={"rpc": spec.rpc})
            finished(grpc.StatusCode.INTERNAL)
            return _answer(500, error_body(500, "INTERNAL_ERROR"))
        finished(grpc.StatusCode.OK)
        return _answer(200, envelope(spec, response, call.body), _headers(call))


async def _parameters(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    kind = request.content_type
    if kind == "application/json":
        try:
            body = loads(await request.read())
        except ValueError as exc:
            raise BadParameters("the body is not JSON") from exc
        if not isinstance(body, Mapping):
            raise BadParameters("the JSON body is not an object")
        params.update(body)
    elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _headers(call: Call) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in call.trailing:
        if key == REPLAYED_TRAILER:
            out["Idempotent-Replayed"] = value
        elif key.startswith("ratelimit") or key.startswith("cryptopay-"):
            out[key] = value
    if call.attempts:
        out["cryptopay-attempts"] = str(call.attempts)
    return out


def _refused(error: RpcError, call: Call) -> web.Response:
    status, name, retry_after = http_error(call.spec, error)
    headers = _headers(call)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return _answer(status, error_body(status, name), headers)


def _answer(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=body, content_type="application/json", headers=dict(headers or {})
    )


@contextmanager
def _server_span(
    spec: MethodSpec, request: web.Request, carrier: Mapping[str, str]
) -> Iterator[None]:
    # The server span continues the caller's traceparent, as the gRPC edge's interceptor does.
    context = propagate.extract(dict(carrier))
    with tracing.tracer().start_as_current_span(
        f"{request.method} /api/{spec.api}",
        context=context,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": request.method, "network.protocol.name": "http"},
    ):
        yield
