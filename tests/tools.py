"""What the suite needs from outside the repository (tools, system packages, the shared captures).

A test that needs something the machine lacks is skipped with a reason that names it and says how
to install it, so a fresh clone gives a green run that says what it did not cover. Under `CI=true`
the same test fails instead: CI installs everything (`.ci/run`) and must prove everything.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path
from typing import NoReturn

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(what: str, install_hint: str) -> NoReturn:
    """Skips the current test (fails it under CI=true) because `what` is missing."""
    reason = f"{what} is missing; to run this test: {install_hint}"
    if on_ci():
        pytest.fail(f"{reason} (CI=true: CI provides everything, so nothing may be skipped)")
    # Reported at the test, not here, so `-rs` lists which tests did not run.
    raise pytest.skip.Exception(reason, _use_item_location=True)


def require_tool(name: str, install_hint: str) -> str:
    """The path of the executable `name` on PATH, or a skip naming it and `install_hint`."""
    # Also beside the interpreter: a virtualenv's tools (grpcurl) when it is not activated.
    path = shutil.which(name) or shutil.which(name, path=sysconfig.get_path("scripts"))
    if path is None:
        unavailable(name, install_hint)
    return path


def require_path(path: Path, install_hint: str) -> Path:
    """`path` (a file or directory some package provides), or a skip naming it and the hint."""
    if not path.exists():
        unavailable(str(path), install_hint)
    return path
