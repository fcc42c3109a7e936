"""Many concurrent requests: fast, consistent, and exactly one transfer per spend_id."""

from __future__ import annotations

import asyncio
import time

from .conftest import Api


async def test_thousand_concurrent_requests(api: Api) -> None:
    began = time.monotonic()
    results = await asyncio.gather(
        *(api.ok("createInvoice", asset="TON", amount=str(i + 1)) for i in range(1000))
    )
    assert time.monotonic() - began < 15  # about 1 s on a 2-core machine
    assert len({r["invoice_id"] for r in results}) == 1000
    assert len({r["hash"] for r in results}) == 1000
    assert (await api.control_ok("GET", "/stats"))["by_method"] == {"createInvoice": 1000}


async def test_concurrent_retries_of_one_spend_id_move_money_once(api: Api) -> None:
    params = {"user_id": 3, "asset": "USDT", "amount": "10", "spend_id": "race"}
    results = await asyncio.gather(*(api.ok("transfer", **params) for _ in range(100)))
    assert len({r["transfer_id"] for r in results}) == 1
    ledger = await api.control_ok("GET", "/ledger")
    assert len(ledger["transfers"]) == 1
    usdt = next(b for b in ledger["balances"] if b["currency_code"] == "USDT")
    assert usdt["available"] == "990"
