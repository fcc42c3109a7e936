"""Stored answers as bytes (pure): the response message (with the upstream's raw answer, so a
replay over the HTTP front is byte for byte the first answer), or a google.rpc.Status with
details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from sidecar.errors import RpcError
from sidecar.methods import MethodSpec
from sidecar.outcome import Delivery, Outcome

_RESPONSE = b"R"
_RESPONSE_WITH_BODY = b"B"  # 4-byte big-endian length of the raw body, the body, the message
_ERROR = b"E"
_DETAIL_TYPES: tuple[type[Message], ...] = (
    error_details_pb2.ErrorInfo,
    error_details_pb2.RetryInfo,
    error_details_pb2.BadRequest,
)
_CODES = {code.value[0]: code for code in grpc.StatusCode}


def encode(outcome: Outcome) -> bytes:
    if outcome.response is not None:
        message = bytes(outcome.response.SerializeToString(deterministic=True))
        if outcome.body is not None:
            body = bytes(outcome.body)
            return _RESPONSE_WITH_BODY + len(body).to_bytes(4, "big") + body + message
        return _RESPONSE + message
    assert outcome.error is not None
    error = outcome.error
    details = []
    for detail in error.details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    status = status_pb2.Status(code=error.code.value[0], message=error.message, details=details)
    return _ERROR + bytes(status.SerializeToString(deterministic=True))


def decode(spec: MethodSpec, payload: bytes) -> Outcome:
    tag, body = payload[:1], payload[1:]
    if tag == _RESPONSE:
        response = spec.response_type()
        response.ParseFromString(body)
        return Outcome(Delivery.DONE, response=response)
    if tag == _RESPONSE_WITH_BODY:
        size = int.from_bytes(body[:4], "big")
        raw, message = body[4 : 4 + size], body[4 + size :]
        response = spec.response_type()
        response.ParseFromString(message)
        return Outcome(Delivery.DONE, response=response, body=raw)
    if tag != _ERROR:
        raise ValueError(f"unknown stored answer tag {tag!r}")
    status = status_pb2.Status()
    status.ParseFromString(body)
    details: list[Message] = []
    for packed in status.details:
        for cls in _DETAIL_TYPES:
            if packed.Is(cls.DESCRIPTOR):
                detail = cls()
                packed.Unpack(detail)
                details.append(detail)
    code = _CODES.get(status.code, grpc.StatusCode.UNKNOWN)
    error = RpcError(code, status.message, tuple(details))
    return Outcome(Delivery.REJECTED, error=error, error_name=error.reason)
