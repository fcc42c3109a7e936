"""Stateful flows over HTTP: invoices, checks, transfers and their effect on balances."""

from __future__ import annotations

from decimal import Decimal

from .conftest import Api, FakeClock, StartEmulator


async def balances(api: Api) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        b["currency_code"]: (Decimal(b["available"]), Decimal(b["onhold"]))
        for b in await api.ok("getBalance")
    }


async def test_invoice_expires_lazily_with_the_clock(api: Api, clock: FakeClock) -> None:
    invoice = await api.ok("createInvoice", asset="TON", amount="1", expires_in=3600)
    assert invoice["expiration_date"] == "2025-08-23T10:28:15.220Z"
    clock.advance(3599)
    assert (await api.ok("getInvoices", status="active"))["items"][0]["status"] == "active"
    clock.advance(1)
    (expired,) = (await api.ok("getInvoices", status="expired"))["items"]
    assert expired["status"] == "expired"
    assert (await api.ok("getInvoices", status="active"))["items"] == []
    status, body = await api.control("POST", f"/invoices/{invoice['invoice_id']}/pay")
    assert status == 409 and body["error"]["name"] == "INVOICE_NOT_ACTIVE"
    assert "expired" in body["error"]["message"]


async def test_control_clock_moves_time(api: Api) -> None:
    invoice = await api.ok("createInvoice", asset="TON", amount="1", expires_in=60)
    moved = await api.control_ok("POST", "/clock", {"advance_seconds": 61})
    assert moved["offset_seconds"] == 61 and moved["now"] == "2025-08-23T09:29:16.220Z"
    (listed,) = (await api.ok("getInvoices", invoice_ids=invoice["invoice_id"]))["items"]
    assert listed["status"] == "expired"
    assert (await api.control_ok("GET", "/clock"))["offset_seconds"] == 61


async def test_paying_credits_the_balance_minus_the_fee(api: Api) -> None:
    invoice = await api.ok("createInvoice", asset="TON", amount="10", allow_anonymous=True)
    paid = await api.control_ok(
        "POST",
        f"/invoices/{invoice['invoice_id']}/pay",
        {"comment": "thanks", "paid_anonymously": True},
    )
    assert (paid["status"], paid["fee_amount"], paid["comment"]) == ("paid", "0.3", "thanks")
    assert paid["paid_anonymously"] is True and paid["paid_at"] >= paid["created_at"]
    assert (await balances(api))["TON"] == (Decimal("1009.7"), Decimal(0))
    status, body = await api.control("POST", f"/invoices/{invoice['invoice_id']}/pay")
    assert (status, body["error"]["name"]) == (409, "INVOICE_NOT_ACTIVE")


async def test_fiat_invoice_paid_in_a_chosen_asset(api: Api) -> None:
    invoice = await api.ok(
        "createInvoice", currency_type="fiat", fiat="USD", amount="10", accepted_assets="USDT,TON"
    )
    paid = await api.control_ok(
        "POST", f"/invoices/{invoice['invoice_id']}/pay", {"paid_asset": "TON"}
    )
    assert (paid["paid_asset"], paid["fee_asset"], paid["paid_fiat_rate"]) == (
        "TON",
        "TON",
        "5.69015273",
    )
    assert Decimal(paid["paid_amount"]) * Decimal("5.69015273") >= 10
    unpaid = await api.ok(
        "createInvoice", currency_type="fiat", fiat="USD", amount="10", accepted_assets="USDT"
    )
    status, body = await api.control(
        "POST", f"/invoices/{unpaid['invoice_id']}/pay", {"paid_asset": "BTC"}
    )
    assert (status, body["error"]["name"]) == (400, "PAID_ASSET_INVALID")


async def test_control_expire_and_delete(api: Api) -> None:
    first = await api.ok("createInvoice", asset="TON", amount="1")
    second = await api.ok("createInvoice", asset="TON", amount="2")
    expired = await api.control_ok("POST", f"/invoices/{first['invoice_id']}/expire")
    assert expired["status"] == "expired"
    assert await api.ok("deleteInvoice", invoice_id=first["invoice_id"]) is True
    assert [i["invoice_id"] for i in (await api.ok("getInvoices"))["items"]] == [
        second["invoice_id"]
    ]
    status, body = await api.control("POST", f"/invoices/{first['invoice_id']}/pay")
    assert (status, body["error"]["name"]) == (404, "INVOICE_NOT_FOUND")
    await api.control_ok("POST", f"/invoices/{second['invoice_id']}/pay")
    assert await api.error("deleteInvoice", invoice_id=second["invoice_id"]) == (
        400,
        "INVOICE_ALREADY_PAID",
    )


