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


def thaw(value: Any) -> Any:
    """Plain dicts and lists from a (possibly frozen: Mapping and tuple) policy section, the
    types JSON Schema validators expect."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


class SectionError(ValueError):
    """A problem at `path` (relative to the section) of the policy section `section`."""

    def __init__(self, section: str, path: tuple[str | int, ...], message: str) -> None:
        self.section = section
        self.path = path
        self.message = message
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        super().__init__(f"{section}{where}: {message}")


def schema_errors(section: str, validator: Any, value: Any) -> list[SectionError]:
    """Every JSON Schema violation of `value`, in document order."""
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    return [SectionError(section, tuple(e.absolute_path), e.message) for e in errors]
