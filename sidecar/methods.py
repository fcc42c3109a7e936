"""The 13 Crypto Pay methods: how each RPC maps onto the HTTP API, and what it does to money.

One table drives the request path, so adding a method is one row here and one RPC in the proto.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from google.protobuf.message import Message

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb


class Effect(enum.Enum):
    """What a call does upstream; retries and idempotency depend on it."""

    READ = "read"  # no side effect: retried freely
    DELETE = "delete"  # idempotent in effect: retried
    TRANSFER = "transfer"  # moves money; the upstream deduplicates by spend_id
    CREATE = "create"  # creates an invoice or check; the upstream has no deduplication


class Result(enum.Enum):
    """The shape of the upstream `result` and where it goes in the response message."""

    OBJECT = "object"  # result is an object -> response.<field>
    ITEMS = "items"  # result is {"items": [...]} -> response.items
    ARRAY = "array"  # result is a bare array -> response.items
    BOOL = "bool"  # result is true/false -> response.deleted


@dataclass(frozen=True, slots=True)
class MethodSpec:
    rpc: str  # gRPC method name, e.g. "CreateInvoice"
    api: str  # Crypto Pay method name, e.g. "createInvoice"
    request_type: type[Message]
    response_type: type[Message]
    result: Result
    result_field: str  # the response field that receives the result
    effect: Effect

    @property
    def full_rpc(self) -> str:
        return f"/cryptopay.v1.CryptoPayService/{self.rpc}"

    @property
    def mutating(self) -> bool:
        return self.effect is not Effect.READ


def _spec(
    rpc: str,
    result: Result,
    field: str,
    effect: Effect = Effect.READ,
) -> MethodSpec:
    api = rpc[0].lower() + rpc[1:]
    return MethodSpec(
        rpc=rpc,
        api=api,
        request_type=getattr(pb, f"{rpc}Request"),
        response_type=getattr(pb, f"{rpc}Response"),
        result=result,
        result_field=field,
        effect=effect,
    )


METHODS: tuple[MethodSpec, ...] = (
    _spec("GetMe", Result.OBJECT, "app"),
    _spec("CreateInvoice", Result.OBJECT, "invoice", Effect.CREATE),
    _spec("DeleteInvoice", Result.BOOL, "deleted", Effect.DELETE),
    _spec("CreateCheck", Result.OBJECT, "check", Effect.CREATE),
    _spec("DeleteCheck", Result.BOOL, "deleted", Effect.DELETE),
    _spec("Transfer", Result.OBJECT, "transfer", Effect.TRANSFER),
    _spec("GetInvoices", Result.ITEMS, "items"),
    _spec("GetTransfers", Result.ITEMS, "items"),
    _spec("GetChecks", Result.ITEMS, "items"),
    _spec("GetBalance", Result.ARRAY, "items"),
    _spec("GetExchangeRates", Result.ARRAY, "items"),
    _spec("GetCurrencies", Result.ARRAY, "items"),
    _spec("GetStats", Result.OBJECT, "stats"),
)

BY_RPC: dict[str, MethodSpec] = {m.rpc: m for m in METHODS}
BY_API: dict[str, MethodSpec] = {m.api: m for m in METHODS}
