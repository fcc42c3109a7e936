"""Shared fixtures: an emulator on a free port, a controllable clock and a small HTTP client."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from sidecar.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.helpers import fixture_path

TOKEN = "1234:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  # the signature test vector's token
OTHER_TOKEN = "5678:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DECIMAL = re.compile(r"^\d+(\.\d*[1-9])?$")  # plain, no exponent, no padding zeros
START = datetime(2025, 8, 23, 9, 28, 15, 220000, tzinfo=UTC)

Json = Any  # decoded JSON; tests index into it freely


def fixture(name: str) -> Json:
    """Plain JSON (numbers as floats) of a payload: see tests.helpers.fixture_path."""
    return json.loads(fixture_path(name).read_text(encoding="utf-8"))


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Api:
    """Calls the emulator the way SDKs do: POST+JSON by default, or query, form or multipart."""

    def __init__(self, session: aiohttp.ClientSession, emu: RunningEmulator, token: str) -> None:
        self.session, self.emu, self.token = session, emu, token

    async def call(
        self, method: str, *, via: str = "json", token: str | None = None, **params: Any
    ) -> tuple[int, Json]:
        headers = {"Crypto-Pay-API-Token": token or self.token}
        url = f"{self.emu.api_url}/{method}"
        if via == "query":
            request = self.session.get(url, params=_strings(params), headers=headers)
        elif via == "form":
            request = self.session.post(url, data=_strings(params), headers=headers)
        elif via == "multipart":
            form = aiohttp.FormData(default_to_multipart=True)
            for key, value in _strings(params).items():
                form.add_field(key, value)
            request = self.session.post(url, data=form, headers=headers)
        else:
            request = self.session.post(url, json=params, headers=headers)
        async with request as response:
            assert response.content_type == "application/json"
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Json:
        status, body = await self.call(method, **params)
        assert status == 200, body
        assert body["ok"] is True
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self.call(method, **params)
        assert body["ok"] is False, body
        assert body["error"]["code"] == status
        assert set(body["error"]) == {"code", "name"}
        return status, body["error"]["name"]

    async def control(
        self, verb: str, path: str, body: Json = None, *, token: str | None = ""
    ) -> tuple[int, Json]:
        headers = {"Crypto-Pay-API-Token": token or self.token} if token is not None else {}
        url = f"{self.emu.base_url}/_emulator{path}"
        async with self.session.request(verb, url, json=body, headers=headers) as response:
            return response.status, await response.json()

    async def control_ok(self, verb: str, path: str, body: Json = None) -> Json:
        status, answer = await self.control(verb, path, body)
        assert status == 200, answer
        return answer["result"]


def _strings(params: dict[str, Any]) -> dict[str, str]:
    """Query and form encodings: booleans as true/false, lists comma-joined."""
    return {key: _string(value) for key, value in params.items()}


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


StartEmulator = Callable[..., Awaitable[RunningEmulator]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def start(clock: FakeClock) -> AsyncIterator[StartEmulator]:
    """Start emulators with config overrides; all are stopped after the test."""
    running: list[RunningEmulator] = []

    async def _start(**overrides: Any) -> RunningEmulator:
        settings: dict[str, Any] = {"seed": 7, "clock": clock, "webhook_retry_base": 0.02}
        settings.update(overrides)
        emu = await start_emulator(EmulatorConfig(**settings), port=0)
        running.append(emu)
        return emu

    yield _start
    for emu in running:
        await emu.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def emu(start: StartEmulator) -> RunningEmulator:
    return await start()


@pytest.fixture
def api(session: aiohttp.ClientSession, emu: RunningEmulator) -> Api:
    return Api(session, emu, TOKEN)
