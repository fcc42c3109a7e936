"""JSON <-> protobuf mapping for the Crypto Pay API (pure).

Driven by the proto descriptors: a field maps to the JSON key of the same name. Enum values map
by convention (INVOICE_STATUS_ACTIVE <-> "active", PAID_BUTTON_NAME_VIEW_ITEM <-> "viewItem").
Decimals stay exact strings: upstream JSON is parsed with Decimal for numbers, never float.
Whatever the upstream sends that the proto does not know (a new field, a new enum value, a value
of an unexpected type) is kept in the message's `unknown_fields` Struct instead of being dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from sidecar.methods import MethodSpec, Result

M = TypeVar("M", bound=Message)

UNKNOWN_FIELDS = "unknown_fields"

_INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
}


class MappingError(ValueError):
    """The upstream result does not have the shape the method promises."""


# Built once: json.loads with parse_float would build a new decoder for every answer.
_DECODER = json.JSONDecoder(parse_float=Decimal)


def loads(body: bytes | str) -> Any:
    """Parses upstream JSON keeping numbers exact (Decimal), so no amount is ever a float."""
    if isinstance(body, bytes | bytearray):
        body = body.decode(json.detect_encoding(body), "surrogatepass")
    return _DECODER.decode(body)


# --- enums -------------------------------------------------------------------------------------


def _camel(upper_snake: str) -> str:
    head, *rest = upper_snake.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


@cache
def _enum_tables(enum: EnumDescriptor) -> tuple[dict[str, int], dict[int, str]]:
    prefix = _enum_prefix(enum.name)
    to_number: dict[str, int] = {}
    to_json: dict[int, str] = {}
    for value in enum.values:
        if value.number == 0:
            continue
        json_name = _camel(value.name.removeprefix(prefix))
        to_number[json_name] = value.number
        to_json[value.number] = json_name
    return to_number, to_json


def _enum_prefix(enum_name: str) -> str:
    out = []
    for i, ch in enumerate(enum_name):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.upper())
    return "".join(out) + "_"


def enum_to_json(enum: EnumDescriptor, number: int) -> str:
    return _enum_tables(enum)[1][number]


def enum_from_json(enum: EnumDescriptor, value: str) -> int | None:
    return _enum_tables(enum)[0].get(value)


# --- timestamps --------------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: str) -> Timestamp:
    """Parses the API's ISO-8601 UTC timestamps ("2024-11-12T17:11:06.375Z") to the millisecond."""
    ts = Timestamp()
    _set_time(ts, value)
    return ts


def _set_time(ts: Timestamp, value: str) -> None:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Exact integer arithmetic (what Timestamp.FromDatetime does, without its overhead).
    delta = moment - _EPOCH
    ts.seconds = delta.days * 86400 + delta.seconds
    ts.nanos = delta.microseconds * 1000


