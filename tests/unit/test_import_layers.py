"""The import graph stays as docs/architecture.md draws it: pure cores load no I/O library when
imported (package __init__ files included, which the layer contracts cannot see) and no module
of sidecar imports itself back through others."""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

HEAVY = ("grpc", "aiohttp", "opentelemetry", "redis")

PURE = (
    "sidecar.ratelimit.gcra",
    "sidecar.ratelimit.plan",
    "sidecar.ratelimit.config",
    "sidecar.policy.evaluate",
    "sidecar.policy.identity",
    "sidecar.idempotency.fingerprint",
    "sidecar.retry.settings",
    "sidecar.spend.window",
    "sidecar.store_base",
    "sidecar.cache.config",
    "sidecar.validation",
    "sidecar.mapping",
    "sidecar.webhooks.verify",
)


@pytest.mark.parametrize("module", PURE)
def test_importing_a_pure_core_loads_no_io_library(module: str) -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(' '.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    heavy = sorted({name for name in loaded if name.split(".")[0] in HEAVY})
    assert heavy == [], f"{module} loads {heavy[:5]}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_sidecar_is_part_of_an_import_cycle() -> None:
    # Function-level imports count too: a cycle hidden in a function is still a cycle.
    assert _cycles(grimp.build_graph("sidecar", cache_dir=None)) == []


def test_a_cycle_is_found() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycles(graph) == [["a.b", "a.c"]]
