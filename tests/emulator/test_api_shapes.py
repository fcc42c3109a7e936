"""Every method's happy path over real HTTP, compared with the documented shapes (the synthetic
payloads in tests/fixtures) and, when ../shared is there, with the real captures."""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.emulator import RunningEmulator

from .conftest import DECIMAL, TIMESTAMP, Api, fixture

MONEY = {
    "amount",
    "paid_amount",
    "paid_fiat_rate",
    "paid_usd_rate",
    "usd_rate",
    "fee_amount",
    "fee",
    "fee_in_usd",
    "available",
    "onhold",
    "rate",
}
TIMES = {"created_at", "expiration_date", "paid_at", "activated_at", "completed_at"}


def assert_wire_formats(obj: dict[str, Any]) -> None:
    """Money as plain decimal strings, times with milliseconds and Z, no nulls anywhere."""
    for key, value in obj.items():
        assert value is not None, f"{key} is null"
        if key in MONEY:
            assert isinstance(value, str) and DECIMAL.match(value), (key, value)
        if key in TIMES | {"start_at", "end_at", "request_date"}:
            assert isinstance(value, str) and TIMESTAMP.match(value), (key, value)


def assert_same_types(ours: dict[str, Any], real: dict[str, Any]) -> None:
    for key, value in real.items():
        assert type(ours[key]) is type(value), key


def result(name: str) -> Any:
    return fixture(name)["result"]


def _optional(invoice: dict[str, Any]) -> dict[str, Any]:
    """The optional createInvoice parameters a listed invoice shows it was created with."""
    keys = ("description", "payload", "allow_comments", "allow_anonymous")
    return {key: invoice[key] for key in keys if key in invoice}


@pytest.mark.parametrize(
    "name", ["getMe-response.json", "shared:getMe-response.testnet.escwxyz.json"]
)
async def test_get_me(api: Api, name: str) -> None:
    me = await api.ok("getMe")
    real = result(name)
    assert set(me) == set(real)
    assert_same_types(me, real)
    assert me == {
        "app_id": 1234,
        "name": me["name"],
        "payment_processing_bot_username": "CryptoBot",
    }


@pytest.mark.parametrize(
    "name", ["createInvoice-response.json", "shared:createInvoice-response.real-testnet.json"]
)
async def test_testnet_links(start: Any, session: Any, name: str) -> None:
    emu = await start(network="testnet")
    api = Api(session, emu, "28692:" + "Q" * 35)
    assert (await api.ok("getMe"))["payment_processing_bot_username"] == "CryptoTestnetBot"
    invoice = await api.ok("createInvoice", asset="TON", amount="10.5")
    real = result(name)  # the newest URL shapes
    for key in ("pay_url", "bot_invoice_url", "mini_app_invoice_url", "web_app_invoice_url"):
        assert invoice[key].replace(invoice["hash"], "H") == real[key].replace(real["hash"], "H")


@pytest.mark.parametrize(
    "name", ["createInvoice-response.json", "shared:createInvoice-response.real-testnet.json"]
)
async def test_create_invoice_crypto_matches_the_real_response(api: Api, name: str) -> None:
    request = fixture("createInvoice-request.crypto.json")
    invoice = await api.ok("createInvoice", **request)
    real = result(name)
    assert set(invoice) == set(real)
    assert_same_types(invoice, real)
    assert_wire_formats(invoice)
    assert invoice["hash"].startswith("IV") and len(invoice["hash"]) == 12
    assert invoice["bot_invoice_url"] == f"https://t.me/CryptoBot?start={invoice['hash']}"
    assert invoice["pay_url"] == invoice["bot_invoice_url"]
    assert (invoice["status"], invoice["amount"]) == ("active", request["amount"])
    assert (invoice["asset"], invoice["payload"]) == (request["asset"], request["payload"])


async def test_create_invoice_fiat(api: Api) -> None:
    invoice = await api.ok("createInvoice", **fixture("createInvoice-request.fiat.json"))
    assert (invoice["currency_type"], invoice["fiat"], invoice["amount"]) == (
        "fiat",
        "EUR",
        "19.99",
    )
    assert invoice["accepted_assets"] == ["USDT", "TON", "BTC"]
    assert "asset" not in invoice
    assert_wire_formats(invoice)


