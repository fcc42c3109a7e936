"""The Dockerfile, checked statically with BuildKit's own parser (no docker daemon here): it is
multi-stage, runs as the chart's non-root user, and starts the sidecar the way the chart
expects. The image itself is not built by the test suite."""

from __future__ import annotations

import tomllib
from typing import Any

import dockerfile
import yaml

from tests.helpers import REPO

CHART = REPO / "helm" / "cryptopay-sidecar"


def commands() -> tuple[Any, ...]:
    return tuple(dockerfile.parse_file(str(REPO / "Dockerfile")))


def stages() -> list[list[Any]]:
    out: list[list[Any]] = []
    for command in commands():
        if command.cmd == "FROM":
            out.append([])
        if out:
            out[-1].append(command)
    return out


def values() -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_multi_stage_with_a_slim_runtime() -> None:
    build, runtime = stages()
    assert [v.lower() for v in build[0].value[1:]] == ["as", "build"]
    assert any(c.cmd == "RUN" and "pip install" in c.value[0] for c in build)
    # The runtime stage installs nothing: it copies the built environment only.
    assert not any(c.cmd == "RUN" and "pip" in c.value[0] for c in runtime)
    copies = [c for c in runtime if c.cmd == "COPY"]
    assert copies and all("--from=build" in c.flags for c in copies)
    assert not any(c.cmd == "ADD" for stage in (build, runtime) for c in stage)
    base = dict(c.value[0].split("=", 1) for c in commands() if c.cmd == "ARG")
    assert "slim" in base["PYTHON_IMAGE"]


def test_runs_as_the_charts_non_root_user() -> None:
    runtime = stages()[-1]
    (user,) = [c for c in runtime if c.cmd == "USER"]
    uid, _, gid = user.value[0].partition(":")
    assert int(uid) > 0 and int(gid) > 0
    chart = values()
    assert chart["securityContext"]["runAsUser"] == int(uid)
    assert chart["podSecurityContext"]["fsGroup"] == int(gid)
    # USER comes after everything that needs root.
    assert runtime.index(user) > max(i for i, c in enumerate(runtime) if c.cmd in ("RUN", "COPY"))


def test_entrypoint_and_ports_match_the_chart() -> None:
    runtime = stages()[-1]
    (entrypoint,) = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    assert entrypoint.json
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert entrypoint.value == (next(iter(pyproject["project"]["scripts"])),)
    (cmd,) = [c for c in runtime if c.cmd == "CMD"]
    ports = values()["ports"]
    assert cmd.value[0] == "serve"
    assert f"0.0.0.0:{ports['grpc']}" in cmd.value and f"0.0.0.0:{ports['http']}" in cmd.value
    (expose,) = [c for c in runtime if c.cmd == "EXPOSE"]
    assert set(expose.value) == {str(ports["grpc"]), str(ports["http"])}
    env = " ".join(c.original for c in runtime if c.cmd == "ENV")
    # A read-only root filesystem: nothing may try to write bytecode at run time.
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_image_version_follows_the_project() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["appVersion"] == pyproject["project"]["version"] == values()["image"]["tag"]


def test_build_context_is_small() -> None:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "everything is excluded first"
    included = {line[1:].rstrip("/") for line in patterns if line.startswith("!")}
    assert included == {"pyproject.toml", "README.md", "sidecar"}
