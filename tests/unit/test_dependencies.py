"""pyproject's runtime dependencies, docs/dependencies.md and the sidecar's imports agree: nothing
declared goes unused, nothing used goes undocumented."""

from __future__ import annotations

import ast
import re
import tomllib

from tests.helpers import REPO

TABLE = REPO / "docs" / "dependencies.md"
PREFIX = "opentelemetry-instrumentation-"


def declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0] for spec in project["dependencies"]}
    return {name.lower() for name in names}


def documented() -> dict[str, list[str]]:
    """dependency -> the modules it is imported as, from the table's first two columns."""
    rows: dict[str, list[str]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in {"dependency", "---"} or not line.startswith("|"):
            continue
        modules = re.findall(r"`([\w.]+)`", cells[1])
        names = [name.split(" ")[0] for name in cells[0].split(", ")]
        # "opentelemetry-instrumentation-grpc, -aiohttp-client": a shared prefix is written once.
        full = [PREFIX + n[1:] if n.startswith("-") else n for n in names]
        for name in full:
            rows[name.lower()] = modules
    return rows


def imported() -> set[str]:
    """Every module the sidecar imports anywhere, at the top or lazily inside a function."""
    modules: set[str] = set()
    for path in (REPO / "sidecar").rglob("*.py"):
        if "gen" in path.relative_to(REPO / "sidecar").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module)
    return modules


def test_every_runtime_dependency_is_documented_and_nothing_else() -> None:
    assert set(documented()) == declared()


def test_every_documented_module_is_imported_by_the_sidecar() -> None:
    used = imported()
    for dependency, modules in documented().items():
        for module in modules:
            assert any(m == module or m.startswith(module + ".") for m in used), (
                f"{dependency}: nothing in sidecar/ imports {module}; remove the dependency"
            )


def test_dependencies_without_an_import_say_why() -> None:
    text = TABLE.read_text(encoding="utf-8")
    implicit = [name for name, modules in documented().items() if not modules]
    assert sorted(implicit) == ["hiredis", "tzdata"]
    for name in implicit:
        (row,) = [line for line in text.splitlines() if line.startswith(f"| {name} |")]
        assert "(none: " in row
