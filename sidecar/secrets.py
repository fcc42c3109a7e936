"""Secrets (the API token, caller keys) wrapped so they cannot leak through repr, str or logs."""

from __future__ import annotations

import hashlib


class Secret:
    """Holds a secret string; every textual rendering is redacted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def fingerprint(self) -> str:
        """A short, non-reversible id for logs ("which token is this?")."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:8]

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


# Every secret value the process knows (the API token, caller keys, Redis passwords). Logs,
# exported spans and /metrics are scrubbed of them as a second line of defence: secrets are
# already kept out of messages and attributes on purpose.
_registered: frozenset[str] = frozenset()
# The same, longest first: a secret that is part of another (a password inside a URL, a key that
# begins like another) must not be replaced first and leave the rest of the longer one behind.
_longest_first: tuple[str, ...] = ()


def register(value: str) -> None:
    """Marks a value as secret: it is replaced by *** wherever telemetry could show it."""
    global _registered, _longest_first
    if len(value) >= 4 and value not in _registered:
        _registered = _registered | {value}
        _longest_first = tuple(sorted(_registered, key=len, reverse=True))


def registered() -> frozenset[str]:
    return _registered


def scrub(text: str) -> str:
    """The text with every registered secret replaced by ***."""
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, "***")
    return text
