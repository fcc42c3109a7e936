"""Error answers over HTTP: envelope, status and name for every documented trigger."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import OTHER_TOKEN, TOKEN, Api, StartEmulator, fixture

INVOICE = {"asset": "USDT", "amount": "1"}
PAY = {"user_id": 1, "asset": "TON", "amount": "2", "spend_id": "s"}

CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("createInvoice", {"amount": "1"}, 400, "ASSET_REQUIRED"),
    ("createInvoice", {"asset": "USDT"}, 400, "AMOUNT_REQUIRED"),
    ("createInvoice", {**INVOICE, "amount": "0"}, 400, "AMOUNT_INVALID"),
    ("createInvoice", {**INVOICE, "amount": "-5"}, 400, "AMOUNT_INVALID"),
    ("createInvoice", {**INVOICE, "amount": "ten"}, 400, "AMOUNT_INVALID"),
    ("createInvoice", {**INVOICE, "asset": "FFF"}, 400, "UNSUPPORTED_ASSET"),
    ("createInvoice", {**INVOICE, "description": "d" * 1025}, 400, "DESCRIPTION_INVALID"),
    ("createInvoice", {**INVOICE, "hidden_message": "h" * 2049}, 400, "HIDDEN_MESSAGE_INVALID"),
    ("createInvoice", {**INVOICE, "payload": "p" * 4097}, 400, "PAYLOAD_INVALID"),
    ("createInvoice", {**INVOICE, "expires_in": 0}, 400, "EXPIRES_IN_INVALID"),
    ("createInvoice", {**INVOICE, "expires_in": 2678401}, 400, "EXPIRES_IN_INVALID"),
    ("createInvoice", {**INVOICE, "paid_btn_name": "callback"}, 400, "PAID_BTN_URL_REQUIRED"),
    ("createInvoice", {**INVOICE, "paid_btn_name": "click"}, 400, "PAID_BTN_NAME_INVALID"),
    (
        "createInvoice",
        {**INVOICE, "paid_btn_name": "viewItem", "paid_btn_url": "ftp://x"},
        400,
        "PAID_BTN_URL_INVALID",
    ),
    ("createInvoice", {**INVOICE, "allow_comments": "maybe"}, 400, "ALLOW_COMMENTS_INVALID"),
    ("createInvoice", {**INVOICE, "swap_to": "DOGE"}, 400, "SWAP_TO_INVALID"),
    ("createInvoice", {**INVOICE, "currency_type": "barter"}, 400, "CURRENCY_TYPE_INVALID"),
    ("createInvoice", {"currency_type": "fiat", "amount": "1"}, 400, "FIAT_REQUIRED"),
    ("createInvoice", {"currency_type": "fiat", "fiat": "XYZ", "amount": "1"}, 400, "FIAT_INVALID"),
    (
        "createInvoice",
        {"currency_type": "fiat", "fiat": "USD", "amount": "1", "accepted_assets": "USDT,FFF"},
        400,
        "ACCEPTED_ASSETS_INVALID",
    ),
    ("deleteInvoice", {}, 400, "INVOICE_ID_REQUIRED"),
    ("deleteInvoice", {"invoice_id": "abc"}, 400, "INVOICE_ID_INVALID"),
    ("deleteInvoice", {"invoice_id": 999}, 400, "INVOICE_NOT_FOUND"),
    ("createCheck", {"asset": "FFF", "amount": "1"}, 400, "ASSET_INVALID"),
    ("createCheck", {"asset": "TON", "amount": "1000000"}, 400, "NOT_ENOUGH_COINS"),
    ("createCheck", {**fixture("createCheck-request.json")}, 400, "PIN_TO_USER_CONFLICT"),
    ("deleteCheck", {"check_id": 999}, 400, "CHECK_NOT_FOUND"),
    ("transfer", {**PAY, "asset": "FFF"}, 400, "AMOUNT_INVALID"),
    ("transfer", {**PAY, "asset": "BTC", "amount": "1000"}, 400, "AMOUNT_TOO_BIG"),
    ("transfer", {**PAY, "amount": "0.01"}, 400, "AMOUNT_TOO_SMALL"),
    ("transfer", {**PAY, "amount": "1001"}, 400, "NOT_ENOUGH_COINS"),
    ("transfer", {**PAY, "user_id": "bob"}, 400, "USER_ID_INVALID"),
    ("transfer", {k: v for k, v in PAY.items() if k != "user_id"}, 400, "USER_ID_REQUIRED"),
    ("transfer", {k: v for k, v in PAY.items() if k != "spend_id"}, 400, "SPEND_ID_REQUIRED"),
    ("transfer", {**PAY, "spend_id": "s" * 65}, 400, "SPEND_ID_INVALID"),
    ("transfer", {**PAY, "comment": "c" * 1025}, 400, "COMMENT_INVALID"),
    ("getInvoices", {"offset": -1}, 500, "INTERNAL_SERVER_ERROR"),
    ("getInvoices", {"count": -1}, 500, "APP_ERROR"),
    ("getInvoices", {"count": 0}, 400, "COUNT_INVALID"),
    ("getInvoices", {"count": 1001}, 400, "COUNT_INVALID"),
    ("getInvoices", {"status": "gone"}, 400, "STATUS_INVALID"),
    ("getInvoices", {"invoice_ids": "1,x"}, 400, "INVOICE_IDS_INVALID"),
    ("getChecks", {"offset": -5}, 500, "INTERNAL_SERVER_ERROR"),
    ("getTransfers", {"count": -5}, 500, "APP_ERROR"),
    (
        "getStats",
        {"start_at": "2022-01-01T00:00:00.000Z", "end_at": "2024-10-01T00:00:00.000Z"},
        400,
        "INTERVAL_TOO_BIG",
    ),
    ("getStats", {"start_at": "not a date"}, 400, "START_AT_INVALID"),
]


@pytest.mark.parametrize(
    ("method", "params", "status", "name"),
    CASES,
    ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
async def test_error_answers(
    api: Api, method: str, params: dict[str, Any], status: int, name: str
) -> None:
    assert await api.error(method, **params) == (status, name)


async def test_a_one_year_stats_range_is_accepted(api: Api) -> None:
    stats = await api.ok(
        "getStats", start_at="2024-08-23T00:00:00.000Z", end_at="2025-08-23T00:00:00.000Z"
    )
    assert stats["created_invoice_count"] == 0


async def test_errors_through_the_query_string_too(api: Api) -> None:
    assert await api.error("createInvoice", via="query", asset="USDT", amount="x") == (
        400,
        "AMOUNT_INVALID",
    )


@pytest.mark.parametrize("path", ["/api/getme", "/api/nope"])
async def test_unknown_methods_are_405(api: Api, path: str) -> None:
    headers = {"Crypto-Pay-API-Token": TOKEN}
    async with api.session.get(api.emu.base_url + path, headers=headers) as response:
        assert response.status == 405
        assert await response.json() == {
            "ok": False,
            "error": {"code": 405, "name": "METHOD_NOT_FOUND"},
        }


@pytest.mark.parametrize("path", ["/abcapi/getMe", "/getMe", "/v1/api/getMe", "/", "/api/"])
async def test_paths_outside_the_api_are_a_bare_404(api: Api, path: str) -> None:
    headers = {"Crypto-Pay-API-Token": TOKEN}
    async with api.session.get(api.emu.base_url + path, headers=headers) as response:
        assert response.status == 404
        assert response.content_type == "text/plain"
        assert not (await response.text()).startswith("{")


async def test_other_http_verbs_are_405(api: Api) -> None:
    headers = {"Crypto-Pay-API-Token": TOKEN}
    async with api.session.delete(f"{api.emu.api_url}/getMe", headers=headers) as response:
        assert response.status == 405


async def test_malformed_json_body_is_400(api: Api) -> None:
    headers = {"Crypto-Pay-API-Token": TOKEN, "Content-Type": "application/json"}
    url = f"{api.emu.api_url}/createInvoice"
    async with api.session.post(url, data=b"{nope", headers=headers) as response:
        assert (response.status, (await response.json())["error"]["name"]) == (400, "BAD_REQUEST")


async def test_disabled_method_is_403(api: Api) -> None:
    await api.control_ok("PUT", "/methods", {"disabled": ["transfer", "createCheck"]})
    assert await api.error("transfer", **PAY) == (403, "METHOD_DISABLED")
    assert await api.error("createCheck", asset="TON", amount="1") == (403, "METHOD_DISABLED")
    await api.control_ok("PUT", "/methods", {"disabled": []})
    await api.ok("transfer", **PAY)


# -- auth ---------------------------------------------------------------------------------


async def test_missing_token_is_401(api: Api) -> None:
    async with api.session.get(f"{api.emu.api_url}/getMe") as response:
        assert response.status == 401
        assert await response.json() == fixture("error-401.json")


@pytest.mark.parametrize("token", [TOKEN + "abc", "1234", "x:" + "A" * 35, TOKEN[:-1], " "])
async def test_malformed_token_is_401(api: Api, token: str) -> None:
    assert await api.error("getMe", token=token) == (401, "UNAUTHORIZED")


async def test_header_name_is_case_insensitive(api: Api) -> None:
    for name in ("crypto-pay-api-token", "Crypto-Pay-Api-Token", "CRYPTO-PAY-API-TOKEN"):
        async with api.session.get(f"{api.emu.api_url}/getMe", headers={name: TOKEN}) as r:
            assert r.status == 200


async def test_token_restriction(start: StartEmulator, api: Api) -> None:
    emu = await start(tokens=(TOKEN,))
    restricted = Api(api.session, emu, TOKEN)
    assert (await restricted.ok("getMe"))["app_id"] == 1234
    assert await restricted.error("getMe", token=OTHER_TOKEN) == (401, "UNAUTHORIZED")


async def test_each_token_is_its_own_app(api: Api) -> None:
    await api.ok("createInvoice", asset="TON", amount="1")
    other = Api(api.session, api.emu, OTHER_TOKEN)
    assert (await other.ok("getMe"))["app_id"] == 5678
    assert (await other.ok("getInvoices"))["items"] == []
    assert len((await api.ok("getInvoices"))["items"]) == 1
