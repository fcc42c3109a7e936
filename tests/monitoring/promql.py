"""A small PromQL tokenizer: which metrics (and which label matchers) an expression selects.

Not a parser: promtool checks syntax. This only has to tell metric names from everything else
that looks like an identifier: functions and aggregations (followed by `(` or by a grouping
clause), keywords, label names in `{...}` and in grouping lists, and durations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+)
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=@])
  | (?P<punct>[(){}\[\],:])
    """,
    re.VERBOSE,
)

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "atan2",
        "inf",
        "nan",
    }
)
AGGREGATIONS = frozenset(
    {
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "limitk",
        "limit_ratio",
    }
)
# Followed by a parenthesised list of label names, not by expressions.
_GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})


class PromQLError(ValueError):
    """The expression cannot be tokenized (an unknown character, unbalanced brackets)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Selector:
    """A metric selected by name, with its label matchers: (label, operator, value)."""

    name: str
    matchers: tuple[tuple[str, str, str], ...] = field(default=())


def tokenize(expr: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise PromQLError(f"unexpected {expr[position]!r} at {position} in {expr!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(Token(kind, match.group()))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    if text[0] == "`":
        return body
    return re.sub(r"\\(.)", r"\1", body)


def _matchers(tokens: list[Token], start: int) -> tuple[tuple[tuple[str, str, str], ...], int]:
    """Reads `{label op "value", ...}` from the `{` at `start`; returns the index after `}`."""
    out: list[tuple[str, str, str]] = []
    i = start + 1
    while i < len(tokens) and tokens[i].text != "}":
        if tokens[i].text == ",":
            i += 1
            continue
        if i + 2 >= len(tokens):
            raise PromQLError("unterminated label matchers")
        label, op, value = tokens[i : i + 3]
        if label.kind != "ident" or op.kind != "op" or value.kind != "string":
            raise PromQLError(f"bad label matcher near {label.text!r}")
        out.append((label.text, op.text, _unquote(value.text)))
        i += 3
    if i >= len(tokens):
        raise PromQLError("unterminated label matchers")
    return tuple(out), i + 1


def _skip_group(tokens: list[Token], start: int) -> int:
    """Skips the parenthesised label list of a grouping clause at `start` (if there is one)."""
    if start >= len(tokens) or tokens[start].text != "(":
        return start
    i = start
    while i < len(tokens) and tokens[i].text != ")":
        i += 1
    return i + 1


def selectors(expr: str) -> list[Selector]:
    """Every metric the expression selects, in order of appearance."""
    tokens = tokenize(expr)
    _check_balanced(tokens)
    found: list[Selector] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == "ident" and token.text in _GROUPING:
            i = _skip_group(tokens, i + 1)
            continue
        if token.text == "[":
            # A range or subquery: durations and a colon, nothing selected.
            while i < len(tokens) and tokens[i].text != "]":
                i += 1
            continue
        if token.text == "{":
            # A selector without a name: {__name__="metric", ...}
            matchers, i = _matchers(tokens, i)
            names = [v for label, op, v in matchers if label == "__name__" and op == "="]
            found.extend(Selector(name, matchers) for name in names)
            continue
        is_call = following is not None and following.text == "("
        if token.kind != "ident" or token.text in KEYWORDS or token.text in AGGREGATIONS or is_call:
            i += 1
            continue
        if following is not None and following.text == "{":
            matchers, i = _matchers(tokens, i + 1)
            found.append(Selector(token.text, matchers))
            continue
        found.append(Selector(token.text))
        i += 1
    return found


def metric_names(expr: str) -> set[str]:
    return {s.name for s in selectors(expr)}


def _check_balanced(tokens: list[Token]) -> None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.text in "([{":
            stack.append(token.text)
        elif token.text in pairs and (not stack or stack.pop() != pairs[token.text]):
            raise PromQLError(f"unbalanced {token.text!r}")
    if stack:
        raise PromQLError(f"unclosed {stack[-1]!r}")


HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def family_candidates(name: str) -> list[str]:
    """The metric families a series name may belong to: itself, and for histogram and summary
    series (`_bucket`, `_sum`, `_count`) and counters (`_total`, `_created`) their family."""
    out = [name]
    for suffix in (*HISTOGRAM_SUFFIXES, "_total", "_created", "_info"):
        if name.endswith(suffix):
            out.append(name[: -len(suffix)])
    return out
