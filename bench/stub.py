"""A canned Crypto Pay upstream for benchmarks only: answers every method with a fixed result.

The emulator is faithful (validation, ledger, serialization) and costs about as much CPU per
request as the sidecar itself, so at 1,000 QPS on 2 cores it is part of what gets measured.
This stub does the least an HTTP/1.1 server can: aiohttp's low-level server (C parser, no
router), reads the body, answers prebuilt bytes. Its request counter lets the harness check
that every call really went upstream.

    python -m bench.stub --listen 127.0.0.1:8091 [--description-size 950]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

from aiohttp import web

STATS_PATH = "/_stub/stats"


def canned_results(description_size: int) -> dict[str, Any]:
    """One realistic result per method (shapes from real testnet answers)."""
    invoice_hash = "IVYqUsCa1IGQ"
    invoice = {
        "invoice_id": 828678,
        "hash": invoice_hash,
        "currency_type": "crypto",
        "asset": "USDT",
        "amount": "1.5",
        "pay_url": f"https://t.me/CryptoBot?start={invoice_hash}",
        "bot_invoice_url": f"https://t.me/CryptoBot?start={invoice_hash}",
        "mini_app_invoice_url": f"https://t.me/CryptoBot/app?startapp=invoice-{invoice_hash}",
        "web_app_invoice_url": f"https://app.send.tg/invoices/{invoice_hash}",
        "description": "x" * description_size,
        "status": "active",
        "created_at": "2026-02-18T12:38:08.759Z",
        "allow_comments": True,
        "allow_anonymous": False,
        "expiration_date": "2026-02-18T13:38:08.755Z",
    }
    return {
        "getMe": {
            "app_id": 1000,
            "name": "Benchmark App",
            "payment_processing_bot_username": "CryptoBot",
        },
        "createInvoice": invoice,
        "getInvoices": {"items": [invoice]},
        "getBalance": [{"currency_code": "USDT", "available": "1000", "onhold": "0"}],
    }


def canned_bodies(description_size: int) -> dict[str, bytes]:
    return {
        f"/api/{method}": json.dumps({"ok": True, "result": result}).encode()
        for method, result in canned_results(description_size).items()
    }


NOT_FOUND = json.dumps({"ok": False, "error": {"code": 405, "name": "METHOD_NOT_FOUND"}}).encode()


class Stub:
    def __init__(self, description_size: int) -> None:
        self._bodies = canned_bodies(description_size)
        self.requests = 0

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        await request.read()
        if request.path == STATS_PATH:
            return web.json_response({"total": self.requests})
        body = self._bodies.get(request.path)
        if body is None:
            return web.Response(body=NOT_FOUND, status=405, content_type="application/json")
        self.requests += 1
        return web.Response(body=body, content_type="application/json")


async def serve(host: str, port: int, description_size: int) -> None:
    stub = Stub(description_size)
    server = web.Server(stub.handle, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, host, port, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"stub listening on {host}:{port}", flush=True)
    await stop.wait()
    listener.close()
    await server.shutdown(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stub", description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:8091")
    parser.add_argument("--description-size", type=int, default=950)
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(host, int(port), args.description_size))
    else:
        uvloop.run(serve(host, int(port), args.description_size))


if __name__ == "__main__":
    main()
