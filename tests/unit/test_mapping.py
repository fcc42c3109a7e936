"""JSON <-> proto mapping, against the synthetic payloads and the real captures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from google.protobuf.json_format import MessageToDict

from sidecar import mapping
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.methods import BY_API, BY_RPC
from tests.helpers import fixture


@pytest.mark.parametrize(
    "name", ["createInvoice-response.json", "shared:createInvoice-response.real-testnet.json"]
)
def test_invoice_maps_every_field(name: str) -> None:
    body = fixture(name)
    result = body["result"]
    response = mapping.result_to_response(BY_RPC["CreateInvoice"], result)
    assert isinstance(response, pb.CreateInvoiceResponse)
    invoice = response.invoice
    assert invoice.invoice_id == result["invoice_id"] > 0
    assert invoice.status == types.INVOICE_STATUS_ACTIVE
    assert invoice.currency_type == types.CURRENCY_TYPE_CRYPTO
    assert invoice.amount == result["amount"]
    assert invoice.description == result["description"]
    assert invoice.HasField("allow_anonymous")
    assert invoice.allow_anonymous is result["allow_anonymous"]
    assert mapping.format_time(invoice.created_at) == result["created_at"]
    assert not invoice.HasField("unknown_fields")
    # Round trip: every key of the payload comes back with the same value.
    assert mapping.to_json(invoice) == result


PAID = [
    "webhook-invoice-paid.crypto.json",
    "webhook-invoice-paid.crypto-mainnet.json",
    "webhook-invoice-paid.fiat.json",
    "shared:webhook-update-invoice-paid.crypto.real-mainnet.json",
    "shared:webhook-update-invoice-paid.crypto.real-testnet.json",
    "shared:webhook-update-invoice-paid.fiat.real-mainnet.json",
]


@pytest.mark.parametrize("name", PAID)
def test_paid_invoices_round_trip_without_loss(name: str) -> None:
    payload = fixture(name)["payload"]
    invoice = mapping.from_json(payload, types.Invoice)
    assert invoice.status == types.INVOICE_STATUS_PAID
    assert invoice.HasField("paid_at")
    back = mapping.to_json(invoice)
    expected = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in payload.items()}
    assert back == expected


@pytest.mark.parametrize(
    "name",
    ["webhook-invoice-paid.fiat.json", "shared:webhook-update-invoice-paid.fiat.real-mainnet.json"],
)
def test_fiat_invoice_keeps_accepted_assets_and_rates_exact(name: str) -> None:
    payload = fixture(name)["payload"]
    invoice = mapping.from_json(payload, types.Invoice)
    assert invoice.currency_type == types.CURRENCY_TYPE_FIAT
    assert list(invoice.accepted_assets) == payload["accepted_assets"]
    assert invoice.paid_fiat_rate == payload["paid_fiat_rate"]


@pytest.mark.parametrize(
    "name", ["getInvoices-response.json", "shared:getInvoices-response.testnet.escwxyz.json"]
)
def test_lists_unwrap_items(name: str) -> None:
    body = fixture(name)
    response = mapping.result_to_response(BY_API["getInvoices"], body["result"])
    assert isinstance(response, pb.GetInvoicesResponse)
    assert len(response.items) == len(body["result"]["items"]) > 0


@pytest.mark.parametrize(
    ("api", "name"),
    [
        *[
            (api, f"{api}-response.json")
            for api in (
                "getBalance",
                "getExchangeRates",
                "getCurrencies",
                "getMe",
                "getChecks",
                "getTransfers",
                "createCheck",
                "transfer",
                "deleteInvoice",
            )
        ],
        ("getBalance", "shared:getBalance-response.mock.escwxyz.json"),
        ("getExchangeRates", "shared:getExchangeRates-response.escwxyz.json"),
        ("getCurrencies", "shared:getCurrencies-response.partial.escwxyz.json"),
        ("getMe", "shared:getMe-response.testnet.escwxyz.json"),
        ("getChecks", "shared:getChecks-response.mock.cryptobot_python.json"),
        ("getTransfers", "shared:getTransfers-response.mock.cryptobot_python.json"),
        ("createCheck", "shared:createCheck-response.mock.cryptobot_python.json"),
        ("transfer", "shared:transfer-response.mock.cryptobot_python.json"),
        ("deleteInvoice", "shared:deleteInvoice-response.json"),
    ],
)
def test_every_fixture_maps_without_unknown_fields(api: str, name: str) -> None:
    body = fixture(name)
    response = mapping.result_to_response(BY_API[api], body["result"])
    as_dict = MessageToDict(response, preserving_proto_field_name=True)
    assert "unknown_fields" not in json.dumps(as_dict), as_dict


def test_stats_numbers_become_exact_decimal_strings() -> None:
    result = mapping.loads(b'{"volume": 12.3400000001, "conversion": 0.5, "paid_invoice_count": 2}')
    response = mapping.result_to_response(BY_API["getStats"], result)
    assert isinstance(response, pb.GetStatsResponse)
    stats = response.stats
    assert stats.volume == "12.3400000001"
    assert stats.conversion == "0.5"
    assert stats.paid_invoice_count == 2


def test_unknown_fields_and_enum_values_are_kept() -> None:
    invoice = mapping.from_json(
        {"invoice_id": 7, "status": "paid_over", "brand_new": {"x": [1, "y"]}}, types.Invoice
    )
    assert invoice.status == types.INVOICE_STATUS_UNSPECIFIED
    extra = MessageToDict(invoice.unknown_fields)
    assert extra == {"status": "paid_over", "brand_new": {"x": [1.0, "y"]}}


def test_disputed_string_bool_is_read() -> None:
    invoice = mapping.from_json({"is_swapped": "true"}, types.Invoice)
    assert invoice.is_swapped is True


def test_wrong_type_goes_to_unknown_fields_not_crash() -> None:
    invoice = mapping.from_json({"invoice_id": "abc", "created_at": "not a date"}, types.Invoice)
    assert invoice.invoice_id == 0
    assert set(MessageToDict(invoice.unknown_fields)) == {"invoice_id", "created_at"}


def test_result_shape_errors() -> None:
    with pytest.raises(mapping.MappingError):
        mapping.result_to_response(BY_API["getInvoices"], [])
    with pytest.raises(mapping.MappingError):
        mapping.result_to_response(BY_API["deleteInvoice"], {"ok": 1})
    with pytest.raises(mapping.MappingError):
        mapping.result_to_response(BY_API["getMe"], "x")


def test_request_params_only_set_fields_and_api_names() -> None:
    request = pb.CreateInvoiceRequest(
        currency_type=types.CURRENCY_TYPE_FIAT,
        fiat="USD",
        accepted_assets=["USDT", "TON"],
        amount="10.50",
        paid_btn_name=types.PAID_BUTTON_NAME_OPEN_CHANNEL,
        paid_btn_url="https://t.me/x",
        allow_comments=False,
    )
    assert mapping.to_params(request) == {
        "currency_type": "fiat",
        "fiat": "USD",
        "accepted_assets": "USDT,TON",
        "amount": "10.50",
        "paid_btn_name": "openChannel",
        "paid_btn_url": "https://t.me/x",
        "allow_comments": False,
    }
    assert mapping.to_params(
        pb.GetInvoicesRequest(invoice_ids=[1, 2], status=types.INVOICE_STATUS_PAID)
    ) == {
        "invoice_ids": "1,2",
        "status": "paid",
    }


@pytest.mark.parametrize(
    "value",
    [
        "2024-11-12T17:11:06.375Z",
        "1969-12-31T23:59:59.999Z",  # before the epoch: negative seconds, positive nanos
        "2024-11-12T20:11:06.375+03:00",  # an offset is converted to UTC
        "2024-11-12T17:11:06",  # no zone: taken as UTC
        "2038-01-19T03:14:08.001Z",
    ],
)
def test_parse_time_matches_protobuf_from_datetime(value: str) -> None:
    from datetime import UTC, datetime

    from google.protobuf.timestamp_pb2 import Timestamp

    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    expected = Timestamp()
    expected.FromDatetime((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC))
    assert mapping.parse_time(value) == expected


def test_loads_reads_bytes_in_any_json_encoding_and_text() -> None:
    document = {"amount": Decimal("1.50"), "name": "Покупка"}
    text = '{"amount": 1.50, "name": "Покупка"}'
    assert mapping.loads(text) == document
    assert mapping.loads(text.encode()) == document
    assert mapping.loads(text.encode("utf-8-sig")) == document
    assert mapping.loads(text.encode("utf-16")) == document
    with pytest.raises(ValueError):
        mapping.loads(b'{"ok": true} trailing')


def test_time_keeps_milliseconds() -> None:
    ts = mapping.parse_time("2024-11-12T17:11:06.375Z")
    assert ts.nanos == 375_000_000
    assert mapping.format_time(ts) == "2024-11-12T17:11:06.375Z"
    assert mapping.to_params(pb.GetStatsRequest(start_at=ts)) == {
        "start_at": "2024-11-12T17:11:06.375Z"
    }
