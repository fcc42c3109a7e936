"""``python -m sidecar.emulator --listen 127.0.0.1:8090``."""

from __future__ import annotations

import argparse

from .runner import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sidecar.emulator",
        description="A stateful emulator of the Crypto Pay API (@CryptoBot) for local development.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
