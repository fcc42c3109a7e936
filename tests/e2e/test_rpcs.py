"""Every RPC end to end: real gRPC client -> sidecar -> real HTTP -> emulator."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from tests.conftest import EmulatorControl, RunningSidecar

if TYPE_CHECKING:
    # What CryptoPayServiceStub(channel) is over a grpc.aio channel (type checkers only).
    from sidecar.gen.cryptopay.v1.cryptopay_service_pb2_grpc import (
        CryptoPayServiceAsyncStub as Stub,
    )


async def test_get_me(stub: Stub, token: str) -> None:
    response = await stub.GetMe(pb.GetMeRequest())
    assert response.app.app_id == int(token.split(":")[0])
    assert response.app.name
    assert response.app.payment_processing_bot_username


async def test_invoice_lifecycle(stub: Stub, control: EmulatorControl, token: str) -> None:
    created = (
        await stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                asset="USDT",
                amount="12.5",
                description="Заказ №1 ₽",
                payload="order-1",
                paid_btn_name=types.PAID_BUTTON_NAME_CALLBACK,
                paid_btn_url="https://shop.example/thanks",
                allow_comments=False,
                expires_in=600,
            )
        )
    ).invoice
    assert created.invoice_id > 0
    assert re.match(r"^IV[A-Za-z0-9]{10}$", created.hash)
    assert created.status == types.INVOICE_STATUS_ACTIVE
    assert created.amount == "12.5"
    assert created.description == "Заказ №1 ₽"
    assert created.paid_btn_name == types.PAID_BUTTON_NAME_CALLBACK
    assert created.allow_comments is False and created.allow_anonymous is True
    assert created.bot_invoice_url and created.pay_url and created.web_app_invoice_url
    assert created.HasField("created_at") and created.HasField("expiration_date")
    assert created.created_at.nanos % 1_000_000 == 0  # millisecond precision

    await control.pay(token, created.invoice_id)
    listed = await stub.GetInvoices(pb.GetInvoicesRequest(invoice_ids=[created.invoice_id]))
    [paid] = listed.items
    assert paid.status == types.INVOICE_STATUS_PAID
    assert paid.HasField("paid_at")
    assert paid.paid_asset == "USDT" and Decimal(paid.paid_amount) == Decimal("12.5")
    assert Decimal(paid.fee_amount) > 0 and paid.fee_asset == "USDT"
    paid_only = await stub.GetInvoices(pb.GetInvoicesRequest(status=types.INVOICE_STATUS_PAID))
    assert [i.invoice_id for i in paid_only.items] == [created.invoice_id]

    other = (await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="TON", amount="1"))).invoice
    deleted = await stub.DeleteInvoice(pb.DeleteInvoiceRequest(invoice_id=other.invoice_id))
    assert deleted.deleted is True
    remaining = await stub.GetInvoices(pb.GetInvoicesRequest())
    assert other.invoice_id not in [i.invoice_id for i in remaining.items]


async def test_fiat_invoice(stub: Stub) -> None:
    invoice = (
        await stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                currency_type=types.CURRENCY_TYPE_FIAT,
                fiat="USD",
                accepted_assets=["USDT", "TON"],
                amount="5",
            )
        )
    ).invoice
    assert invoice.currency_type == types.CURRENCY_TYPE_FIAT
    assert invoice.fiat == "USD" and not invoice.asset
    assert list(invoice.accepted_assets) == ["USDT", "TON"]


async def test_check_lifecycle(stub: Stub) -> None:
    before = {b.currency_code: b for b in (await stub.GetBalance(pb.GetBalanceRequest())).items}
    check = (await stub.CreateCheck(pb.CreateCheckRequest(asset="TON", amount="2.5"))).check
    assert check.check_id > 0 and check.status == types.CHECK_STATUS_ACTIVE
    assert re.match(r"^CQ[A-Za-z0-9]{10}$", check.hash) and check.bot_check_url
    after = {b.currency_code: b for b in (await stub.GetBalance(pb.GetBalanceRequest())).items}
    assert Decimal(after["TON"].available) == Decimal(before["TON"].available) - Decimal("2.5")
    assert Decimal(after["TON"].onhold) == Decimal(before["TON"].onhold) + Decimal("2.5")

    listed = await stub.GetChecks(pb.GetChecksRequest(check_ids=[check.check_id]))
    assert [c.check_id for c in listed.items] == [check.check_id]
    deleted = await stub.DeleteCheck(pb.DeleteCheckRequest(check_id=check.check_id))
    assert deleted.deleted is True
    restored = {b.currency_code: b for b in (await stub.GetBalance(pb.GetBalanceRequest())).items}
    assert restored["TON"].available == before["TON"].available


async def test_transfer_and_get_transfers(stub: Stub) -> None:
    transfer = (
        await stub.Transfer(
            pb.TransferRequest(
                user_id=123456789012,
                asset="USDT",
                amount="3",
                spend_id="order-77",
                comment="thanks",
            )
        )
    ).transfer
    assert transfer.transfer_id > 0
    assert transfer.user_id == 123456789012  # beyond 32 bits
    assert transfer.status == types.TRANSFER_STATUS_COMPLETED
    assert transfer.HasField("completed_at")
    found = await stub.GetTransfers(pb.GetTransfersRequest(spend_id="order-77"))
    assert [t.transfer_id for t in found.items] == [transfer.transfer_id]


async def test_reference_data(stub: Stub) -> None:
    balance = await stub.GetBalance(pb.GetBalanceRequest())
    assert {"USDT", "TON"} <= {b.currency_code for b in balance.items}
    assert all(re.match(r"^\d+(\.\d+)?$", b.available) for b in balance.items)
    rates = await stub.GetExchangeRates(pb.GetExchangeRatesRequest())
    assert any(r.source == "TON" and r.target == "USD" and r.is_valid for r in rates.items)
    currencies = await stub.GetCurrencies(pb.GetCurrenciesRequest())
    assert "USDT" in {c.code for c in currencies.items}


async def test_stats(stub: Stub, control: EmulatorControl, token: str) -> None:
    invoice = (await stub.CreateInvoice(pb.CreateInvoiceRequest(asset="USDT", amount="10"))).invoice
    await control.pay(token, invoice.invoice_id)
    stats = (await stub.GetStats(pb.GetStatsRequest())).stats
    assert stats.created_invoice_count == 1 and stats.paid_invoice_count == 1
    assert Decimal(stats.volume) > 0
    assert stats.HasField("start_at") and stats.HasField("end_at")


async def test_trailing_metadata_counts_attempts(stub: Stub) -> None:
    call = stub.GetMe(pb.GetMeRequest())
    await call
    trailers = dict(await call.trailing_metadata())
    assert trailers["cryptopay-attempts"] == "1"


async def test_unknown_caller_metadata_does_not_matter(sidecar: RunningSidecar) -> None:
    response = await sidecar.stub.GetMe(pb.GetMeRequest(), metadata=(("x-anything", "1"),))
    assert response.app.app_id


async def test_stats_interval_too_big_is_mapped(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetStats(
            pb.GetStatsRequest(
                start_at=Timestamp(seconds=1_600_000_000), end_at=Timestamp(seconds=1_700_000_000)
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "INTERVAL_TOO_BIG" in (info.value.details() or "")
