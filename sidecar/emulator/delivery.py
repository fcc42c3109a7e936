"""Signed webhook delivery with exponential-backoff redelivery.

Each attempt carries a fresh ``request_date`` and is signed again (the real behaviour is unknown;
a fresh date per request is the literal reading of "date the request was sent"). Deliveries run as
background tasks owned by the deliverer and are cancelled by ``close()``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

from sidecar.signature import HEADER, sign

from .formats import format_time

log = logging.getLogger(__name__)

# What a real delivery carried, byte for byte (docs/emulator.md#webhooks).
CONTENT_TYPE = "application/json;charset=utf-8"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = 0.2
    cap: float = 5.0
    max_attempts: int = 20
    timeout: float = 5.0


def backoff_delay(attempt: int, policy: RetryPolicy) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base * 2^(n-1), capped."""
    return float(min(policy.cap, policy.base * 2 ** (attempt - 1)))


def encode_update(update_id: int, request_date: datetime, payload: dict[str, object]) -> bytes:
    """Compact JSON with non-ASCII kept as UTF-8, as the real service sends it."""
    update = {
        "update_id": update_id,
        "update_type": "invoice_paid",
        "request_date": format_time(request_date),
        "payload": payload,
    }
    return json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(slots=True)
class Attempt:
    number: int
    request_date: str
    status: int | None = None
    error: str | None = None


@dataclass(slots=True)
class Delivery:
    delivery_id: int
    app_id: int
    invoice_id: int
    update_id: int
    url: str
    state: str = "pending"  # pending -> delivered | failed | cancelled
    attempts: list[Attempt] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "delivery_id": self.delivery_id,
            "app_id": self.app_id,
            "invoice_id": self.invoice_id,
            "update_id": self.update_id,
            "url": self.url,
            "state": self.state,
            "attempts": [
                {"number": a.number, "request_date": a.request_date, "status": a.status}
                | ({"error": a.error} if a.error else {})
                for a in self.attempts
            ],
        }


class WebhookDeliverer:
    def __init__(self, policy: RetryPolicy, clock: Callable[[], datetime]) -> None:
        self.policy = policy
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.deliveries: list[Delivery] = []

    def send(
        self, *, token: str, url: str, app_id: int, update_id: int, payload: dict[str, object]
    ) -> Delivery:
        """Start delivering one update in the background. Must be called inside the event loop."""
        invoice_id = payload.get("invoice_id")
        delivery = Delivery(
            delivery_id=len(self.deliveries) + 1,
            app_id=app_id,
            invoice_id=invoice_id if isinstance(invoice_id, int) else 0,
            update_id=update_id,
            url=url,
        )
        self.deliveries.append(delivery)
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, token, payload))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._forget)
        return delivery

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Wait until no delivery is pending (wrap in ``asyncio.timeout`` to bound it)."""
        await self._idle.wait()

    def clear_log(self, app_id: int | None = None) -> None:
        """Forget finished deliveries (of one app, or all); pending ones stay visible."""
        self.deliveries = [
            d
            for d in self.deliveries
            if d.state == "pending" or (app_id is not None and d.app_id != app_id)
        ]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout)
            )
        return self._session

    async def _deliver(self, delivery: Delivery, token: str, payload: dict[str, object]) -> None:
        try:
            for number in range(1, self.policy.max_attempts + 1):
                request_date = self._clock()
                body = encode_update(delivery.update_id, request_date, payload)
                attempt = Attempt(number, format_time(request_date))
                delivery.attempts.append(attempt)
                await self._post(delivery.url, body, sign(token, body), attempt)
                if attempt.status is not None and 200 <= attempt.status < 300:
                    delivery.state = "delivered"
                    return
                if number < self.policy.max_attempts:
                    await asyncio.sleep(backoff_delay(number, self.policy))
            delivery.state = "failed"
            log.warning(
                "webhook %s gave up after %d attempts", delivery.url, len(delivery.attempts)
            )
        except asyncio.CancelledError:
            delivery.state = "cancelled"
            raise

    async def _post(self, url: str, body: bytes, signature: str, attempt: Attempt) -> None:
        headers = {"Content-Type": CONTENT_TYPE, HEADER: signature}
        try:
            async with self._client().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                attempt.status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        log.debug(
            "webhook %s attempt %d -> %s", url, attempt.number, attempt.status or attempt.error
        )
