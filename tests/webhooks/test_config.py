"""Webhook flags: defaults, the previous token for rotations, and refusals of bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.cli import build_parser
from sidecar.config import ConfigError, Settings, settings_from_args
from sidecar.http_limits import HttpLimits
from tests.helpers import new_token


def settings(*flags: str) -> Settings:
    return settings_from_args(build_parser().parse_args(["serve", *flags]))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", new_token())
    monkeypatch.delenv("CRYPTOPAY_PREVIOUS_API_TOKEN", raising=False)
    webhooks = settings().webhooks
    assert webhooks.path == "/webhooks/cryptopay" and webhooks.previous_token is None
    assert webhooks.freshness == 86400 and webhooks.clock_skew == 300
    assert webhooks.dedupe_seconds == 86400 + 300
    assert webhooks.body_limit == 65536 and webhooks.retention == 100_000


def test_flags_and_previous_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current, previous = new_token(), new_token()
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", current)
    token_file = tmp_path / "previous"
    token_file.write_text(previous + "\n")
    webhooks = settings(
        "--webhook-path",
        "/hooks/Xy7",
        "--previous-token-file",
        str(token_file),
        "--webhook-freshness",
        "600",
        "--webhook-dedupe-ttl",
        "172800",
        "--webhook-visibility-timeout",
        "5",
    ).webhooks
    assert webhooks.path == "/hooks/Xy7"
    assert webhooks.previous_token is not None and webhooks.previous_token.reveal() == previous
    assert webhooks.freshness == 600 and webhooks.dedupe_seconds == 172800
    assert webhooks.visibility_timeout == 5
    monkeypatch.setenv("CRYPTOPAY_PREVIOUS_API_TOKEN", previous)
    from_env = settings().webhooks.previous_token
    assert from_env is not None and from_env.reveal() == previous


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--webhook-path", "hooks"], "--webhook-path"),
        (["--webhook-freshness", "0"], "--webhook-freshness"),
        (["--webhook-body-limit", "10"], "--webhook-body-limit"),
        (["--webhook-visibility-timeout", "0.5"], "--webhook-visibility-timeout"),
        (["--webhook-retention", "0"], "--webhook-retention"),
        (["--webhook-reconcile-grace", "-1"], "--webhook-reconcile-grace"),
        (["--previous-token-file", "/nonexistent/token"], "cannot read"),
    ],
)
def test_bad_values_are_refused(
    flags: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", new_token())
    with pytest.raises(ConfigError, match=message):
        settings(*flags)


def test_a_malformed_previous_token_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", new_token())
    monkeypatch.setenv("CRYPTOPAY_PREVIOUS_API_TOKEN", "typo-secret-123")
    with pytest.raises(ConfigError) as info:
        settings()
    assert "typo-secret-123" not in str(info.value)


def test_http_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", new_token())
    assert settings().http == HttpLimits(10.0, 10.0, 75.0, 1024)
    monkeypatch.setenv("CRYPTOPAY_SIDECAR_HTTP_IDLE_TIMEOUT", "30")
    limits = settings("--http-header-timeout", "2", "--http-body-timeout", "3").http
    assert limits == HttpLimits(2.0, 3.0, 30.0, 1024)
    assert settings("--http-max-connections", "10").http.max_connections == 10
    for flag, value in [("--http-header-timeout", "0"), ("--http-max-connections", "0")]:
        with pytest.raises(ConfigError, match=flag):
            settings(flag, value)