@pytest.mark.parametrize(
    "name",
    [
        "webhook-invoice-paid.crypto-mainnet.json",
        "webhook-invoice-paid.fiat.json",
        "shared:webhook-update-invoice-paid.crypto.real-mainnet.json",
        "shared:webhook-update-invoice-paid.fiat.real-mainnet.json",
    ],
)
async def test_paid_invoice_matches_the_real_webhook_payload(api: Api, name: str) -> None:
    real = fixture(name)["payload"]
    params: dict[str, Any] = {"amount": real["amount"], "description": real["description"]}
    if real["currency_type"] == "fiat":
        params |= {
            "currency_type": "fiat",
            "fiat": real["fiat"],
            "accepted_assets": ",".join(real["accepted_assets"]),
        }
    else:
        params["asset"] = real["asset"]
    created = await api.ok("createInvoice", **params)
    pay = {"comment": real["comment"]} if "comment" in real else {}
    paid = await api.control_ok("POST", f"/invoices/{created['invoice_id']}/pay", pay)
    assert set(paid) == set(real)
    assert_same_types(paid, real)
    assert_wire_formats(paid)
    assert paid["description"] == real["description"]  # non-ASCII survives
    (listed,) = (await api.ok("getInvoices", invoice_ids=str(created["invoice_id"])))["items"]
    assert listed == paid


@pytest.mark.parametrize(
    "name", ["getInvoices-response.json", "shared:getInvoices-response.testnet.escwxyz.json"]
)
async def test_get_invoices_shape(api: Api, name: str) -> None:
    real = result(name)
    created = await api.ok(
        "createInvoice", asset="BTC", amount="0.5", **_optional(real["items"][0])
    )
    listing = await api.ok("getInvoices")
    assert set(listing) == set(real) == {"items"}
    assert listing["items"] == [created]
    assert set(created) == set(real["items"][0])


async def test_delete_invoice_and_check_return_true(api: Api) -> None:
    invoice = await api.ok("createInvoice", asset="TON", amount="1")
    assert await api.ok("deleteInvoice", invoice_id=invoice["invoice_id"]) is True
    assert fixture("deleteInvoice-response.json")["result"] is True
    check = await api.ok("createCheck", asset="TON", amount="1")
    assert await api.ok("deleteCheck", check_id=check["check_id"]) is True


@pytest.mark.parametrize(
    "name", ["createCheck-response.json", "shared:createCheck-response.mock.cryptobot_python.json"]
)
async def test_create_and_get_checks(api: Api, name: str) -> None:
    check = await api.ok("createCheck", asset="TON", amount="5")
    real = result(name)
    assert set(check) == set(real)
    assert_same_types(check, real)
    assert_wire_formats(check)
    assert check["hash"].startswith("CQ") and len(check["hash"]) == 12
    assert check["bot_check_url"] == f"https://t.me/CryptoBot?start={check['hash']}"
    assert (await api.ok("getChecks"))["items"] == [check]


@pytest.mark.parametrize(
    "name",
    ["getTransfers-response.json", "shared:getTransfers-response.mock.cryptobot_python.json"],
)
async def test_transfer_and_get_transfers(api: Api, name: str) -> None:
    request = fixture("transfer-request.json")
    transfer = await api.ok("transfer", **request)
    real = result(name)["items"][1]
    assert set(transfer) == set(real)
    assert_same_types(transfer, real)
    assert_wire_formats(transfer)
    assert (transfer["status"], transfer["spend_id"], transfer["amount"]) == (
        "completed",
        request["spend_id"],
        request["amount"],
    )
    assert (await api.ok("getTransfers"))["items"] == [transfer]


@pytest.mark.parametrize(
    "name", ["getBalance-response.json", "shared:getBalance-response.mock.escwxyz.json"]
)
async def test_get_balance(api: Api, name: str) -> None:
    balances = await api.ok("getBalance")
    real = result(name)[0]
    for item in balances:
        assert set(item) == set(real)
        assert_wire_formats(item)
    by_code = {b["currency_code"]: b["available"] for b in balances}
    assert by_code["USDT"] == "1000" and by_code["BTC"] == "1" and by_code["SEND"] == "0"


