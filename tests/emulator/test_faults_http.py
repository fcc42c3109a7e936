"""Fault injection end to end: what the client sees and what the ledger did."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from .conftest import Api, StartEmulator

TRANSFER = {"user_id": 1, "asset": "TON", "amount": "2", "spend_id": "pay-1"}


async def ledger_transfers(api: Api) -> list[Any]:
    return list((await api.control_ok("GET", "/ledger"))["transfers"])


async def post_fresh(api: Api, method: str, **params: Any) -> tuple[int, Any]:
    """A request on a new connection, so the client cannot silently retry a dropped one."""
    async with aiohttp.ClientSession() as session:
        return await Api(session, api.emu, api.token).call(method, **params)


async def test_status_fault_answers_without_performing(api: Api) -> None:
    rule = await api.control_ok(
        "POST",
        "/faults",
        {"method": "transfer", "kind": "status", "status": 429, "retry_after": 1.2, "count": 1},
    )
    assert rule["name"] == "TOO_MANY_REQUESTS" and rule["remaining"] == 1
    url, headers = f"{api.emu.api_url}/transfer", {"Crypto-Pay-API-Token": api.token}
    async with api.session.post(url, json=TRANSFER, headers=headers) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "2"
        assert await response.json() == {
            "ok": False,
            "error": {"code": 429, "name": "TOO_MANY_REQUESTS"},
        }
    assert await ledger_transfers(api) == []
    assert (await api.ok("transfer", **TRANSFER))["spend_id"] == "pay-1"  # count exhausted


async def test_status_fault_with_a_custom_name(api: Api) -> None:
    await api.control_ok("POST", "/faults", {"method": "getMe", "status": 503, "name": "DOWN"})
    assert await api.error("getMe") == (503, "DOWN")
    assert await api.error("getMe") == (503, "DOWN")  # no count: until deleted
    assert await api.control_ok("DELETE", "/faults") == {"deleted": 1}
    await api.ok("getMe")


async def test_latency_fault_delays_then_processes(api: Api) -> None:
    await api.control_ok("POST", "/faults", {"kind": "latency", "latency_ms": 150, "count": 1})
    began = time.monotonic()
    await api.ok("transfer", **TRANSFER)
    assert time.monotonic() - began >= 0.15
    assert len(await ledger_transfers(api)) == 1


async def test_drop_fault_closes_the_connection_without_performing(api: Api) -> None:
    await api.control_ok("POST", "/faults", {"method": "transfer", "kind": "drop", "count": 1})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post_fresh(api, "transfer", **TRANSFER)
    assert await ledger_transfers(api) == []


async def test_commit_then_fail_with_a_status(api: Api) -> None:
    await api.control_ok(
        "POST",
        "/faults",
        {"method": "transfer", "kind": "commit_then_fail", "status": 502, "count": 1},
    )
    assert await api.error("transfer", **TRANSFER) == (502, "BAD_GATEWAY")
    (done,) = await ledger_transfers(api)
    assert done["spend_id"] == "pay-1"
    # A safe client retries with the same spend_id: the original comes back, no second debit.
    assert (await api.ok("transfer", **TRANSFER))["transfer_id"] == done["transfer_id"]
    assert len(await ledger_transfers(api)) == 1


async def test_commit_then_drop(api: Api) -> None:
    await api.control_ok(
        "POST", "/faults", {"method": "createInvoice", "kind": "commit_then_fail", "then": "drop"}
    )
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post_fresh(api, "createInvoice", asset="TON", amount="1")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post_fresh(api, "createInvoice", asset="TON", amount="1")
    # A naive retry duplicated the invoice: createInvoice has no idempotency key.
    assert len((await api.control_ok("GET", "/ledger"))["invoices"]) == 2


async def test_count_applies_to_the_next_matching_requests_only(api: Api) -> None:
    await api.control_ok("POST", "/faults", {"method": "getBalance", "status": 500, "count": 2})
    assert (await api.call("getMe"))[0] == 200
    assert [(await api.call("getBalance"))[0] for _ in range(3)] == [500, 500, 200]
    (rule,) = await api.control_ok("GET", "/faults")
    assert (rule["fired"], rule["remaining"]) == (2, 0)


async def probability_run(api: Api, **rule: Any) -> list[int]:
    await api.control_ok("POST", "/faults", {"method": "getMe", "probability": 0.5, **rule})
    return [(await api.call("getMe"))[0] for _ in range(40)]


async def test_probability_is_repeatable_with_the_global_seed(
    start: StartEmulator, api: Api
) -> None:
    first = await probability_run(Api(api.session, await start(seed=3), api.token))
    second = await probability_run(Api(api.session, await start(seed=3), api.token))
    other = await probability_run(Api(api.session, await start(seed=4), api.token))
    assert first == second != other
    assert 5 < first.count(500) < 35


async def test_probability_is_repeatable_with_a_rule_seed(start: StartEmulator, api: Api) -> None:
    first = await probability_run(Api(api.session, await start(seed=None), api.token), seed=9)
    second = await probability_run(Api(api.session, await start(seed=None), api.token), seed=9)
    assert first == second


async def test_faulted_requests_are_counted(api: Api) -> None:
    await api.control_ok("POST", "/faults", {"method": "getMe", "count": 1, "status": 503})
    await api.call("getMe")
    await api.call("getMe")
    stats = await api.control_ok("GET", "/stats")
    assert (stats["total"], stats["faulted"], stats["by_status"]) == (2, 1, {"200": 1, "503": 1})


async def test_fault_rules_can_be_listed_and_deleted(api: Api) -> None:
    first = await api.control_ok("POST", "/faults", {"method": "getMe"})
    await api.control_ok("POST", "/faults", {"kind": "latency", "latency_ms": 1})
    assert [r["id"] for r in await api.control_ok("GET", "/faults")] == [first["id"], 2]
    assert await api.control_ok("DELETE", f"/faults/{first['id']}") == {"deleted": 1}
    status, _ = await api.control("DELETE", f"/faults/{first['id']}")
    assert status == 404
    status, body = await api.control("POST", "/faults", {"kind": "meteor"})
    assert (status, body["error"]["name"]) == (400, "FAULT_INVALID")