async def test_get_invoices_filters_and_pages_newest_first(api: Api) -> None:
    ids = []
    for asset in ("TON", "USDT", "TON", "BTC", "TON"):
        ids.append((await api.ok("createInvoice", asset=asset, amount="1"))["invoice_id"])
    await api.ok("createInvoice", currency_type="fiat", fiat="EUR", amount="3")

    async def listed(**params: object) -> list[int]:
        return [i["invoice_id"] for i in (await api.ok("getInvoices", **params))["items"]]

    assert (await listed(asset="TON")) == [ids[4], ids[2], ids[0]]
    assert (await listed(asset="TON", offset=1, count=1)) == [ids[2]]
    assert (await listed(asset="TON,BTC", count=2)) == [ids[4], ids[3]]
    assert (await listed(invoice_ids=f"{ids[0]},{ids[1]}")) == [ids[1], ids[0]]
    assert len(await listed(fiat="EUR")) == 1
    assert (await listed(status="paid")) == []
    assert (await listed(offset=100)) == []


async def test_check_lifecycle_and_holds(api: Api) -> None:
    check = await api.ok("createCheck", asset="USDT", amount="100", pin_to_user_id=42)
    assert check["pin_to_user"] == {"pin_by": "id", "user_id": 42}
    assert (await balances(api))["USDT"] == (Decimal(900), Decimal(100))
    status, body = await api.control("POST", f"/checks/{check['check_id']}/activate")
    assert (status, body["error"]["name"]) == (409, "CHECK_PINNED")
    activated = await api.control_ok(
        "POST", f"/checks/{check['check_id']}/activate", {"user_id": 42}
    )
    assert activated["status"] == "activated" and "activated_at" in activated
    assert (await balances(api))["USDT"] == (Decimal(900), Decimal(0))
    assert (await api.ok("getChecks", status="activated"))["items"] == [activated]

    refundable = await api.ok("createCheck", asset="USDT", amount="50", pin_to_username="alice")
    assert refundable["pin_to_user"] == {"pin_by": "username", "username": "alice"}
    assert await api.ok("deleteCheck", check_id=refundable["check_id"]) is True
    assert (await balances(api))["USDT"] == (Decimal(900), Decimal(0))
    assert await api.error("deleteCheck", check_id=check["check_id"]) == (
        400,
        "CHECK_ALREADY_ACTIVATED",
    )
    listed = await api.ok("getChecks", check_ids=f"{check['check_id']},{refundable['check_id']}")
    assert [c["check_id"] for c in listed["items"]] == [check["check_id"]]


async def test_transfer_debits_and_replays_a_duplicate_spend_id(api: Api) -> None:
    params = {"user_id": 77, "asset": "TON", "amount": "25.5", "spend_id": "order-1"}
    first = await api.ok("transfer", **params)
    again = await api.ok("transfer", **{**params, "amount": "30"})
    assert again == first
    assert (await balances(api))["TON"] == (Decimal("974.5"), Decimal(0))
    found = await api.ok("getTransfers", spend_id="order-1")
    assert found["items"] == [first]
    await api.ok("transfer", **{**params, "spend_id": "order-2", "asset": "USDT"})
    assert len((await api.ok("getTransfers", asset="USDT"))["items"]) == 1
    by_id = await api.ok("getTransfers", transfer_ids=str(first["transfer_id"]))
    assert by_id["items"] == [first]
    assert len((await api.ok("getTransfers", count=1))["items"]) == 1


async def test_duplicate_spend_id_error_mode(start: StartEmulator, api: Api) -> None:
    strict = Api(api.session, await start(duplicate_spend_id="error"), api.token)
    params = {"user_id": 77, "asset": "TON", "amount": "2", "spend_id": "order-1"}
    await strict.ok("transfer", **params)
    assert await strict.error("transfer", **params) == (400, "SPEND_ID_ALREADY_USED")
    assert (await balances(strict))["TON"] == (Decimal(998), Decimal(0))
