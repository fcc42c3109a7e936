"""Behaviours of the live API that the emulator reproduces, each pinned to its source (cited in
docs/emulator.md#fidelity). "C# live data" is the WinoGarcia/CryptoPay xUnit test data, which
records what the live testnet answered (CryptoPay.Tests/TestData/*.cs, 2026 revision)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sidecar.emulator.delivery import CONTENT_TYPE
from sidecar.emulator.runner import add_arguments, config_from_args

from .conftest import Api, StartEmulator, fixture

PAY = {"user_id": 1, "spend_id": "s"}


# -- amounts: CreateInvoiceData.cs, CreateCheckData.cs; docs/emulator.md#minimum-amounts ------


@pytest.mark.parametrize(
    "params",
    [
        {"asset": "TON", "amount": "5.105"},
        {"asset": "BNB", "amount": "0.0234"},
        {"currency_type": "fiat", "fiat": "USD", "amount": "1.105"},
        {"currency_type": "fiat", "fiat": "EUR", "amount": "1.23", "accepted_assets": "TON,USDT"},
    ],
)
async def test_invoices_the_live_api_created_are_created(api: Api, params: dict[str, Any]) -> None:
    """C# live data, CreateInvoiceData: these amounts were accepted."""
    assert (await api.ok("createInvoice", **params))["amount"] == params["amount"]


@pytest.mark.parametrize("amount", ["0.0001", "0.000000000000000001"])
async def test_dust_invoices_are_refused(api: Api, amount: str) -> None:
    """The live API refuses an invoice of 0.0001 TON; its error name is not recorded, so the
    emulator answers with the name the live API gives a too-small check (AMOUNT_TOO_SMALL)."""
    assert await api.error("createInvoice", asset="TON", amount=amount) == (400, "AMOUNT_TOO_SMALL")


async def test_a_fiat_invoice_below_the_minimum_is_refused(api: Api) -> None:
    refused = {"currency_type": "fiat", "fiat": "RUB", "amount": "0.5"}  # about 0.006 USD
    assert await api.error("createInvoice", **refused) == (400, "AMOUNT_TOO_SMALL")
    await api.ok("createInvoice", **{**refused, "amount": "1"})  # about 0.012 USD


async def test_check_amounts_as_on_the_live_api(api: Api) -> None:
    """C# live data, CreateCheckData: 0.1 USDT accepted, 0.001 USDT is 400 AMOUNT_TOO_SMALL, an
    unknown asset is 400 ASSET_INVALID whatever the amount, too much is NOT_ENOUGH_COINS."""
    assert (await api.ok("createCheck", asset="USDT", amount="0.1"))["amount"] == "0.1"
    assert await api.error("createCheck", asset="USDT", amount="0.001") == (400, "AMOUNT_TOO_SMALL")
    assert await api.error("createCheck", asset="FFF", amount="0.0123") == (400, "ASSET_INVALID")
    await api.control_ok("PUT", "/balances", {"TON": "100"})
    assert await api.error("createCheck", asset="TON", amount="100.2345") == (
        400,
        "NOT_ENOUGH_COINS",
    )


async def test_the_minimums_follow_the_rate_table(api: Api) -> None:
    """The limits are in USD: a cheaper asset needs a larger amount."""
    await api.control_ok("PUT", "/rates", [{"source": "TON", "target": "USD", "rate": "0.01"}])
    assert await api.error("createInvoice", asset="TON", amount="0.5") == (400, "AMOUNT_TOO_SMALL")
    await api.ok("createInvoice", asset="TON", amount="1")


# -- the order of the checks: CreateInvoiceData.cs ---------------------------------------------


async def test_the_asset_is_checked_before_the_paid_button(api: Api) -> None:
    """C# live data: asset FFF with paid_btn_name=callback and no URL is UNSUPPORTED_ASSET;
    a known asset with the same button is PAID_BTN_URL_REQUIRED."""
    button = {"amount": "0.123", "paid_btn_name": "callback"}
    assert await api.error("createInvoice", asset="FFF", **button) == (400, "UNSUPPORTED_ASSET")
    assert await api.error("createInvoice", asset="TON", **{**button, "amount": "0.105"}) == (
        400,
        "PAID_BTN_URL_REQUIRED",
    )


# -- transfers: TransferData.cs ----------------------------------------------------------------


async def test_a_transfer_of_an_unknown_asset_is_amount_invalid(api: Api) -> None:
    """C# live data, TransferData (2026): asset "Unknown" is 400 AMOUNT_INVALID (an older
    revision recorded 500 APP_ERROR); 1000 BTC is AMOUNT_TOO_BIG."""
    unknown = {**PAY, "asset": "Unknown", "amount": "10"}
    assert await api.error("transfer", **unknown) == (400, "AMOUNT_INVALID")
    assert await api.error("transfer", **{**PAY, "asset": "BTC", "amount": "1000"}) == (
        400,
        "AMOUNT_TOO_BIG",
    )
    transfer = await api.ok("transfer", **{**PAY, "asset": "USDT", "amount": "1.5"})
    assert transfer["amount"] == "1.5"


# -- lists: GetInvoicesData.cs -----------------------------------------------------------------


