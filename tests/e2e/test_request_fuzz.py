"""Arbitrary values in every field of every request, over real gRPC to a sidecar on the emulator:
never INTERNAL or UNKNOWN, and a request that validation refuses never reaches the upstream.

The messages are drawn from the descriptors, so a field added to the proto is covered too.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.methods import METHODS, MethodSpec
from tests.conftest import EmulatorControl, RunningSidecar
from tests.helpers import rich_details

INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
UINT32 = st.integers(0, 2**32 - 1)
UINT64 = st.integers(0, 2**64 - 1)
SMALL = st.integers(-3, 1200)
# Values that mean something to the API next to arbitrary text: valid and hostile decimals,
# codes, URLs, limits' edges.
NOTABLE = st.sampled_from(
    [
        "1",
        "10.5",
        "0",
        "0.000000000000000001",
        "-1",
        "1e3",
        " 5",
        "5\n",
        "\uff11\uff10",
        "\u0661\u0660",
        "USDT",
        "TON",
        "USD",
        "usdt",
        "FFF",
        "https://example.com/x",
        "ftp://x",
        "@user_1",
        "x" * 1025,
        "x" * 4097,
    ]
)
TEXT = st.one_of(NOTABLE, st.text(max_size=40))

_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    FieldDescriptor.TYPE_INT32: st.one_of(SMALL, INT32),
    FieldDescriptor.TYPE_SINT32: st.one_of(SMALL, INT32),
    FieldDescriptor.TYPE_SFIXED32: st.one_of(SMALL, INT32),
    FieldDescriptor.TYPE_INT64: st.one_of(SMALL, INT64),
    FieldDescriptor.TYPE_SINT64: st.one_of(SMALL, INT64),
    FieldDescriptor.TYPE_SFIXED64: st.one_of(SMALL, INT64),
    FieldDescriptor.TYPE_UINT32: UINT32,
    FieldDescriptor.TYPE_FIXED32: UINT32,
    FieldDescriptor.TYPE_UINT64: UINT64,
    FieldDescriptor.TYPE_FIXED64: UINT64,
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_STRING: TEXT,
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=40),
    FieldDescriptor.TYPE_DOUBLE: st.floats(),
    FieldDescriptor.TYPE_FLOAT: st.floats(width=32),
}

TIMESTAMPS = st.builds(
    Timestamp,
    seconds=st.one_of(st.integers(-10, 2_000_000_000), INT64),
    nanos=st.one_of(st.integers(0, 999_999_999), INT32),
)


def _value(field: Any) -> st.SearchStrategy[Any]:  # a FieldDescriptor (upb or Python)
    if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), INT32)
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return TIMESTAMPS
        raise AssertionError(f"no strategy for {field.full_name}: add one")
    return _SCALARS[field.type]


@st.composite
def requests(draw: st.DrawFn, spec: MethodSpec) -> Message:
    descriptor = spec.request_type.DESCRIPTOR
    message = spec.request_type()
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue
        if field.is_repeated:
            getattr(message, field.name).extend(draw(st.lists(_value(field), max_size=4)))
        elif field.message_type is not None:
            getattr(message, field.name).CopyFrom(draw(_value(field)))
        else:
            setattr(message, field.name, draw(_value(field)))
    return message


CALLS = st.sampled_from(METHODS).flatmap(lambda spec: st.tuples(st.just(spec), requests(spec)))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=CALLS)
async def test_arbitrary_requests_get_a_documented_answer(
    sidecar: RunningSidecar, control: EmulatorControl, call: tuple[MethodSpec, Message]
) -> None:
    spec, request = call
    before = await control.api_requests()
    async with grpc.aio.insecure_channel(sidecar.target) as channel:
        method = getattr(pb_grpc.CryptoPayServiceStub(channel), spec.rpc)
        try:
            await method(request, timeout=15)
        except grpc.aio.AioRpcError as error:
            assert error.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
                spec.rpc,
                request,
                error.details(),
            )
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                info = rich_details(error).get("ErrorInfo")
                if info is not None and info.reason == "INVALID_REQUEST":
                    # Refused by validation: the upstream never saw it.
                    assert await control.api_requests() == before, (spec.rpc, request)
