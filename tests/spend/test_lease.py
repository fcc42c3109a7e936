"""Spend reservation leases: the arithmetic and the process option."""

from __future__ import annotations

import pytest

from sidecar.cli import build_parser
from sidecar.config import ConfigError, settings_from_args
from sidecar.policy.step import SPEND_LEASE, lease_margin
from sidecar.spend.store import lease_ms
from tests.helpers import new_token


def test_lease_in_milliseconds() -> None:
    assert lease_ms(0) == 0  # no lease
    assert lease_ms(900) == 900_000
    assert lease_ms(0.0001) == 1  # never rounded down to "no lease"
    with pytest.raises(ValueError):
        lease_ms(-1)


def test_a_call_ends_well_before_its_lease() -> None:
    assert lease_margin(SPEND_LEASE) == 60
    assert lease_margin(2) == 0.5
    assert all(0 < lease_margin(s) < s for s in (1, 6, 240, 900, 86_400))


def test_the_spend_lease_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", new_token())

    def settings(*flags: str) -> float:
        return settings_from_args(build_parser().parse_args(["serve", *flags])).spend_lease

    assert settings() == 900
    assert settings("--spend-lease", "30") == 30
    monkeypatch.setenv("CRYPTOPAY_SIDECAR_SPEND_LEASE", "120")
    assert settings() == 120
    for bad in ("0", "0.5", "-3", "nan", "inf"):
        with pytest.raises(ConfigError, match="--spend-lease"):
            settings("--spend-lease", bad)
