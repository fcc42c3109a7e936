"""Counts of requests that reached the emulated API, for tests that prove what went upstream.

Kept overall and per token, so tests sharing one emulator can each read their own app's numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class Tally:
    total: int = 0
    faulted: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "faulted": self.faulted,
            "by_method": dict(self.by_method),
            "by_status": dict(sorted(self.by_status.items())),
        }


class RequestRecord:
    """One request's entry in every tally it belongs to."""

    def __init__(self, tallies: list[Tally], method: str) -> None:
        self._tallies = tallies
        for tally in tallies:
            tally.total += 1
            tally.by_method[method] += 1

    def fault(self) -> None:
        for tally in self._tallies:
            tally.faulted += 1

    def answered(self, status: int | None) -> None:
        """``None`` is a dropped connection."""
        key = "dropped" if status is None else str(status)
        for tally in self._tallies:
            tally.by_status[key] += 1


class RequestStats:
    def __init__(self) -> None:
        self.overall = Tally()
        self._per_token: dict[str, Tally] = {}

    def request(self, method: str, token: str | None) -> RequestRecord:
        """Count a request; ``token`` should be well-formed (or None) to bound memory."""
        tallies = [self.overall]
        if token is not None:
            tallies.append(self._per_token.setdefault(token, Tally()))
        return RequestRecord(tallies, method)

    def for_token(self, token: str) -> Tally:
        return self._per_token.get(token, Tally())

    def reset(self, token: str | None = None) -> None:
        """Reset everything, or only one token's tally."""
        if token is None:
            self.overall = Tally()
            self._per_token.clear()
        else:
            self._per_token.pop(token, None)
