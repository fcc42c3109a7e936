"""Missing tools: a skip that names the tool and its install command, or a failure on CI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.tools import require_path, require_tool


def test_a_missing_tool_skips_naming_it_and_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_tool("no-such-tool-here", "apt-get install no-such-tool-here")
    assert "no-such-tool-here is missing" in str(skipped.value)
    assert "to run this test: apt-get install no-such-tool-here" in str(skipped.value)


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_on_ci_a_missing_tool_fails_instead(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as failed:
        require_tool("no-such-tool-here", "apt-get install no-such-tool-here")
    assert "no-such-tool-here is missing" in str(failed.value)
    with pytest.raises(pytest.fail.Exception):
        require_path(Path("/no/such/path"), "apt-get install something")


def test_a_present_tool_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    assert Path(require_tool(Path(sys.executable).name, "-")).is_file()
    assert require_path(tmp_path, "-") == tmp_path


def test_missing_paths_skip_off_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match=r"/no/such/path is missing"):
        require_path(Path("/no/such/path"), "apt-get install something")
