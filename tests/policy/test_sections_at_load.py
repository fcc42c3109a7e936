"""A policy section is parsed once, at load: a value its parser refuses fails the load and
`policy lint` with the same message at the same position, and never reaches a step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sidecar.config_section import SectionError
from sidecar.policy import build
from sidecar.policy.lint import errors, lint
from sidecar.policy.loader import read
from sidecar.policy.reload import load
from sidecar.retry.settings import RetriesConfig

TYPOS = {
    "retries": ("retries:\n  backoff:\n    base: 2sec\n", ("retries", "backoff", "base"), 4),
    "rate_limits": ("rate_limits:\n  app:\n    rate: 10/sek\n", ("rate_limits", "app", "rate"), 4),
    "cache": (
        "cache:\n  methods:\n    GetMe:\n      ttl: 1fortnight\n",
        ("cache", "methods", "GetMe", "ttl"),
        5,
    ),
    "idempotency": ("idempotency:\n  require_key: sometimes\n", ("idempotency", "require_key"), 3),
}


@pytest.mark.parametrize("name", sorted(TYPOS))
def test_a_typo_fails_at_load_and_in_lint_alike(name: str, tmp_path: Path) -> None:
    text, where, line = TYPOS[name]
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\n" + text)
    linted = errors(lint(read(path)))
    loaded = load(path)
    assert loaded.snapshot is None, "a section its parser refuses is a load error"
    assert loaded.errors == linted
    [problem] = linted
    assert problem.path == where
    assert problem.mark is not None and problem.mark.line == line
    # The parser that makes the typed snapshot refuses the same value at the same place.
    with pytest.raises(SectionError) as info:
        build.parse_sections({name: read(path).data[name]})
    assert (info.value.section, *info.value.path) == where
    # `policy lint` prints what the load refused, where it did.
    cli = subprocess.run(
        [sys.executable, "-m", "sidecar", "policy", "lint", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode != 0
    assert str(problem) in cli.stdout


def test_the_snapshot_holds_each_section_typed(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nretries:\n  max_attempts: 2\n")
    loaded = load(path)
    assert loaded.snapshot is not None
    retries = loaded.snapshot.parsed["retries"]
    assert isinstance(retries, RetriesConfig) and retries.default.max_attempts == 2
