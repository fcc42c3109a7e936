"""Starting and stopping the emulator: in-process for tests, or as a CLI command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import get_args

from aiohttp import web

from .app import create_app
from .catalog import Network
from .config import DuplicateSpendIdMode, EmulatorConfig
from .context import CONTEXT, EmulatorContext

log = logging.getLogger(__name__)

DEFAULT_LISTEN = ("127.0.0.1", 8090)


@dataclass
class RunningEmulator:
    app: web.Application
    runner: web.AppRunner
    host: str
    port: int
    _stopped: bool = field(default=False, init=False, repr=False)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What a client uses as its Crypto Pay base, e.g. ``<api_url>/getMe``."""
        return f"{self.base_url}/api"

    @property
    def context(self) -> EmulatorContext:
        """Direct access to the ledger, faults, stats and webhook log for in-process tests."""
        return self.app[CONTEXT]

    async def stop(self) -> None:
        """Close the listener and cancel pending webhook deliveries. Safe to call twice."""
        if not self._stopped:
            self._stopped = True
            await self.runner.cleanup()


async def start_emulator(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningEmulator:
    """Serve the emulator on ``host:port`` (0 picks a free port) until ``stop()``."""
    app = create_app(config)
    level = logging.getLogger("aiohttp.access").getEffectiveLevel()
    runner = web.AppRunner(
        app,
        handle_signals=False,
        # A request held by a latency fault must not hold a stop for a minute (aiohttp's default).
        shutdown_timeout=1.0,
        # Access logs cost real time at thousands of requests; only pay for them when debugging.
        access_log=logging.getLogger("aiohttp.access") if level <= logging.DEBUG else None,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    return RunningEmulator(app=app, runner=runner, host=host, port=bound_port)


async def serve_forever(
    config: EmulatorConfig,
    host: str = DEFAULT_LISTEN[0],
    port: int = DEFAULT_LISTEN[1],
    stop_event: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop_event`` is set, or until SIGINT/SIGTERM when no event is given."""
    running = await start_emulator(config, host, port)
    log.info("Crypto Pay emulator listening on %s (API at %s)", running.base_url, running.api_url)
    if stop_event is None:
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # e.g. Windows
                loop.add_signal_handler(sig, stop_event.set)
    try:
        await stop_event.wait()
    finally:
        await running.stop()
        log.info("Crypto Pay emulator stopped")


# -- command line --------------------------------------------------------------------------


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8090`` for IPv6) -> ``(host, port)``."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]") or DEFAULT_LISTEN[0], int(port)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help="address to serve on (default 127.0.0.1:8090; port 0 picks a free one)",
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        dest="tokens",
        metavar="TOKEN",
        help="accept only this API token (repeatable); default: any well-formed token",
    )
    parser.add_argument(
        "--webhook-url", metavar="URL", help="deliver every app's invoice_paid updates here"
    )
    parser.add_argument(
        "--network",
        choices=get_args(Network),
        default="mainnet",
        help="mainnet (@CryptoBot) or testnet (@CryptoTestnetBot): the bot name in getMe and "
        "the invoice and check URLs (default mainnet)",
    )
    parser.add_argument("--seed", type=int, help="seed for hashes and probabilistic faults")
    parser.add_argument(
        "--duplicate-spend-id",
        choices=get_args(DuplicateSpendIdMode),
        default="replay",
        help="a repeated transfer spend_id: return the original (replay) or 400 (error)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging level (DEBUG also logs every request)",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    mode: DuplicateSpendIdMode = "error" if args.duplicate_spend_id == "error" else "replay"
    return EmulatorConfig(
        tokens=tuple(args.tokens),
        webhook_url=args.webhook_url,
        seed=args.seed,
        duplicate_spend_id=mode,
        network="testnet" if args.network == "testnet" else "mainnet",
    )


async def run_from_args(args: argparse.Namespace, stop_event: asyncio.Event | None = None) -> None:
    """Serve with parsed ``add_arguments`` flags; the caller sets up logging and the loop."""
    host, port = args.listen
    await serve_forever(config_from_args(args), host, port, stop_event)


def run(args: argparse.Namespace) -> int:
    """Blocking entry point for standalone use: configures logging, then serves."""
    logging.basicConfig(
        level=getattr(logging, args.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(run_from_args(args))
    return 0
