"""What is wrong with a policy, and where: the currency of the loader, the linter and the
section validators."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# A location inside the policy document: mapping keys and list indexes from the top.
Path = tuple[str | int, ...]


class Severity(enum.Enum):
    ERROR = "error"  # the sidecar refuses the policy
    WARNING = "warning"  # the policy loads, but probably does not say what its author meant


@dataclass(frozen=True, slots=True)
class Mark:
    """A position in a policy file (1-based, as editors count)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class LintError:
    """One problem. Section validators return these with a path relative to their section and
    no mark; the linter prefixes the section name and finds the mark."""

    path: Path
    message: str
    severity: Severity = Severity.ERROR
    mark: Mark | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.mark}: " if self.mark else ""
        at = f"{format_path(self.path)}: " if self.path else ""
        return f"{where}{self.severity.value}: {at}{self.message}"


def format_path(path: Path) -> str:
    """`callers.payouts.spend_caps[0].max`: the way the docs and messages name a field."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