async def test_get_invoices_answers_as_the_live_api(api: Api) -> None:
    """C# live data, GetInvoicesData (2026): invoice_ids 0,11111 is 200; offset -10 is 500
    INTERNAL_SERVER_ERROR; count -30 is 500 APP_ERROR."""
    assert await api.ok("getInvoices", invoice_ids="0,11111") == {"items": []}
    assert await api.error("getInvoices", offset=-10, count=100) == (500, "INTERNAL_SERVER_ERROR")
    assert await api.error("getInvoices", offset=5, count=-30) == (500, "APP_ERROR")


# -- paths: CryptoPayClientData.cs -------------------------------------------------------------


async def test_a_path_outside_the_api_is_a_bare_404(api: Api) -> None:
    """C# live data, CryptoPayClientData (2026): https://testnet-pay.crypt.bot/abcapi/getMe is
    HTTP 404 without a Crypto Pay error (older data and the docs say 405 METHOD_NOT_FOUND, which
    the emulator keeps for an unknown method under /api/)."""
    headers = {"Crypto-Pay-API-Token": api.token}
    async with api.session.get(f"{api.emu.base_url}/abcapi/getMe", headers=headers) as response:
        assert response.status == 404
        assert "ok" not in await response.text()
    assert await api.error("getMeToo") == (405, "METHOD_NOT_FOUND")


# -- fiat payments: webhook-update-invoice-paid.fiat.real-mainnet.json -------------------------


@pytest.mark.parametrize(
    "name",
    ["webhook-invoice-paid.fiat.json", "shared:webhook-update-invoice-paid.fiat.real-mainnet.json"],
)
async def test_a_paid_fiat_invoice_reproduces_the_capture(api: Api, name: str) -> None:
    """Given the capture's rates and the crypto amount its payer was quoted, every derived
    field is equal: paid_fiat_rate, fee_amount (3%, unrounded), fee_in_usd (truncated at 8
    places), paid_usd_rate."""
    real = fixture(name)["payload"]
    asset, fiat = real["paid_asset"], real["fiat"]
    await api.control_ok(
        "PUT",
        "/rates",
        [
            {"source": asset, "target": fiat, "rate": real["paid_fiat_rate"]},
            {"source": asset, "target": "USD", "rate": real["paid_usd_rate"]},
        ],
    )
    created = await api.ok(
        "createInvoice",
        currency_type="fiat",
        fiat=fiat,
        amount=real["amount"],
        accepted_assets=",".join(real["accepted_assets"]),
    )
    paid = await api.control_ok(
        "POST",
        f"/invoices/{created['invoice_id']}/pay",
        {"paid_asset": asset, "paid_amount": real["paid_amount"]},
    )
    for key in (
        "paid_amount",
        "paid_fiat_rate",
        "fee_asset",
        "fee_amount",
        "fee",
        "fee_in_usd",
        "paid_usd_rate",
        "usd_rate",
    ):
        assert paid[key] == real[key], key


async def test_without_a_quote_a_fiat_invoice_is_rounded_up(api: Api) -> None:
    """amount / rate rounded up at 8 places: never less than the fiat amount."""
    await api.control_ok("PUT", "/rates", [{"source": "USDT", "target": "RUB", "rate": "80.52"}])
    created = await api.ok("createInvoice", currency_type="fiat", fiat="RUB", amount="100")
    paid = await api.control_ok("POST", f"/invoices/{created['invoice_id']}/pay")
    assert paid["paid_amount"] == "1.24192748"  # 1.241927471...
    assert Decimal(paid["paid_amount"]) * Decimal("80.52") >= 100


async def test_a_quote_worth_less_than_the_invoice_is_refused(api: Api) -> None:
    await api.control_ok("PUT", "/rates", [{"source": "USDT", "target": "RUB", "rate": "80"}])
    created = await api.ok("createInvoice", currency_type="fiat", fiat="RUB", amount="100")
    status, body = await api.control(
        "POST", f"/invoices/{created['invoice_id']}/pay", {"paid_amount": "1.2499"}
    )
    assert (status, body["error"]["name"]) == (400, "PAID_AMOUNT_INVALID")


# -- webhooks, testnet ---------------------------------------------------------------------------


def test_webhooks_carry_the_content_type_of_a_real_delivery() -> None:
    assert CONTENT_TYPE == "application/json;charset=utf-8"


async def test_the_cli_runs_in_testnet_mode(start: StartEmulator, session: Any) -> None:
    """--network testnet: @CryptoTestnetBot in getMe and in every URL (cryptopay-api.md §1.1)."""
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(parser.parse_args(["--network", "testnet"]))
    assert config.network == "testnet"
    assert config_from_args(parser.parse_args([])).network == "mainnet"
    emu = await start(network=config.network)
    api = Api(session, emu, "28692:" + "Q" * 35)
    assert (await api.ok("getMe"))["payment_processing_bot_username"] == "CryptoTestnetBot"
    invoice = await api.ok("createInvoice", asset="TON", amount="1")
    assert invoice["bot_invoice_url"].startswith("https://t.me/CryptoTestnetBot?start=IV")
    assert invoice["web_app_invoice_url"].startswith("https://testnet-app.send.tg/invoices/")
    check = await api.ok("createCheck", asset="TON", amount="1")
    assert check["bot_check_url"].startswith("https://t.me/CryptoTestnetBot?start=CQ")
