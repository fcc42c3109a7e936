"""Reads one section of the policy snapshot attached to a call, as parsed when it was loaded.

The policy loader parses every section with its owner's parser (registered in
sidecar/policy/sections.py) into `snapshot.parsed`; a section that does not parse is a load error,
so a step never parses a section itself and never falls back to defaults for a broken one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SectionSetting(Generic[T]):
    def __init__(self, name: str, default: T) -> None:
        self._name = name
        self.default = default

    def get(self, policy: Any) -> T:
        """The parsed section of `policy` (a snapshot with `.parsed`), or the default when the
        policy has no such section."""
        parsed = getattr(policy, "parsed", None)
        if not isinstance(parsed, Mapping) or self._name not in parsed:
            return self.default
        value: T = parsed[self._name]
        return value


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
