"""The README's quickstart is true: its run command starts the sidecar and its snippet works."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys

from bench.sidecar_process import wait_serving
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def code_block_after(marker: str, language: str) -> str:
    match = re.search(re.escape(marker) + r".*?```" + language + r"\n(.*?)```", README, re.S)
    assert match, f"README has no {language} block after {marker!r}"
    return match.group(1)


def test_quickstart_commands_are_the_ones_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = code_block_after("Run the tests", "sh").strip()
    assert test_command == "pip install -e '.[dev]' && python -m pytest"
    assert "python3 -m pytest\n" in ci and "pip install -q -e '.[dev]'" in ci


def test_quickstart_run_command_and_snippet() -> None:
    run = code_block_after("Run the sidecar with the embedded emulator", "sh").strip()
    assert run == "cryptopay-sidecar serve --demo"
    proc = subprocess.Popen(
        shlex.split(run), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The README's own command, as typed: not a SidecarProcess, which adds its own flags.
        wait_serving(proc, 50051, output=lambda: proc.stderr.read() if proc.stderr else "")
        snippet = code_block_after("<!-- readme-snippet: create-invoice -->", "python")
        result = subprocess.run(
            [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        assert "invoice_id:" in result.stdout and 'amount: "10.5"' in result.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)  # and closes the pipes
    assert proc.returncode == 0
