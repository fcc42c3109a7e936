"""The webhook relay across a crash: real sidecar processes on a real Redis. An event whose
delivery failed is still pending in the relay's group when its sidecar is killed, and the next
sidecar delivers it, before the events that came after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from bench.sidecar_process import SidecarProcess
from sidecar.emulator.runner import RunningEmulator
from sidecar.policy.identity import key_digest, new_token
from tests.conftest import RedisServer, sample, scrape
from tests.helpers import eventually
from tests.webhooks.conftest import post_signed, update_body
from tests.webhooks.receivers import cryptobot_receiver

APP = new_token()  # the app's own token, which the relayed webhooks are signed with


class Process:
    def __init__(self, proc: SidecarProcess) -> None:
        self.proc = proc
        self.http_port = proc.http_port

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/webhooks/cryptopay"


StartSidecar = Callable[[], Process]


@pytest.fixture
def start_sidecar_process(
    emulator: RunningEmulator, token: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Callable[[str], StartSidecar]]:
    started: list[Process] = []

    def configure(relay_url: str) -> StartSidecar:
        path = tmp_path / "policy.yaml"
        path.write_text(
            "version: 1\ndefaults: {}\ncallers:\n  app:\n"
            f"    token_sha256: {key_digest(APP)}\n"
            f"    relay: {{url: '{relay_url}', timeout: 5s}}\n"
        )

        def start() -> Process:
            proc = SidecarProcess(
                upstream=emulator.base_url,
                redis_url=redis_server.url,
                policy=path,
                log_level="warning",
                env={"CRYPTOPAY_API_TOKEN": token},
            )
            process = Process(proc)
            started.append(process)
            proc.wait_serving()
            return process

        return start

    yield configure
    for process in started:
        process.proc.stop()


async def relaying(session: aiohttp.ClientSession, process: Process) -> None:
    async def active() -> bool:
        samples = await scrape(session, process.http_port)
        return sample(samples, "cryptopay_sidecar_webhook_relay_active", caller="app") == 1

    await eventually(active, "the relay to be active", within=20)


async def test_a_killed_sidecar_loses_no_relayed_event(
    start_sidecar_process: Callable[[str], StartSidecar],
    http_session: aiohttp.ClientSession,
    token: str,
) -> None:
    async with cryptobot_receiver(APP) as app:
        app.fail_next = 2  # the app's handler fails twice (500), then works
        start = start_sidecar_process(app.url)
        first_sidecar = start()
        await relaying(http_session, first_sidecar)
        first = update_body(1001)
        assert (await post_signed(http_session, first_sidecar.ingest_url, token, first))[0] == 200
        await app.wait(lambda r: len(r.statuses) == 2)

        # Killed between two attempts, with the event unacknowledged: no goodbye, its lease
        # runs out on its own.
        first_sidecar.proc.kill()
        second_sidecar = start()
        second = update_body(1002)
        assert (await post_signed(http_session, second_sidecar.ingest_url, token, second))[0] == 200
        await app.wait(lambda r: len(r.accepted) == 2, within=30)

    assert app.statuses == [500, 500, 200, 200]
    assert [d["payload"]["invoice_id"] for d in app.accepted] == [1001, 1002]
    assert [s.body for s in app.seen] == [first, first, first, second]
