"""The ingest endpoint over real HTTP: every refusal publishes nothing; duplicates publish once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from sidecar.emulator.runner import RunningEmulator
from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as wpb
from sidecar.secrets import Secret
from sidecar.signature import sign
from sidecar.webhooks.events import ZERO
from sidecar.webhooks.settings import WebhookSettings
from tests.conftest import RunningSidecar, start_sidecar
from tests.helpers import fixture_path, new_token
from tests.webhooks.conftest import (
    WebhookStub,
    ingest_url,
    last_id,
    post,
    post_signed,
    subscribe,
    update_body,
)

UTF8_JSON = "application/json;charset=utf-8"
VECTOR = json.loads(fixture_path("webhook-signature-vector.json").read_text())
VECTOR_BODY = fixture_path(VECTOR["raw_body_file"]).read_bytes()


@pytest.fixture
async def vector_sidecar(emulator: RunningEmulator) -> AsyncIterator[RunningSidecar]:
    """A sidecar holding the test vector's token, accepting its 2024 request_date."""
    running = await start_sidecar(
        emulator, VECTOR["token"], webhooks=WebhookSettings(freshness=20 * 365 * 86400.0)
    )
    yield running
    await running.channel.close(None)
    await running.sidecar.stop()


async def test_test_vector_and_its_classic_mistakes(
    vector_sidecar: RunningSidecar, http_session: aiohttp.ClientSession
) -> None:
    url = ingest_url(vector_sidecar)
    negatives = VECTOR["negative_cases"].values()
    for wrong in negatives:
        status, answer = await post(http_session, url, VECTOR_BODY, wrong)
        assert (status, answer["error"]) == (401, "BAD_SIGNATURE")
    # The same update re-serialized (pretty-printed) does not match the signature.
    pretty = json.dumps(json.loads(VECTOR_BODY), indent=2).encode()
    assert (await post(http_session, url, pretty, VECTOR["expected_signature_hex"]))[0] == 401
    assert await last_id(vector_sidecar) == ZERO

    status, answer = await post(http_session, url, VECTOR_BODY, VECTOR["expected_signature_hex"])
    assert status == 200 and answer["duplicate"] is False
    upper = VECTOR["expected_signature_hex"].upper()
    status, answer = await post(http_session, url, VECTOR_BODY, upper)
    assert status == 200 and answer["duplicate"] is True