def format_time(ts: Timestamp) -> str:
    """Formats a Timestamp the way the API does: UTC, milliseconds, `Z`."""
    moment = ts.ToDatetime(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _enum_of(field: FieldDescriptor) -> EnumDescriptor:
    assert field.enum_type is not None
    return field.enum_type


def _is_timestamp(field: FieldDescriptor) -> bool:
    return (
        field.message_type is not None
        and field.message_type.full_name == Timestamp.DESCRIPTOR.full_name
    )


# --- JSON -> proto -----------------------------------------------------------------------------


def _struct_value(value: Any) -> Any:
    """Struct holds JSON values; Decimals become numbers (Struct has only doubles)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _struct_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_struct_value(v) for v in value]
    return value


def _scalar(field: FieldDescriptor, value: Any) -> tuple[bool, Any]:
    """Converts one JSON value for a scalar or enum field; (False, None) if it does not fit."""
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            return False, None
        return True, str(value)
    if t in _INT_TYPES:
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int):
            return True, value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return True, int(value)
        return False, None
    if t == FieldDescriptor.TYPE_BOOL:
        if isinstance(value, bool):
            return True, value
        # Some fields (is_swapped) are documented as the string "true".
        if isinstance(value, str) and value in ("true", "false"):
            return True, value == "true"
        return False, None
    if t == FieldDescriptor.TYPE_ENUM:
        if isinstance(value, str):
            number = enum_from_json(_enum_of(field), value)
            if number is not None:
                return True, number
        return False, None
    return False, None


def from_json(data: Mapping[str, Any], message_type: type[M]) -> M:
    """Builds a message from an upstream JSON object; unknown keys go to `unknown_fields`."""
    message = message_type()
    _fill(message, data)
    return message


# The JSON types that go straight into a field of each scalar kind (the common case); any other
# value takes the general path of _set_field.
_DIRECT: dict[int, type] = {
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
    **dict.fromkeys(_INT_TYPES, int),
}


@cache
def _plan(descriptor: Descriptor) -> dict[str, tuple[FieldDescriptor, type | None]]:
    """Per message type, once: JSON key -> (field, the JSON type that can be set as is)."""
    plan: dict[str, tuple[FieldDescriptor, type | None]] = {}
    for field in descriptor.fields:
        if field.name == UNKNOWN_FIELDS:
            continue
        direct = None if field.is_repeated else _DIRECT.get(field.type)
        plan[field.name] = (field, direct)
    return plan


def _fill(message: Message, data: Mapping[str, Any]) -> None:
    descriptor = message.DESCRIPTOR
    plan = _plan(descriptor)
    unknown: dict[str, Any] = {}
    for key, value in data.items():
        entry = plan.get(key)
        if entry is None:
            unknown[key] = value
            continue
        if value is None:
            continue
        field, direct = entry
        if type(value) is direct:
            setattr(message, key, value)
        elif not _set_field(message, field, value):
            unknown[key] = value
    if unknown and UNKNOWN_FIELDS in descriptor.fields_by_name:
        struct: Struct = getattr(message, UNKNOWN_FIELDS)
        struct.update(_struct_value(unknown))


def _set_field(message: Message, field: FieldDescriptor, value: Any) -> bool:
    name = field.name
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if _is_timestamp(field):
            if field.is_repeated or not isinstance(value, str):
                return False
            try:
                moment = parse_time(value)
            except ValueError:
                return False
            getattr(message, name).CopyFrom(moment)
            return True
        if not isinstance(value, Mapping) or field.is_repeated:
            return False
        _fill(getattr(message, name), value)
        return True
    if field.is_repeated:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return False
        converted = [_scalar(field, item) for item in items]
        if not all(ok for ok, _ in converted):
            return False
        getattr(message, name).extend(v for _, v in converted)
        return True
    ok, converted_value = _scalar(field, value)
    if ok:
        setattr(message, name, converted_value)
    return ok


def result_to_response(spec: MethodSpec, result: Any) -> Message:
    """Places an upstream `result` into the method's response message."""
    response = spec.response_type()
    field = response.DESCRIPTOR.fields_by_name[spec.result_field]
    if spec.result is Result.BOOL:
        if not isinstance(result, bool):
            raise MappingError(f"{spec.api}: expected true/false, got {type(result).__name__}")
        setattr(response, spec.result_field, result)
        return response
    if spec.result is Result.ITEMS:
        if not isinstance(result, Mapping) or not isinstance(result.get("items"), list):
            raise MappingError(f"{spec.api}: expected an object with an items array")
        result = result["items"]
    if spec.result in (Result.ITEMS, Result.ARRAY):
        if not isinstance(result, list) or not all(isinstance(i, Mapping) for i in result):
            raise MappingError(f"{spec.api}: expected an array of objects")
        target = getattr(response, spec.result_field)
        for item in result:
            _fill(target.add(), item)
        return response
    if not isinstance(result, Mapping):
        raise MappingError(f"{spec.api}: expected an object, got {type(result).__name__}")
    _fill(getattr(response, field.name), result)
    return response


# --- proto -> JSON -----------------------------------------------------------------------------


def to_params(request: Message) -> dict[str, Any]:
    """Turns a request into Crypto Pay parameters: only fields that are set, lists comma-joined."""
    params: dict[str, Any] = {}
    for field, value in request.ListFields():
        if field.is_repeated:
            params[field.name] = ",".join(str(v) for v in value)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            params[field.name] = enum_to_json(_enum_of(field), value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if not _is_timestamp(field):
                raise TypeError(f"no parameter mapping for message field {field.name}")
            params[field.name] = format_time(value)
        else:
            params[field.name] = value
    return params


def to_json(message: Message) -> dict[str, Any]:
    """Renders a message in the API's JSON form (used for webhooks and replays; pure)."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.name == UNKNOWN_FIELDS:
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if _is_timestamp(field):
                out[field.name] = format_time(value)
            elif field.is_repeated:
                out[field.name] = [to_json(v) for v in value]
            else:
                out[field.name] = to_json(value)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            out[field.name] = enum_to_json(_enum_of(field), value)
        elif field.is_repeated:
            out[field.name] = list(value)
        else:
            out[field.name] = value
    if UNKNOWN_FIELDS in message.DESCRIPTOR.fields_by_name and message.HasField(UNKNOWN_FIELDS):
        from google.protobuf.json_format import MessageToDict

        out.update(MessageToDict(getattr(message, UNKNOWN_FIELDS)))
    return out
