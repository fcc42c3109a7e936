"""The /_emulator/ control API."""

from __future__ import annotations

from .conftest import OTHER_TOKEN, Api


async def test_put_balances(api: Api) -> None:
    result = await api.control_ok(
        "PUT", "/balances", {"USDT": {"available": "5", "onhold": "1.5"}, "TON": "0"}
    )
    by_code = {b["currency_code"]: b for b in result}
    assert by_code["USDT"] == {"currency_code": "USDT", "available": "5", "onhold": "1.5"}
    assert by_code["TON"]["available"] == "0"
    assert await api.error("createCheck", asset="USDT", amount="6") == (400, "NOT_ENOUGH_COINS")
    # Other apps are untouched.
    other = Api(api.session, api.emu, OTHER_TOKEN)
    assert {b["currency_code"]: b["available"] for b in await other.ok("getBalance")}["USDT"] == (
        "1000"
    )


async def test_put_balances_validates(api: Api) -> None:
    for body in ({"FFF": "1"}, {"USDT": "-1"}, {"USDT": "x"}, {"USDT": {"available": True}}):
        status, answer = await api.control("PUT", "/balances", body)
        assert status == 400 and answer["ok"] is False and answer["error"]["message"]


async def test_put_rates_including_invalid_ones(api: Api) -> None:
    body = {"rates": [{"source": "TON", "target": "USD", "rate": "2", "is_valid": False}]}
    await api.control_ok("PUT", "/rates", body)
    rates = await api.ok("getExchangeRates")
    ton = next(r for r in rates if (r["source"], r["target"]) == ("TON", "USD"))
    assert (ton["rate"], ton["is_valid"]) == ("2", False)
    # The rate drives conversions: 0.4 TON is 0.8 USD, below the transfer minimum.
    assert await api.error("transfer", user_id=1, asset="TON", amount="0.4", spend_id="s") == (
        400,
        "AMOUNT_TOO_SMALL",
    )
    await api.control_ok("PUT", "/rates", [{"source": "NEW", "target": "USD", "rate": 3}])
    status, _ = await api.control("PUT", "/rates", [{"source": "TON"}])
    assert status == 400


async def test_put_methods(api: Api) -> None:
    assert await api.control_ok("PUT", "/methods", {"disabled": ["transfer"]}) == {
        "disabled": ["transfer"]
    }
    status, body = await api.control("PUT", "/methods", {"disabled": ["fly"]})
    assert status == 400 and "fly" in body["error"]["message"]


async def test_put_webhook(api: Api) -> None:
    assert await api.control_ok("PUT", "/webhook", {"url": "http://127.0.0.1:9/hook"}) == {
        "url": "http://127.0.0.1:9/hook"
    }
    assert (await api.control_ok("GET", "/ledger"))["webhook_url"] == "http://127.0.0.1:9/hook"
    status, _ = await api.control("PUT", "/webhook", {"url": "nope"})
    assert status == 400


async def test_ledger_shows_everything_for_audits(api: Api) -> None:
    kept = await api.ok("createInvoice", asset="TON", amount="1")
    gone = await api.ok("createInvoice", asset="TON", amount="2")
    await api.ok("deleteInvoice", invoice_id=gone["invoice_id"])
    check = await api.ok("createCheck", asset="TON", amount="3")
    for _ in range(3):
        await api.ok("transfer", user_id=1, asset="TON", amount="4", spend_id="once")
    ledger = await api.control_ok("GET", "/ledger")
    assert ledger["app_id"] == 1234
    assert [i["invoice_id"] for i in ledger["invoices"]] == [kept["invoice_id"], gone["invoice_id"]]
    assert ledger["invoices"][1]["deleted"] is True and "deleted" not in ledger["invoices"][0]
    assert [c["check_id"] for c in ledger["checks"]] == [check["check_id"]]
    assert [t["spend_id"] for t in ledger["transfers"]] == ["once"]
    ton = next(b for b in ledger["balances"] if b["currency_code"] == "TON")
    assert (ton["available"], ton["onhold"]) == ("993", "3")


