"""The exchange-rate table shared by every app (rates are global on the real service)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .catalog import ExchangeRate


class RateTable:
    def __init__(self, rates: Iterable[ExchangeRate]) -> None:
        self._rates: dict[tuple[str, str], ExchangeRate] = {}
        for rate in rates:
            self.upsert(rate)

    def upsert(self, rate: ExchangeRate) -> None:
        self._rates[(rate.source, rate.target)] = rate

    def get(self, source: str, target: str) -> ExchangeRate | None:
        return self._rates.get((source, target))

    def value(self, source: str, target: str) -> Decimal | None:
        """The rate even when marked invalid: payments must still settle in the emulator."""
        if source == target:
            return Decimal(1)
        found = self._rates.get((source, target))
        return found.rate if found else None

    def all(self) -> list[ExchangeRate]:
        return list(self._rates.values())
