"""Reading policy YAML into plain data, remembering the line and column of every key and value.

The YAML is read with YAML 1.2 scalars, not PyYAML's YAML 1.1 defaults, because 1.1 turns
`mode: off` into False, the asset code `NO` into False and `1:30` into 90. Floats are kept with
their text so the linter can say why `max: 0.1` is refused. Duplicate keys are errors (PyYAML
silently keeps the last one).

A policy path is a file or a directory. A directory's `*.yaml` / `*.yml` files are merged in
name order (entries whose names start with a dot are skipped: Kubernetes ConfigMap volumes keep
their real files in `..data/` behind symlinks, and editors leave `.swp` files around).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sidecar.policy.problems import LintError, Mark, Path

POLICY_SUFFIXES = (".yaml", ".yml")
# Aliases can expand a small file into a huge tree ("billion laughs"): a policy reuses a block a
# few times, never thousands.
MAX_ALIAS_VALUES = 10_000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


class YamlFloat(float):
    """A YAML float, with the text it was written as (for error messages)."""

    text: str

    def __new__(cls, text: str) -> YamlFloat:
        value = super().__new__(cls, _float_value(text))
        value.text = text
        return value


def _float_value(text: str) -> float:
    lowered = text.replace("_", "").lower()
    if lowered.lstrip("+-") in (".inf",):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(lowered)


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and integers, and no timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in (_FLOAT, _NULL, _MERGE)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))


@dataclass(frozen=True)
class Document:
    """A policy as plain data (dicts, lists, str, int, bool, None, YamlFloat) with positions."""

    data: Any
    files: tuple[str, ...]
    value_marks: Mapping[Path, Mark] = field(default_factory=dict)
    key_marks: Mapping[Path, Mark] = field(default_factory=dict)
    problems: tuple[LintError, ...] = ()

    def mark(self, path: Path, *, key: bool = False) -> Mark | None:
        """Where the value at `path` is written (or its key, with key=True); for a path that
        does not exist (a missing field) the closest enclosing value."""
        probe = path
        while True:
            if key and probe in self.key_marks:
                return self.key_marks[probe]
            if probe in self.value_marks:
                return self.value_marks[probe]
            if not probe:
                return None
            probe = probe[:-1]

    @property
    def hash(self) -> str:
        return content_hash(self.data)


def content_hash(data: Any) -> str:
    """sha256 of the canonical JSON of the policy: comments, key order, quoting and file layout
    do not change it; any change of meaning does."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Builder:
    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.value_marks: dict[Path, Mark] = {}
        self.key_marks: dict[Path, Mark] = {}
        self.problems: list[LintError] = []
        self.seen: set[int] = set()
        self.repeated = 0

    def mark(self, node: Node) -> Mark:
        return Mark(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, path: Path, message: str, node: Node) -> None:
        self.problems.append(LintError(path, message, mark=self.mark(node)))

    def build(self, node: Node, path: Path, depth: int = 0) -> Any:
        if id(node) in self.seen:
            self.repeated += 1
            if self.repeated > MAX_ALIAS_VALUES:
                raise _TooLarge(self.mark(node))
        self.seen.add(id(node))
        if depth > 64:
            raise _TooLarge(self.mark(node))
        self.value_marks.setdefault(path, self.mark(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        explicit = len(node.value)
        try:
            self.loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            self.fail(path, f"bad merge (<<): {exc.problem}", node)
        merged = len(node.value) - explicit  # flatten_mapping puts merged pairs first
        out: dict[str, Any] = {}
        first_seen: dict[str, Mark] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            key = self._scalar(key_node, path) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.fail(path, "mapping keys must be plain strings", key_node)
                continue
            key_path = (*path, key)
            if index >= merged:
                if key in first_seen:
                    self.fail(
                        key_path,
                        f"duplicate key {key!r} (first at line {first_seen[key].line}); "
                        "YAML would silently keep only the last one",
                        key_node,
                    )
                    continue
                first_seen[key] = self.mark(key_node)
                # An explicit key overrides what a merge (<<) brought in.
                self.value_marks.pop(key_path, None)
                self.key_marks[key_path] = self.mark(key_node)
            else:
                self.key_marks.setdefault(key_path, self.mark(key_node))
            out[key] = self.build(value_node, key_path, depth + 1)
        return out

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        tag, text = node.tag, node.value
        if tag == _STR:
            return text
        if tag == _INT:
            try:
                return int(text)
            except ValueError:
                self.fail(path, f"{text!r} is not a decimal integer", node)
                return text
        if tag == _FLOAT:
            try:
                return YamlFloat(text)
            except ValueError:
                self.fail(path, f"{text!r} is not a number", node)
                return text
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _NULL:
            return None
        self.fail(path, f"unsupported YAML tag {tag!r}", node)
        return text


class _TooLarge(Exception):
    def __init__(self, mark: Mark) -> None:
        self.mark = mark


def parse_text(text: str, file: str) -> Document:
    """One YAML document from text; problems (syntax, duplicates) are reported, not raised."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(file, mark.line + 1, mark.column + 1) if mark else Mark(file, 1, 1)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        return Document(
            None, (file,), problems=(LintError((), f"invalid YAML: {problem}", mark=where),)
        )
    except yaml.YAMLError as exc:
        return Document(
            None, (file,), problems=(LintError((), f"invalid YAML: {exc}", mark=Mark(file, 1, 1)),)
        )
    finally:
        loader.dispose()
    if node is None:
        return Document(None, (file,))
    builder = _Builder(loader, file)
    try:
        data = builder.build(node, ())
    except _TooLarge as exc:
        return Document(
            None,
            (file,),
            problems=(
                LintError(
                    (),
                    "aliases expand the document to too many values (or nest too deeply)",
                    mark=exc.mark,
                ),
            ),
        )
    return Document(data, (file,), builder.value_marks, builder.key_marks, tuple(builder.problems))


def policy_files(path: FsPath) -> list[FsPath]:
    """The files a policy path stands for (raises OSError if it cannot be read)."""
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if not p.name.startswith(".") and p.suffix in POLICY_SUFFIXES and p.is_file()
        )
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return [path]


def read(path: str | FsPath) -> Document:
    """A policy file, or a directory of policy files merged into one document."""
    root = FsPath(path)
    try:
        files = policy_files(root)
        texts = [(str(f), f.read_text(encoding="utf-8")) for f in files]
    except (OSError, UnicodeDecodeError) as exc:
        return Document(
            None,
            (str(root),),
            problems=(LintError((), f"cannot read: {exc}", mark=Mark(str(root), 1, 1)),),
        )
    if not texts:
        return Document(
            None,
            (str(root),),
            problems=(
                LintError(
                    (),
                    "the directory holds no *.yaml or *.yml policy file",
                    mark=Mark(str(root), 1, 1),
                ),
            ),
        )
    return merge([parse_text(text, name) for name, text in texts])


def merge(documents: list[Document]) -> Document:
    """Merges the files of a policy directory: `callers` are joined (a caller is defined in one
    file only); every other top-level key may appear in one file only; each file states its
    `version`, and they must agree."""
    if len(documents) == 1:
        return documents[0]
    data: dict[str, Any] = {}
    value_marks: dict[Path, Mark] = {}
    key_marks: dict[Path, Mark] = {}
    problems: list[LintError] = []
    owner: dict[Path, Mark] = {}
    for doc in documents:
        problems.extend(doc.problems)
        # On a conflict the first file's entry wins, and so do its positions.
        for path, mark in doc.value_marks.items():
            value_marks.setdefault(path, mark)
        for path, mark in doc.key_marks.items():
            key_marks.setdefault(path, mark)
        if doc.data is None:
            continue
        file_mark = doc.mark(()) or Mark(doc.files[0], 1, 1)
        if not isinstance(doc.data, dict):
            problems.append(LintError((), "a policy file must be a mapping", mark=file_mark))
            continue
        if "version" not in doc.data:
            problems.append(
                LintError(
                    ("version",),
                    "every file of a policy directory states its version: add `version: 1`",
                    mark=file_mark,
                )
            )
        for key, value in doc.data.items():
            here = doc.mark((key,), key=True) or file_mark
            if key == "version":
                if "version" in data and data["version"] != value:
                    problems.append(
                        LintError(
                            ("version",),
                            f"version {value!r} differs from version {data['version']!r} "
                            f"at {owner[('version',)]}",
                            mark=here,
                        )
                    )
                else:
                    data.setdefault("version", value)
                    owner.setdefault(("version",), here)
                continue
            if key == "callers" and isinstance(value, dict):
                callers = data.setdefault("callers", {})
                if not isinstance(callers, dict):
                    continue
                for name, rules in value.items():
                    caller_mark = doc.mark((key, name), key=True) or here
                    if name in callers:
                        problems.append(
                            LintError(
                                ("callers", name),
                                f"caller {name!r} is already defined at {owner[('callers', name)]}",
                                mark=caller_mark,
                            )
                        )
                        continue
                    callers[name] = rules
                    owner[("callers", name)] = caller_mark
                continue
            if key in data:
                problems.append(
                    LintError(
                        (key,),
                        f"{key!r} is already set at {owner[(key,)]}; in a policy directory each "
                        "top-level key except `callers` belongs to one file",
                        mark=here,
                    )
                )
                continue
            data[key] = value
            owner[(key,)] = here
    files = tuple(f for doc in documents for f in doc.files)
    # The document's own root mark is the first file's.
    value_marks[()] = documents[0].mark(()) or Mark(files[0], 1, 1)
    return Document(data or None, files, value_marks, key_marks, tuple(problems))
