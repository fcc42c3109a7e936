"""Starting the emulator: in-process helpers, CLI arguments and ``python -m sidecar.emulator``."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sidecar.emulator import EmulatorConfig, add_arguments, config_from_args, serve_forever
from sidecar.emulator.runner import parse_listen, run_from_args
from tests.helpers import eventually

from .conftest import TOKEN, Api, StartEmulator

REPO = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:8090", ("127.0.0.1", 8090)), ("[::1]:0", ("::1", 0)), (":9", ("127.0.0.1", 9))],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["8090", "host:", "host:port", "h:70000"])
def test_parse_listen_rejects(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_listen(value)


def test_defaults_from_the_command_line() -> None:
    args = parse()
    assert args.listen == ("127.0.0.1", 8090) and args.log_level == "INFO"
    config = config_from_args(args)
    assert config == EmulatorConfig(clock=config.clock)


def test_every_flag() -> None:
    args = parse(
        "--listen=0.0.0.0:1",
        "--token",
        TOKEN,
        "--token",
        "9:" + "b" * 35,
        "--webhook-url",
        "http://127.0.0.1:1/h",
        "--seed",
        "5",
        "--duplicate-spend-id",
        "error",
        "--log-level",
        "debug",
    )
    config = config_from_args(args)
    assert config.tokens == (TOKEN, "9:" + "b" * 35)
    assert (config.webhook_url, config.seed, config.duplicate_spend_id) == (
        "http://127.0.0.1:1/h",
        5,
        "error",
    )
    assert args.listen == ("0.0.0.0", 1) and args.log_level == "DEBUG"


async def test_start_emulator_urls(start: StartEmulator) -> None:
    emu = await start()
    assert emu.port > 0
    assert emu.base_url == f"http://127.0.0.1:{emu.port}"
    assert emu.api_url == emu.base_url + "/api"


def answers(
    session: aiohttp.ClientSession, url: str, **request: Any
) -> Callable[[], Awaitable[bool]]:
    """A check that `url` answers 200; False while nothing listens there yet."""

    async def check() -> bool:
        try:
            async with session.get(url, **request) as response:
                assert response.status == 200
                return True
        except aiohttp.ClientConnectionError:
            return False

    return check


async def test_serve_forever_until_the_stop_event(session: aiohttp.ClientSession) -> None:
    port, stop = free_port(), asyncio.Event()
    server = asyncio.create_task(serve_forever(EmulatorConfig(), "127.0.0.1", port, stop))
    url = f"http://127.0.0.1:{port}/api/getMe"
    await eventually(answers(session, url, headers={"Crypto-Pay-API-Token": TOKEN}), url, within=5)
    stop.set()
    await asyncio.wait_for(server, 5)


async def test_run_from_args_for_the_main_cli(session: aiohttp.ClientSession) -> None:
    port, stop = free_port(), asyncio.Event()
    server = asyncio.create_task(run_from_args(parse(f"--listen=127.0.0.1:{port}"), stop))
    url = f"http://127.0.0.1:{port}/_emulator/health"
    await eventually(answers(session, url), url, within=5)
    stop.set()
    await asyncio.wait_for(server, 5)


async def test_python_dash_m_serves(session: aiohttp.ClientSession) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidecar.emulator",
        "--listen",
        f"127.0.0.1:{port}",
        "--token",
        TOKEN,
        "--log-level",
        "warning",
        cwd=REPO,
    )
    try:
        emu_url = f"http://127.0.0.1:{port}"
        await eventually(answers(session, f"{emu_url}/_emulator/health"), emu_url, within=10)

        class Remote:
            base_url, api_url = emu_url, emu_url + "/api"

        api = Api(session, Remote(), TOKEN)  # type: ignore[arg-type]
        assert (await api.ok("getMe"))["app_id"] == 1234
        assert await api.error("getMe", token="9:" + "b" * 35) == (401, "UNAUTHORIZED")
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
