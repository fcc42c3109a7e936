"""Reads one section of the policy snapshot attached to a call, parsed once per snapshot.

The policy step attaches a snapshot with `sections` (the raw top-level mappings of the policy
file). Steps parse their own section with a pure parser; this cache keeps the parsed value while
the snapshot's section object stays the same, so a reload takes effect on the next call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class SectionCache(Generic[T]):
    def __init__(self, name: str, parse: Callable[[Any], T], default: T) -> None:
        self._name = name
        self._parse = parse
        self.default = default
        self._last: tuple[Any, T] | None = None

    def get(self, policy: Any) -> T:
        """The parsed section of `policy` (a snapshot with `.sections`), or the default."""
        sections = getattr(policy, "sections", None)
        if not isinstance(sections, Mapping) or sections.get(self._name) is None:
            return self.default
        raw = sections[self._name]
        last = self._last
        if last is not None and last[0] is raw:
            return last[1]
        try:
            parsed = self._parse(raw)
        except ValueError as exc:
            # A linted policy never gets here; keep serving with the defaults rather than fail.
            log.error(
                "invalid policy section, using defaults",
                extra={"section": self._name, "error": str(exc)},
            )
            parsed = self.default
        self._last = (raw, parsed)
        return parsed