async def test_control_needs_a_valid_token_where_an_app_is_named(api: Api) -> None:
    status, body = await api.control("GET", "/ledger", token=None)
    assert (status, body["error"]["name"]) == (401, "UNAUTHORIZED")
    status, body = await api.control("GET", "/ledger", token="bad")
    assert status == 401


async def test_unknown_control_paths_are_404_and_not_counted(api: Api) -> None:
    status, body = await api.control("GET", "/nothing")
    assert (status, body["error"]["name"]) == (404, "NOT_FOUND")
    status, body = await api.control("POST", "/invoices/abc/pay")
    assert status == 404
    assert (await api.control_ok("GET", "/stats"))["total"] == 0


async def test_stats_count_every_api_request(api: Api) -> None:
    await api.ok("getMe")
    await api.ok("getMe")
    await api.error("createInvoice", asset="USDT", amount="0")
    await api.error("getMe", token="bad")
    await api.error("nope")
    await api.control_ok("GET", "/ledger")
    _, answer = await api.control("GET", "/stats", token=None)
    assert answer["result"] == {
        "total": 5,
        "faulted": 0,
        "by_method": {"getMe": 3, "createInvoice": 1, "nope": 1},
        "by_status": {"200": 2, "400": 1, "401": 1, "405": 1},
    }
    assert (await api.control_ok("GET", "/stats"))["total"] == 4  # the bad token is not ours


async def test_reset_stats_and_state(api: Api) -> None:
    await api.ok("createInvoice", asset="TON", amount="1")
    await api.control_ok("POST", "/faults", {"method": "getMe", "status": 503})
    assert await api.control_ok("POST", "/reset") == {"stats": True, "state": False}
    assert (await api.control_ok("GET", "/stats"))["total"] == 0
    assert len((await api.ok("getInvoices"))["items"]) == 1
    await api.control_ok("POST", "/reset", {"state": True})
    assert (await api.ok("getInvoices"))["items"] == []
    assert await api.control_ok("GET", "/faults") == []
    assert (await api.control_ok("GET", "/stats"))["total"] == 1


async def test_health(api: Api) -> None:
    assert await api.control_ok("GET", "/health") is True


async def test_stats_faults_and_reset_scoped_to_one_app(api: Api) -> None:
    """Tests sharing one emulator each use their own token and see only their own app."""
    other = Api(api.session, api.emu, OTHER_TOKEN)
    rule = await api.control_ok("POST", "/faults", {"method": "getMe", "status": 503})
    assert rule["app_scoped"] is True
    assert await api.error("getMe") == (503, "SERVICE_UNAVAILABLE")
    await other.ok("getMe")
    await other.ok("getBalance")
    assert await other.control_ok("GET", "/faults") == []
    assert len(await api.control_ok("GET", "/faults")) == 1

    mine = await api.control_ok("GET", "/stats")
    assert (mine["total"], mine["faulted"], mine["by_method"]) == (1, 1, {"getMe": 1})
    assert (await other.control_ok("GET", "/stats"))["total"] == 2
    _, overall = await api.control("GET", "/stats", token=None)
    assert overall["result"]["total"] == 3

    await other.ok("createInvoice", asset="TON", amount="1")
    await api.control_ok("PUT", "/balances", {"TON": "1"})
    await api.control_ok("POST", "/reset", {"state": True})
    assert await api.control_ok("GET", "/faults") == []
    assert (await api.control_ok("GET", "/stats"))["total"] == 0
    ton = {b["currency_code"]: b["available"] for b in await api.ok("getBalance")}["TON"]
    assert ton == "1000"  # a fresh app
    assert len((await other.ok("getInvoices"))["items"]) == 1  # the other app is untouched
    assert (await other.control_ok("GET", "/stats"))["total"] == 4