async def test_the_real_mainnet_ton_rate_is_served_verbatim(api: Api) -> None:
    assert fixture("shared:getExchangeRates-item.real-mainnet.json") in await api.ok(
        "getExchangeRates"
    )


@pytest.mark.parametrize(
    "name", ["getExchangeRates-response.json", "shared:getExchangeRates-response.escwxyz.json"]
)
async def test_get_exchange_rates(api: Api, name: str) -> None:
    rates = await api.ok("getExchangeRates")
    real = result(name)[0]
    for item in rates:
        assert set(item) == set(real)
        assert_same_types(item, real)
        assert_wire_formats(item)
    pairs = {(r["source"], r["target"]) for r in rates if r["is_crypto"]}
    for asset in ("USDT", "TON", "BTC", "ETH", "LTC", "BNB", "TRX", "USDC"):
        assert {(asset, "USD"), (asset, "EUR"), (asset, "RUB")} <= pairs


@pytest.mark.parametrize(
    "name", ["getCurrencies-response.json", "shared:getCurrencies-response.partial.escwxyz.json"]
)
async def test_get_currencies(api: Api, name: str) -> None:
    currencies = await api.ok("getCurrencies")
    real = result(name)
    if name.startswith("shared:"):  # the captured items are served verbatim
        for item in real:
            assert item in currencies
    for item in currencies:
        assert set(item) - {"url"} == set(real[0]) - {"url"}
        assert isinstance(item["decimals"], int)
    assert {c["code"] for c in currencies if c["is_fiat"]} >= {"USD", "EUR", "RUB"}


@pytest.mark.parametrize(
    "name", ["getStats-response.json", "shared:getStats-response.testnet.escwxyz.json"]
)
async def test_get_stats(api: Api, emu: RunningEmulator, name: str) -> None:
    stats = await api.ok("getStats")
    real = result(name)
    assert stats == {**real, "start_at": stats["start_at"], "end_at": stats["end_at"]}
    assert_wire_formats(stats)
    invoice = await api.ok("createInvoice", asset="USDT", amount="10")
    await api.control_ok("POST", f"/invoices/{invoice['invoice_id']}/pay")
    await api.ok("createInvoice", asset="USDT", amount="10")
    stats = await api.ok("getStats", start_at="2025-08-01T00:00:00.000Z")
    assert stats["volume"] == 10.0 and stats["conversion"] == 50
    assert (stats["created_invoice_count"], stats["paid_invoice_count"]) == (2, 1)
    assert stats["start_at"] == "2025-08-01T00:00:00.000Z"


@pytest.mark.parametrize("via", ["json", "query", "form", "multipart"])
async def test_every_parameter_encoding_works(api: Api, via: str) -> None:
    invoice = await api.ok(
        "createInvoice",
        via=via,
        currency_type="fiat",
        fiat="EUR",
        amount="12.50",
        accepted_assets=["USDT", "TON"],
        allow_comments=False,
        expires_in=600,
        description="Привет",
    )
    assert invoice["accepted_assets"] == ["USDT", "TON"]
    assert invoice["allow_comments"] is False and invoice["allow_anonymous"] is True
    assert invoice["amount"] == "12.5" and invoice["description"] == "Привет"
    listing = await api.ok("getInvoices", via=via, invoice_ids=[invoice["invoice_id"]], count=5)
    assert [i["invoice_id"] for i in listing["items"]] == [invoice["invoice_id"]]
    transfer = await api.ok(
        "transfer", via=via, user_id=7, asset="TON", amount=1, spend_id=f"enc-{via}"
    )
    assert transfer["amount"] == "1"


async def test_get_with_a_json_body_and_numbers_as_amounts(api: Api) -> None:
    """Some SDKs send JSON bodies on GET, or amounts as JSON numbers."""
    url = f"{api.emu.api_url}/createInvoice"
    body = {"asset": "TON", "amount": 0.1}
    async with api.session.get(url, json=body, headers={"crypto-pay-api-token": api.token}) as r:
        assert r.status == 200
        assert (await r.json())["result"]["amount"] == "0.1"
