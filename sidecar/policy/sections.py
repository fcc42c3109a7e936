"""Sections of the policy file owned by other parts of the sidecar (`rate_limits`, `retries`,
`idempotency`, `cache`).

The policy loader accepts and keeps them: each is a mapping in the schema, exposed raw (deeply
frozen: Mapping and tuple) as `snapshot.sections[name]`. The part that owns a section registers
a JSON Schema fragment and a validator here, and both join `policy lint`, the load-time checks
and `policies/schema.json` without changes to the policy package:

    from sidecar.policy import sections

    sections.register("rate_limits", validate=check_rate_limits, schema=RATE_LIMITS_SCHEMA)

A parser (`parse=`) turns the raw value into the section's typed settings, once, when the
policy is loaded (`snapshot.parsed[name]`); it raises SectionError for a value it refuses. A
validator takes the section's raw value and returns problems (LintErrors, or anything with a
`path` relative to the section, such as `("buckets", 0, "rate")`, and a `message`); the linter
adds the section name, file, line and column. It only runs when the section passes its schema.
Add the registering module to PROVIDERS so that it is imported before anything is checked, and
regenerate policies/schema.json (`cryptopay-sidecar policy schema > policies/schema.json`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class SectionProblem(Protocol):
    @property
    def path(self) -> tuple[str | int, ...]: ...

    @property
    def message(self) -> str: ...


Validator = Callable[[Any], Sequence[SectionProblem]]

# Modules that call register() when imported.
PROVIDERS: tuple[str, ...] = (
    "sidecar.retry.settings",
    "sidecar.idempotency.settings",
    "sidecar.cache.config",
    "sidecar.ratelimit.config",
)

KNOWN = ("rate_limits", "retries", "idempotency", "cache")


@dataclass(frozen=True)
class Section:
    name: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    validate: Validator | None = None
    description: str = ""
    # The typed value of the section, made once when the policy is loaded (snapshot.parsed).
    parse: Callable[[Any], Any] | None = None


_registry: dict[str, Section] = {
    name: Section(name, description=f"settings of the {name.replace('_', ' ')} step")
    for name in KNOWN
}
_providers_loaded = False


def register(
    name: str,
    *,
    validate: Validator | None = None,
    schema: dict[str, Any] | None = None,
    description: str | None = None,
    parse: Callable[[Any], Any] | None = None,
) -> None:
    """Declares (or refines) a top-level section of the policy file."""
    previous = _registry.get(name)
    _registry[name] = Section(
        name,
        schema if schema is not None else (previous.schema if previous else {"type": "object"}),
        validate if validate is not None else (previous.validate if previous else None),
        description or (previous.description if previous else ""),
        parse if parse is not None else (previous.parse if previous else None),
    )


def registered() -> dict[str, Section]:
    """Every section, after importing the modules that register them."""
    global _providers_loaded
    if not _providers_loaded:
        _providers_loaded = True
        for module in PROVIDERS:
            importlib.import_module(module)
    return dict(_registry)