async def test_every_refusal_publishes_nothing(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession, token: str
) -> None:
    url = ingest_url(sidecar)
    before = await last_id(sidecar)
    good = update_body(501)
    now = datetime.now(UTC)
    stale = update_body(502, request_date=now - timedelta(days=2))
    future = update_body(503, request_date=now + timedelta(hours=1))
    tampered = good.replace(b'"amount":"1.5"', b'"amount":"1500"')
    not_json = b'{"update_type": "invoice_paid",'
    not_object = b'["invoice_paid"]'
    no_invoice = json.dumps(
        {"update_type": "invoice_paid", "request_date": "2030-01-01T00:00:00.000Z", "payload": {}}
    ).encode()
    huge = update_body(504, description="x" * (64 * 1024))
    utf16 = update_body(505).decode().encode("utf-16")
    bom = b"\xef\xbb\xbf" + update_body(506)
    cases = [
        (tampered, sign(token, good), "application/json", 401, "BAD_SIGNATURE"),
        (good, sign(new_token(), good), "application/json", 401, "BAD_SIGNATURE"),
        (good, None, "application/json", 401, "BAD_SIGNATURE"),
        (good, "zz" * 32, "application/json", 401, "BAD_SIGNATURE"),
        (good, sign(token, good), "text/plain", 400, "BAD_CONTENT_TYPE"),
        (good, sign(token, good), "application/json; charset=latin-1", 400, "BAD_CONTENT_TYPE"),
        (good, sign(token, good), None, 400, "BAD_CONTENT_TYPE"),
        (not_json, sign(token, not_json), "application/json", 400, "MALFORMED_UPDATE"),
        (not_object, sign(token, not_object), "application/json", 400, "MALFORMED_UPDATE"),
        (no_invoice, sign(token, no_invoice), "application/json", 400, "MALFORMED_UPDATE"),
        (stale, sign(token, stale), "application/json", 400, "STALE_REQUEST_DATE"),
        (future, sign(token, future), "application/json", 400, "FUTURE_REQUEST_DATE"),
        (huge, sign(token, huge), "application/json", 413, "BODY_TOO_LARGE"),
        (utf16, sign(token, utf16), "application/json", 400, "MALFORMED_UPDATE"),
        (utf16, sign(token, utf16), "application/json; charset=utf-16", 400, "BAD_CONTENT_TYPE"),
        (bom, sign(token, bom), "application/json;charset=utf-8", 400, "MALFORMED_UPDATE"),
    ]
    for body, signature, content_type, status, error in cases:
        answer = await post(http_session, url, body, signature, content_type)
        assert answer[0] == status and answer[1]["error"] == error, (error, answer)
    assert await last_id(sidecar) == before

    # A body streamed without Content-Length is cut off at the limit too.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    async with http_session.post(url, data=chunks(), headers={"X-A": "b"}) as response:
        assert response.status == 413
    async with http_session.get(url) as response:
        assert response.status == 405
    assert await last_id(sidecar) == before

    # The valid one goes through (with the charset spelled out), and only it reaches a
    # subscriber.
    assert (await post(http_session, url, good, sign(token, good), UTF8_JSON))[0] == 200
    events = subscribe(WebhookStub(sidecar.channel), start=wpb.START_POSITION_EARLIEST)
    [event] = await events.take(1)
    assert event.invoice.invoice_id == 501 and event.raw_body == good
    await events.none_within(0.3)
    events.cancel()


async def test_redeliveries_are_acknowledged_and_published_once(
    sidecar: RunningSidecar, http_session: aiohttp.ClientSession, token: str
) -> None:
    url = ingest_url(sidecar)
    events = subscribe(WebhookStub(sidecar.channel), start=wpb.START_POSITION_EARLIEST)
    first = update_body(601)
    status, answer = await post_signed(http_session, url, token, first)
    assert status == 200 and not answer["duplicate"]
    # A redelivery with a new request_date and update_id is the same update.
    later = update_body(601, request_date=datetime.now(UTC) + timedelta(seconds=3))
    again = json.loads(later)
    again["update_id"] = 99
    redelivery = json.dumps(again).encode()
    for body in (first, redelivery, first):
        status, answer = await post_signed(http_session, url, token, body)
        assert status == 200 and answer["duplicate"] is True
    other = update_body(602)
    assert (await post_signed(http_session, url, token, other))[1]["duplicate"] is False
    received = await events.take(2)
    assert [e.invoice.invoice_id for e in received] == [601, 602]
    assert received[0].raw_body == first
    await events.none_within(0.3)
    events.cancel()


async def test_previous_token_is_accepted_during_a_rotation(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, token: str
) -> None:
    previous = new_token()
    running = await start_sidecar(
        emulator, token, webhooks=WebhookSettings(previous_token=Secret(previous))
    )
    try:
        url = ingest_url(running)
        assert (await post_signed(http_session, url, token, update_body(701)))[0] == 200
        assert (await post_signed(http_session, url, previous, update_body(702)))[0] == 200
        assert (await post_signed(http_session, url, new_token(), update_body(703)))[0] == 401
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()


async def test_a_secret_path_segment_hides_the_endpoint(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, token: str
) -> None:
    path = "/hooks/cryptopay/s3cr3t-Segment"
    running = await start_sidecar(emulator, token, webhooks=WebhookSettings(path=path))
    try:
        url = ingest_url(running)
        assert url.endswith(path)
        assert (await post_signed(http_session, url, token, update_body(801)))[0] == 200
        wrong = url.replace("s3cr3t-Segment", "guess")
        assert (await post_signed(http_session, wrong, token, update_body(802)))[0] == 404
    finally:
        await running.channel.close(None)
        await running.sidecar.stop()
