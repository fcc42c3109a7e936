"""The options table is the only source of the serve flags, their variables, defaults and docs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from sidecar import options
from sidecar.cli import build_parser
from sidecar.config import Settings, settings_from_args
from sidecar.options import ENV_PREFIX, OPTIONS, Option
from tests.helpers import new_token

ROOT = Path(__file__).resolve().parents[2]
# Client-side variables: the generated clients read it, the sidecar does not.
# What the clients read (the Python, Node and Go clients the same names), not the sidecar.
CLIENT_ENV = {
    "CRYPTOPAY_SIDECAR_TARGET",
    "CRYPTOPAY_SIDECAR_TLS",
    "CRYPTOPAY_SIDECAR_CA_FILE",
    "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE",
    "CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE",
    "CRYPTOPAY_SIDECAR_SERVER_NAME",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in OPTIONS:
        if option.env_name is not None:
            monkeypatch.delenv(option.env_name, raising=False)
    monkeypatch.setenv("CRYPTOPAY_API_TOKEN", new_token())
    monkeypatch.delenv("CRYPTOPAY_PREVIOUS_API_TOKEN", raising=False)


def field_of(settings: Settings, path: str) -> Any:
    value: Any = settings
    for name in path.split("."):
        value = getattr(value, name)
    return value


def dataclass_default(path: str) -> Any:
    owner: Any = Settings
    *parents, name = path.split(".")
    for parent in parents:
        owner = {f.name: f for f in dataclasses.fields(owner)}[parent].default_factory
    spec = {f.name: f for f in dataclasses.fields(owner)}[name]
    return spec.default


def parse(*flags: str) -> Settings:
    return settings_from_args(build_parser().parse_args(["serve", *flags]))


def sample(option: Option[Any]) -> str:
    """A value other than the default that every check accepts."""
    if option.choices:
        return next(c for c in option.choices if c != option.default)
    if option.parse is int:
        return str(int(option.default) * 2)
    if option.parse is float:
        return "7" if option.default in (0, 1) else str(option.default * 2)
    return "/sample"


def test_the_table_is_consistent() -> None:
    flags = [option.flag for option in OPTIONS]
    envs = [option.env for option in OPTIONS if option.env is not None]
    fields = [option.field for option in OPTIONS if option.field]
    assert len(set(flags)) == len(flags) and len(set(envs)) == len(envs)
    assert len(set(fields)) == len(fields)
    declared = [v for v in vars(options).values() if isinstance(v, Option)]
    assert len(declared) == len(OPTIONS), "every declared option is in OPTIONS"
    for option in OPTIONS:
        if option.check is not None:
            assert option.check(option.default), f"{option.flag}: its default fails its check"


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.field], ids=lambda o: o.flag)
def test_settings_defaults_come_from_the_table(option: Option[Any]) -> None:
    assert dataclass_default(option.field) == option.default
    assert field_of(parse(), option.field) == option.default


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.env], ids=lambda o: o.flag)
def test_each_variable_sets_its_option(
    option: Option[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert option.env_name is not None
    value = sample(option)
    monkeypatch.setenv(option.env_name, value)
    parsed = build_parser().parse_args(["serve"])
    if option.secret:
        assert getattr(parsed, option.dest) is None, "a secret's value is not in --help"
        settings = parse()
        assert settings.redis_url is not None and settings.redis_url.reveal() == value
        return
    assert getattr(parsed, option.dest) == option.parse(value)
    if option.field:
        assert field_of(parse(), option.field) == option.parse(value)


@pytest.mark.parametrize("option", [o for o in OPTIONS if not o.switch], ids=lambda o: o.flag)
def test_each_flag_sets_its_option(option: Option[Any]) -> None:
    value = sample(option)
    assert getattr(build_parser().parse_args(["serve", option.flag, value]), option.dest) == (
        option.parse(value)
    )


def test_help_names_every_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = re.sub(r"\s+", " ", capsys.readouterr().out)
    for option in OPTIONS:
        assert option.flag in text
        if option.env_name is not None:
            assert f"env {option.env_name}" in text


def shown(option: Option[Any]) -> str:
    if option.shown_default is not None:
        return option.shown_default
    if isinstance(option.default, float) and option.default.is_integer():
        return str(int(option.default))
    return str(option.default)


DOCS = ["README.md", "docs/webhooks.md", "docs/http-front.md"]


def table_rows() -> list[tuple[str, list[str]]]:
    rows = []
    for doc in DOCS:
        for line in (ROOT / doc).read_text(encoding="utf-8").splitlines():
            if line.startswith("| `--"):
                cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
                rows.append((f"{doc}: {line}", [c.strip() for c in cells]))
    return rows


BY_FLAG = {option.flag: option for option in OPTIONS}


def test_the_docs_flag_tables_match_the_table() -> None:
    documented: set[str] = set()
    for where, (flag_cell, env_cell, default_cell, *_rest) in table_rows():
        flags = [f for f in re.findall(r"`(--[a-z-]+(?:\.\.\.)?)`", flag_cell)]
        if flags == ["--webhook-..."]:
            continue  # a pointer to docs/webhooks.md, whose table lists them
        unknown = [f for f in flags if f not in BY_FLAG]
        assert not unknown, f"{where}: no such option {unknown}"
        rows = [BY_FLAG[f] for f in flags]
        documented.update(flags)
        envs = [
            e if e.startswith("CRYPTOPAY_SIDECAR_") else ENV_PREFIX + e.removeprefix("..._")
            for e in re.findall(r"`([A-Z_.]+)`", env_cell)
            # the token variables read beside a file flag
            if not (e.startswith("CRYPTOPAY_") and not e.startswith(ENV_PREFIX))
        ]
        if not envs:
            assert all(o.env is None for o in rows), f"{where}: the variable is missing"
        elif len(envs) == 1 and envs[0].endswith("..."):
            stem = envs[0].removesuffix("...")
            assert all((o.env_name or "").startswith(stem) for o in rows), where
        else:
            assert envs == [o.env_name for o in rows], where
        defaults = re.findall(r"`([^`]*)`", default_cell)
        if defaults:
            assert defaults == [shown(o) for o in rows], where
        else:
            assert all(o.default in (None, False) or o.shown_default is not None for o in rows), (
                f"{where}: the default is missing"
            )
    assert documented == set(BY_FLAG), f"undocumented: {sorted(set(BY_FLAG) - documented)}"


def test_every_variable_the_docs_and_chart_name_exists() -> None:
    known = {o.env_name for o in OPTIONS} | CLIENT_ENV
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "helm").rglob("*")]:
        if not path.is_file():
            continue
        for name in re.findall(r"CRYPTOPAY_SIDECAR_[A-Z_]*[A-Z]", path.read_text("utf-8")):
            # CRYPTOPAY_SIDECAR_HTTP_... in a table names a family, not a variable
            if name in known or any(k and k.startswith(name + "_") for k in known):
                continue
            pytest.fail(f"{path.relative_to(ROOT)}: {name} is not a sidecar variable")
