"""The webhook relay end to end, in one process: the emulator delivers its signed webhooks to the
sidecar's ingest, and the sidecar relays each event to apps' endpoints built on the Python SDKs'
own handlers, re-signed with each caller's token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.policy.identity import key_digest, new_token
from sidecar.secrets import Secret
from sidecar.signature import HEADER, sign
from sidecar.telemetry import metrics
from sidecar.webhooks.events import ZERO, Event
from sidecar.webhooks.relay_rules import EVENT_ID_HEADER
from tests.conftest import (
    EmulatorControl,
    LogCapture,
    RedisServer,
    RunningSidecar,
    start_sidecar,
)
from tests.helpers import eventually
from tests.webhooks.conftest import ingest_url, route_webhooks
from tests.webhooks.receivers import aiocryptopay_receiver, cryptobot_receiver

SHOP = new_token()  # the app on aiocryptopay
BOT = new_token()  # the app on cryptobot-python


def policy(**relays: str) -> str:
    tokens = {"shop": SHOP, "bot": BOT}
    lines = ["version: 1", "defaults: {}", "callers:"]
    for caller, token in tokens.items():
        lines += [f"  {caller}:", f"    token_sha256: {key_digest(token)}"]
        if caller in relays:
            lines.append(f"    relay: {{url: '{relays[caller]}', timeout: 5s}}")
    return "\n".join(lines) + "\n"


def relayed(caller: str, outcome: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value(
            "cryptopay_sidecar_webhook_relay_deliveries_total",
            {"caller": caller, "outcome": outcome},
        )
        or 0.0
    )


class App:
    """A sidecar whose app's webhooks the emulator delivers to its ingest, with a policy file."""

    def __init__(self, running: RunningSidecar, path: Path, control: EmulatorControl) -> None:
        self.running = running
        self.path = path
        self.control = control

    @property
    def relays(self) -> dict[str, object]:
        hub = self.running.sidecar.webhooks
        assert hub is not None and hub.relays is not None
        return dict(hub.relays.workers)

    def holding(self) -> set[str]:
        """The callers this sidecar relays for now (it holds their lease)."""
        hub = self.running.sidecar.webhooks
        assert hub is not None and hub.relays is not None
        return {caller for caller, worker in hub.relays.workers.items() if worker.holding}

    async def relaying(self, *callers: str) -> None:
        """Waits until this sidecar relays for exactly these callers (each holds its lease)."""

        async def ready() -> bool:
            return sorted(self.relays) == sorted(callers) and self.holding() == set(callers)

        await eventually(ready, f"relaying for {callers}", within=10)

    async def reload(self, text: str) -> None:
        self.path.write_text(text)
        assert await self.running.sidecar.reload_policy()

    async def pay(self) -> int:
        created = await self.running.stub.CreateInvoice(
            pb.CreateInvoiceRequest(asset="USDT", amount="3.5")
        )
        await self.control.pay(self.running.token, created.invoice.invoice_id)
        return int(created.invoice.invoice_id)

    async def events(self) -> list[Event]:
        hub = self.running.sidecar.webhooks
        assert hub is not None
        return await hub.event_log.read_after(ZERO, 100)


MakeApp = Callable[..., Awaitable[App]]


@pytest.fixture
async def make_app(
    emulator: RunningEmulator, token: str, tmp_path: Path, control: EmulatorControl
) -> AsyncIterator[MakeApp]:
    started: list[RunningSidecar] = []

    async def make(text: str, **overrides: Any) -> App:
        path = tmp_path / f"policy-{len(started)}.yaml"
        path.write_text(text)
        running = await start_sidecar(emulator, token, policy_path=str(path), **overrides)
        if not started:
            await route_webhooks(control, token, ingest_url(running))
        started.append(running)
        return App(running, path, control)

    yield make
    for running in started:
        await running.channel.close(None)
        if running.sidecar.webhooks is None or not running.sidecar.webhooks.closing:
            await running.sidecar.stop()


async def test_each_sdk_verifies_and_parses_the_relayed_webhook(make_app: MakeApp) -> None:
    async with aiocryptopay_receiver(SHOP) as shop, cryptobot_receiver(BOT) as bot:
        app = await make_app(policy(shop=shop.url, bot=bot.url))
        await app.relaying("shop", "bot")
        invoice_id = await app.pay()
        await shop.wait(lambda r: len(r.accepted) == 1)
        await bot.wait(lambda r: len(r.accepted) == 1)
        [event] = await app.events()

    # aiocryptopay checked the signature with the shop's token and parsed its own Update model.
    update = shop.accepted[0]
    assert (update.update_type, update.payload.invoice_id) == ("invoice_paid", invoice_id)
    assert update.payload.status == "paid"
    # cryptobot-python's Listener checked it with the bot's token and parsed the JSON.
    data = bot.accepted[0]
    assert (data["update_type"], data["payload"]["invoice_id"]) == ("invoice_paid", invoice_id)
    assert (shop.statuses, bot.statuses) == ([200], [200])
    # The bytes Crypto Pay (the emulator) signed, unchanged; each signed for its own caller; the
    # app's real token's signature reaches neither.
    for receiver, token in ((shop, SHOP), (bot, BOT)):
        [seen] = receiver.seen
        assert seen.body == event.record.body
        assert seen.headers[HEADER] == sign(token, seen.body)
        assert seen.headers[HEADER] != event.record.signature
        assert seen.headers[EVENT_ID_HEADER] == str(event.id)
        assert seen.headers["content-type"] == "application/json"


