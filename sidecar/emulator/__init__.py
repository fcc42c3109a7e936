"""A faithful, stateful emulator of the Crypto Pay API, with a control API for tests.

See docs/emulator.md.
"""

from .app import create_app
from .config import EmulatorConfig
from .context import EmulatorContext
from .errors import ApiError
from .runner import RunningEmulator, add_arguments, config_from_args, serve_forever, start_emulator

__all__ = [
    "ApiError",
    "EmulatorConfig",
    "EmulatorContext",
    "RunningEmulator",
    "add_arguments",
    "config_from_args",
    "create_app",
    "serve_forever",
    "start_emulator",
]
