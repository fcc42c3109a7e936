"""Request validation, table-driven: each row is a request and the fields it must name."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.validation import validate

FIAT = types.CURRENCY_TYPE_FIAT
VIEW = types.PAID_BUTTON_NAME_VIEW_ITEM

VALID: list[Message] = [
    pb.GetMeRequest(),
    pb.CreateInvoiceRequest(asset="USDT", amount="10.5"),
    pb.CreateInvoiceRequest(currency_type=FIAT, fiat="USD", amount="1", accepted_assets=["TON"]),
    pb.CreateInvoiceRequest(
        asset="TON",
        amount="0.000000001",
        description="d" * 1024,
        hidden_message="h" * 2048,
        payload="p" * 4096,
        paid_btn_name=VIEW,
        paid_btn_url="https://shop.example/order/1",
        expires_in=2_678_400,
    ),
    pb.DeleteInvoiceRequest(invoice_id=1),
    pb.CreateCheckRequest(asset="USDT", amount="1", pin_to_user_id=42),
    pb.CreateCheckRequest(asset="USDT", amount="1", pin_to_username="some_user"),
    pb.DeleteCheckRequest(check_id=3),
    pb.TransferRequest(user_id=1, asset="USDT", amount="5", spend_id="s" * 64, comment="c" * 1024),
    pb.GetInvoicesRequest(count=1000, offset=0, invoice_ids=[1, 2]),
    pb.GetTransfersRequest(spend_id="abc", count=1),
    pb.GetChecksRequest(check_ids=[5]),
    pb.GetBalanceRequest(),
    pb.GetExchangeRatesRequest(),
    pb.GetCurrenciesRequest(),
    pb.GetStatsRequest(
        start_at=Timestamp(seconds=1_700_000_000), end_at=Timestamp(seconds=1_700_086_400)
    ),
]


@pytest.mark.parametrize("request_", VALID, ids=lambda r: type(r).__name__)
def test_valid_requests_pass(request_: Message) -> None:
    assert validate(request_) == []


INVALID: list[tuple[Message, set[str]]] = [
    (pb.CreateInvoiceRequest(asset="USDT"), {"amount"}),
    (pb.CreateInvoiceRequest(asset="USDT", amount="0"), {"amount"}),
    (pb.CreateInvoiceRequest(asset="USDT", amount="-1"), {"amount"}),
    (pb.CreateInvoiceRequest(asset="USDT", amount="1e5"), {"amount"}),
    (pb.CreateInvoiceRequest(asset="USDT", amount="1,5"), {"amount"}),
    (pb.CreateInvoiceRequest(asset="USDT", amount="NaN"), {"amount"}),
    (pb.CreateInvoiceRequest(amount="1"), {"asset"}),
    (pb.CreateInvoiceRequest(asset="US DT", amount="1"), {"asset"}),
    (pb.CreateInvoiceRequest(currency_type=FIAT, amount="1"), {"fiat"}),
    (pb.CreateInvoiceRequest(currency_type=FIAT, fiat="USD", asset="TON", amount="1"), {"asset"}),
    (pb.CreateInvoiceRequest(asset="TON", fiat="USD", amount="1"), {"fiat"}),
    (
        pb.CreateInvoiceRequest(asset="TON", amount="1", accepted_assets=["USDT"]),
        {"accepted_assets"},
    ),
    (pb.CreateInvoiceRequest(asset="TON", amount="1", description="d" * 1025), {"description"}),
    (
        pb.CreateInvoiceRequest(asset="TON", amount="1", hidden_message="h" * 2049),
        {"hidden_message"},
    ),
    # 4 KiB is counted in bytes: 2,049 two-byte characters are too many.
    (pb.CreateInvoiceRequest(asset="TON", amount="1", payload="я" * 2049), {"payload"}),
    (pb.CreateInvoiceRequest(asset="TON", amount="1", paid_btn_name=VIEW), {"paid_btn_url"}),
    (
        pb.CreateInvoiceRequest(
            asset="TON", amount="1", paid_btn_name=VIEW, paid_btn_url="ftp://x"
        ),
        {"paid_btn_url"},
    ),
    (
        pb.CreateInvoiceRequest(
            asset="TON", amount="1", paid_btn_name=VIEW, paid_btn_url="https://"
        ),
        {"paid_btn_url"},
    ),
    (
        pb.CreateInvoiceRequest(asset="TON", amount="1", paid_btn_url="https://x.y"),
        {"paid_btn_name"},
    ),
    (pb.CreateInvoiceRequest(asset="TON", amount="1", expires_in=2_678_401), {"expires_in"}),
    (pb.CreateInvoiceRequest(asset="TON", amount="1", expires_in=-5), {"expires_in"}),
    (pb.CreateInvoiceRequest(), {"amount", "asset"}),
    (pb.DeleteInvoiceRequest(), {"invoice_id"}),
    (pb.DeleteInvoiceRequest(invoice_id=-3), {"invoice_id"}),
    (pb.CreateCheckRequest(amount="1"), {"asset"}),
    (pb.CreateCheckRequest(asset="TON", amount="x"), {"amount"}),
    (
        pb.CreateCheckRequest(asset="TON", amount="1", pin_to_user_id=1, pin_to_username="u"),
        {"pin_to_username"},
    ),
    (pb.CreateCheckRequest(asset="TON", amount="1", pin_to_user_id=-1), {"pin_to_user_id"}),
    (pb.DeleteCheckRequest(check_id=0), {"check_id"}),
    (pb.TransferRequest(asset="TON", amount="1", spend_id="a"), {"user_id"}),
    (pb.TransferRequest(user_id=1, asset="TON", amount="1"), {"spend_id"}),
    (pb.TransferRequest(user_id=1, asset="TON", amount="1", spend_id="s" * 65), {"spend_id"}),
    (
        pb.TransferRequest(user_id=1, asset="TON", amount="1", spend_id="a", comment="c" * 1025),
        {"comment"},
    ),
    (pb.TransferRequest(user_id=1, amount="1", spend_id="a"), {"asset"}),
    (pb.GetInvoicesRequest(offset=-1), {"offset"}),
    (pb.GetInvoicesRequest(count=1001), {"count"}),
    (pb.GetInvoicesRequest(count=-1), {"count"}),
    (pb.GetInvoicesRequest(invoice_ids=[0]), {"invoice_ids"}),
    (pb.GetTransfersRequest(offset=-1, count=5000), {"offset", "count"}),
    (pb.GetTransfersRequest(spend_id="s" * 65), {"spend_id"}),
    (pb.GetChecksRequest(check_ids=[-1]), {"check_ids"}),
    (
        pb.GetStatsRequest(
            start_at=Timestamp(seconds=1_700_086_400), end_at=Timestamp(seconds=1_700_000_000)
        ),
        {"end_at"},
    ),
]


@pytest.mark.parametrize(("request_", "fields"), INVALID, ids=lambda x: type(x).__name__)
def test_invalid_requests_name_each_bad_field(request_: Message, fields: set[str]) -> None:
    violations = validate(request_)
    assert {v.field for v in violations} == fields
    assert all(v.description for v in violations)