async def test_a_failing_handler_gets_each_event_once_after_the_retries_in_order(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    async with cryptobot_receiver(BOT, path="/hooks/s3cret-segment") as bot:
        app = await make_app(policy(bot=bot.url))
        await app.relaying("bot")
        refused, delivered = relayed("bot", "refused"), relayed("bot", "delivered")
        bot.fail_next = 2
        paid = {await app.pay() for _ in range(3)}
        await bot.wait(lambda r: len(r.accepted) == 3)
        events = await app.events()

    assert bot.statuses == [500, 500, 200, 200, 200]
    # In the log's order (the emulator may deliver its webhooks in any order; the log fixes one),
    # each exactly once: the callback ran 5 times, and succeeded once per event.
    in_log = [int(e.record.invoice_id or 0) for e in events]
    assert sorted(in_log) == sorted(paid)
    assert [d["payload"]["invoice_id"] for d in bot.accepted] == in_log
    first = events[0].record.body
    assert [s.body for s in bot.seen[:3]] == [first, first, first]
    assert relayed("bot", "refused") - refused == 2
    assert relayed("bot", "delivered") - delivered == 3
    # Each failed attempt is logged, naming the caller, event and status, never where exactly
    # it went (the path may hold a secret) nor what was signed.
    ours = [line for line in captured_logs.lines() if line["logger"].startswith("sidecar.")]
    failed = [line for line in ours if line["msg"].startswith("webhook relay attempt")]
    assert [(f["caller"], f["status"], f["event_id"]) for f in failed] == [
        ("bot", 500, str(events[0].id))
    ] * 2
    assert failed[0]["target"] == bot.url.split("/hooks")[0]
    text = json.dumps(ours)  # the SDK in this process logs signatures itself: not ours
    assert "s3cret-segment" not in text
    assert bot.seen[0].headers[HEADER] not in text and BOT not in text


async def test_reloads_add_retarget_and_remove_a_relay(make_app: MakeApp) -> None:
    async with cryptobot_receiver(new_token()) as wrong, cryptobot_receiver(BOT) as right:
        app = await make_app(policy())
        assert app.relays == {}

        # Added, pointing at an endpoint that verifies with another token: it refuses (400),
        # the relay keeps the event and retries.
        await app.reload(policy(bot=wrong.url))
        await app.relaying("bot")
        invoice_id = await app.pay()
        await wrong.wait(lambda r: len(r.statuses) >= 2)
        assert wrong.accepted == [] and set(wrong.statuses) == {400}

        # The URL fixed: the next attempt goes to the new endpoint, without waiting out the
        # backoff, and the event is delivered there once.
        await app.reload(policy(bot=right.url))
        await right.wait(lambda r: len(r.accepted) == 1)
        assert right.accepted[0]["payload"]["invoice_id"] == invoice_id
        assert right.statuses == [200]

        # Removed: the worker stops and frees the caller's lease.
        await app.reload(policy())
        await eventually(lambda: _no_relays(app), "the relay to stop", within=10)
        hub = app.running.sidecar.webhooks
        assert hub is not None
        # The worker is stopped in the background once removed, so its lease is dropped a moment
        # later; sooner than a lease left to expire could be free (a 5 s ttl renewed at least
        # every 2 s), so that would fail this.
        await eventually(
            lambda: hub.event_log.hold_lease("relay:bot", "someone-else", 1000),
            "the removed worker's lease to be free",
            within=2,
        )


async def _no_relays(app: App) -> bool:
    return app.relays == {}


async def test_replicas_share_the_callers_and_hand_over_on_shutdown(
    make_app: MakeApp, redis_server: RedisServer
) -> None:
    async with aiocryptopay_receiver(SHOP) as shop, cryptobot_receiver(BOT) as bot:
        text = policy(shop=shop.url, bot=bot.url)
        a = await make_app(text, redis_url=Secret(redis_server.url))
        b = await make_app(text, redis_url=Secret(redis_server.url))

        async def each_caller_on_one_replica() -> bool:
            held_a, held_b = a.holding(), b.holding()
            return held_a | held_b == {"shop", "bot"} and not held_a & held_b

        await eventually(each_caller_on_one_replica, "each caller on one replica", within=15)
        paid = [await a.pay() for _ in range(2)]
        await shop.wait(lambda r: len(r.accepted) == 2)
        await bot.wait(lambda r: len(r.accepted) == 2)

        # The replica relaying for the bot shuts down: it hands the lease back, and the other
        # replica relays the next event.
        leaving, staying = (a, b) if "bot" in a.holding() else (b, a)
        await leaving.running.sidecar.stop()
        await eventually(
            lambda: _holds(staying, "bot"), "the other replica to take over", within=10
        )
        await route_webhooks(staying.control, staying.running.token, ingest_url(staying.running))
        paid.append(await staying.pay())
        await bot.wait(lambda r: len(r.accepted) == 3)
        await shop.wait(lambda r: len(r.accepted) == 3)

    # Each event once to each app, though two replicas were relaying.
    assert sorted(u.payload.invoice_id for u in shop.accepted) == sorted(paid)
    assert sorted(d["payload"]["invoice_id"] for d in bot.accepted) == sorted(paid)
    assert len(shop.seen) == len(bot.seen) == 3


async def _holds(app: App, caller: str) -> bool:
    return caller in app.holding()
