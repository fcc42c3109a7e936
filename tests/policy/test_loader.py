"""Reading policy YAML: YAML 1.2 scalars, positions of keys and values, duplicates, directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sidecar.policy.loader import YamlFloat, content_hash, parse_text, read
from sidecar.policy.problems import Mark


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mode: off", "off"),  # YAML 1.1 would say False
        ("code: NO", "NO"),  # the Norway problem
        ("v: yes", "yes"),
        ("v: true", True),
        ("v: False", False),
        ("v: 1:30", "1:30"),  # YAML 1.1 sexagesimal: 90
        ("v: 010", "010"),  # YAML 1.1 octal: 8
        ("v: 42", 42),
        ("v: -7", -7),
        ("v: 2025-01-31", "2025-01-31"),  # no timestamps
        ("v: ~", None),
        ('v: "0.1"', "0.1"),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, expected: object) -> None:
    doc = parse_text(text, "p.yaml")
    assert not doc.problems
    value = next(iter(doc.data.values()))
    assert value == expected and type(value) is type(expected)


def test_floats_keep_their_text() -> None:
    value = parse_text("max: 0.10", "p.yaml").data["max"]
    assert isinstance(value, YamlFloat) and value.text == "0.10" and value == 0.1


def test_marks_of_keys_and_values() -> None:
    doc = parse_text(
        "version: 1\ncallers:\n  payouts:\n    rpcs:\n      allow: [GetMe, Transfer]\n", "p.yaml"
    )
    assert doc.mark(("callers", "payouts"), key=True) == Mark("p.yaml", 3, 3)
    assert doc.mark(("callers", "payouts", "rpcs", "allow", 1)) == Mark("p.yaml", 5, 22)
    # A missing field points at the closest enclosing value.
    assert doc.mark(("callers", "payouts", "rpcs", "deny")) == Mark("p.yaml", 5, 7)


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    doc = parse_text("version: 1\nmode: audit\nmode: enforce\n", "p.yaml")
    (problem,) = doc.problems
    assert problem.mark == Mark("p.yaml", 3, 1)
    assert "duplicate key 'mode'" in problem.message and "line 2" in problem.message


def test_merge_keys_can_be_overridden() -> None:
    text = "base: &b {mode: audit, rpcs: {allow: [GetMe]}}\nx:\n  <<: *b\n  mode: enforce\n"
    doc = parse_text(text, "p.yaml")
    assert not doc.problems
    assert doc.data["x"] == {"mode": "enforce", "rpcs": {"allow": ["GetMe"]}}


def test_syntax_errors_have_a_position() -> None:
    doc = parse_text("version: 1\ncallers: [\n", "p.yaml")
    (problem,) = doc.problems
    assert problem.message.startswith("invalid YAML") and problem.mark is not None
    assert problem.mark.line == 3


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)
    ]
    doc = parse_text("\n".join(lines), "p.yaml")
    assert doc.data is None and "too many values" in doc.problems[0].message


def test_hash_ignores_comments_order_and_quoting() -> None:
    a = parse_text("version: 1\nmode: audit  # trial\n", "a.yaml")
    b = parse_text("mode: 'audit'\nversion: 1\n", "b.yaml")
    c = parse_text("version: 1\nmode: enforce\n", "c.yaml")
    assert a.hash == b.hash != c.hash
    assert a.hash == content_hash({"version": 1, "mode": "audit"})


def test_directory_files_are_merged(tmp_path: Path) -> None:
    (tmp_path / "00-base.yaml").write_text("version: 1\nidentity: {required: true}\n")
    (tmp_path / "10-team.yml").write_text("version: 1\ncallers:\n  a: {key_sha256: x}\n")
    (tmp_path / "20-team.yaml").write_text("version: 1\ncallers:\n  b: {key_sha256: y}\n")
    (tmp_path / ".hidden.yaml").write_text("version: 2\n")
    (tmp_path / "notes.txt").write_text("not a policy")
    doc = read(tmp_path)
    assert not doc.problems
    assert doc.data == {
        "version": 1,
        "identity": {"required": True},
        "callers": {"a": {"key_sha256": "x"}, "b": {"key_sha256": "y"}},
    }
    assert doc.mark(("callers", "b"), key=True) == Mark(str(tmp_path / "20-team.yaml"), 3, 3)


def test_directory_conflicts(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\nmode: audit\ncallers:\n  x: {key_sha256: k}\n")
    (tmp_path / "b.yaml").write_text("mode: enforce\ncallers:\n  x: {key_sha256: j}\n")
    found = sorted(
        (p.mark.file.rsplit("/", 1)[1], p.mark.line, p.message)
        for p in read(tmp_path).problems
        if p.mark
    )
    assert [(f, line) for f, line, _ in found] == [("b.yaml", 1), ("b.yaml", 1), ("b.yaml", 3)]
    messages = " | ".join(m for _, _, m in found)
    assert "every file of a policy directory states its version" in messages
    assert "'mode' is already set at" in messages and "a.yaml:2:1" in messages
    assert "caller 'x' is already defined at" in messages and "a.yaml:4:3" in messages


def test_configmap_layout_is_read_through_symlinks(tmp_path: Path) -> None:
    version = tmp_path / "..2025_01_01_00_00_00.000000001"
    version.mkdir()
    (version / "policy.yaml").write_text("version: 1\nmode: audit\n")
    os.symlink(version.name, tmp_path / "..data")
    os.symlink("..data/policy.yaml", tmp_path / "policy.yaml")
    assert read(tmp_path).data == {"version": 1, "mode": "audit"}
    assert read(tmp_path / "policy.yaml").data == {"version": 1, "mode": "audit"}


def test_unreadable_and_empty_paths(tmp_path: Path) -> None:
    assert "cannot read" in read(tmp_path / "missing.yaml").problems[0].message
    assert "no *.yaml" in read(tmp_path).problems[0].message
