"""The `cryptopay-sidecar` command: serve, policy, emulator, cache."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from sidecar import __version__, logs
from sidecar.config import ConfigError, add_serve_arguments, settings_from_args


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on every platform)
        asyncio.run(coro)
    else:
        uvloop.run(coro)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command`, only that command's arguments are defined (the other
    commands' modules, such as the emulator, are then not imported: `serve` stays lean)."""
    parser = argparse.ArgumentParser(
        prog="cryptopay-sidecar",
        description="A gRPC sidecar for the Crypto Pay API (@CryptoBot).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def wanted(name: str) -> bool:
        return command is None or command == name

    serve = commands.add_parser("serve", help="run the sidecar")
    if wanted("serve"):
        add_serve_arguments(serve)

    policy = commands.add_parser(
        "policy", help="check and explain policy files (lint, explain, schema, hash-key)"
    )
    if wanted("policy"):
        from sidecar.policy import commands as policy_commands

        policy_commands.add_arguments(policy)

    emulator = commands.add_parser(
        "emulator", help="run the Crypto Pay emulator for local development and tests"
    )
    if wanted("emulator"):
        from sidecar.emulator import runner as emulator_runner

        emulator_runner.add_arguments(emulator)

    cache = commands.add_parser("cache", help="operate the shared cache (flush)")
    if wanted("cache"):
        from sidecar.cache import admin as cache_admin

        cache_admin.add_arguments(cache)
    return parser


_COMMANDS = ("serve", "policy", "emulator", "cache")


def _command(argv: Sequence[str]) -> str | None:
    """The command named on the line, if it is the first argument that is not an option."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in _COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    line = sys.argv[1:] if argv is None else argv
    args = build_parser(_command(line)).parse_args(line)
    if args.command == "serve":
        try:
            settings = settings_from_args(args)
        except ConfigError as exc:
            print(f"cryptopay-sidecar: {exc}", file=sys.stderr)
            return 2
        logs.configure(settings.log_level, settings.log_format)
        from sidecar.telemetry import tracing

        try:
            tracing.setup()  # reads OTEL_*: a wrong value stops the start, clearly
        except ConfigError as exc:
            print(f"cryptopay-sidecar: {exc}", file=sys.stderr)
            return 2
        from sidecar.server import serve

        try:
            _run(serve(settings))
        except ConfigError as exc:
            print(f"cryptopay-sidecar: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "policy":
        from sidecar.policy import commands as policy_commands

        return policy_commands.run(args)
    if args.command == "emulator":
        from sidecar.emulator import runner as emulator_runner

        return emulator_runner.run(args)
    if args.command == "cache":
        from sidecar.cache import admin as cache_admin

        return cache_admin.run(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
