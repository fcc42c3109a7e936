"""The loaded policy: an immutable snapshot of typed rules.

A snapshot is never changed after it is built; a reload builds a new one and swaps it in.
Each rule carries its resolved enforcement mode (the rule's own, else its caller's, else the
policy's), so evaluation never looks further than the rule in hand.
"""

from __future__ import annotations

import enum
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sidecar.policy.loader import content_hash

DEFAULT_CALLER = "default"
CALLER_HEADER = "x-cryptopay-caller"
KEY_HEADER = "x-cryptopay-caller-key"


class Source(enum.Enum):
    """Where a caller's identity comes from (identity.from)."""

    KEY = "key"  # metadata naming the caller, with its key
    CERTIFICATE = "certificate"  # the verified client certificate (mTLS)
    EITHER = "either"  # a certificate when the call has one, else the key headers


class Mode(enum.Enum):
    ENFORCE = "enforce"  # deny
    AUDIT = "audit"  # log and count what would be denied, allow it
    OFF = "off"  # do not evaluate


@dataclass(frozen=True, slots=True)
class NameRule:
    """Allow and deny lists (RPCs, assets or fiat codes); a deny always wins."""

    allow: frozenset[str] | None  # None: everything not denied
    deny: frozenset[str]
    mode: Mode

    def permits(self, name: str) -> bool:
        return name not in self.deny and (self.allow is None or name in self.allow)


@dataclass(frozen=True, slots=True)
class AmountLimit:
    code: str
    min: Decimal | None
    max: Decimal | None
    mode: Mode


class WindowKind(enum.Enum):
    ROLLING = "rolling"
    CALENDAR_DAY = "calendar_day"


@dataclass(frozen=True, slots=True)
class Window:
    kind: WindowKind
    seconds: int = 0  # rolling windows
    time_zone: str = "UTC"  # calendar days

    @property
    def label(self) -> str:
        if self.kind is WindowKind.ROLLING:
            hours = self.seconds // 3600
            return (
                f"rolling_{hours // 24}d" if hours % 24 == 0 and hours > 24 else f"rolling_{hours}h"
            )
        return f"calendar_day@{self.time_zone}"


@dataclass(frozen=True, slots=True)
class SpendCap:
    index: int  # position in the caller's spend_caps, to name the rule
    asset: str
    max: Decimal
    window: Window
    rpcs: frozenset[str]
    mode: Mode
    fail_open: bool  # on_store_error: allow

    @property
    def rule(self) -> str:
        return f"spend_caps[{self.index}]"


@dataclass(frozen=True, slots=True)
class InvoiceRule:
    max_expires_in: int | None
    paid_btn_url_hosts: tuple[str, ...] | None
    require_payload: bool
    mode: Mode


@dataclass(frozen=True, slots=True)
class TransferRule:
    recipients: frozenset[int] | None
    require_comment: bool
    mode: Mode


@dataclass(frozen=True, slots=True)
class CheckRule:
    require_pin: bool
    mode: Mode


@dataclass(frozen=True, slots=True)
class Relay:
    """Where the sidecar delivers the app's webhook events for a caller that keeps its SDK's
    webhook handler; each is signed with the caller's token (its first token_sha256)."""

    url: str
    timeout: float  # seconds per delivery attempt


DEFAULT_RELAY_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class CallerRules:
    name: str
    key_sha256: tuple[str, ...] = ()
    # SHA-256 of the caller's Crypto-Pay-API-Token for the HTTP front.
    token_sha256: tuple[str, ...] = ()
    # The client certificate names (URI SAN SPIFFE ids, DNS SANs) that identify this caller.
    spiffe_ids: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    rpcs: NameRule | None = None
    assets: NameRule | None = None
    fiats: NameRule | None = None
    amounts: Mapping[str, AmountLimit] = field(default_factory=lambda: MappingProxyType({}))
    spend_caps: tuple[SpendCap, ...] = ()
    invoices: InvoiceRule | None = None
    transfers: TransferRule | None = None
    checks: CheckRule | None = None
    relay: Relay | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    required: bool = False
    caller_header: str = CALLER_HEADER
    key_header: str = KEY_HEADER
    mode: Mode = Mode.ENFORCE
    source: Source = Source.KEY


@dataclass(frozen=True)
class PolicySnapshot:
    """One version of the policy, as every call that started under it sees it."""

    mode: Mode
    identity: Identity
    default: CallerRules
    callers: Mapping[str, CallerRules]
    # Raw (deeply frozen) settings of the other steps: rate_limits, retries, idempotency, cache.
    sections: Mapping[str, Any]
    hash: str  # sha256 of the canonical content (hex)
    source: str  # the path it was loaded from, or "permissive default"
    loaded_at: float = field(default_factory=time.time)  # epoch seconds
    permissive: bool = False
    # The typed value of each section, parsed once at load (sidecar/policy/sections.py).
    parsed: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    @property
    def has_spend_caps(self) -> bool:
        return any(rules.spend_caps for rules in (self.default, *self.callers.values()))

    @functools.cached_property
    def by_certificate(self) -> Mapping[str, str]:
        """Caller by certificate name: "spiffe://..." ids and "dns:<name>" entries."""
        names: dict[str, str] = {}
        for caller, rules in self.callers.items():
            for spiffe_id in rules.spiffe_ids:
                names.setdefault(spiffe_id, caller)
            for dns_name in rules.dns_names:
                names.setdefault("dns:" + dns_name.lower(), caller)
        return MappingProxyType(names)

    def rules_for(self, caller: str) -> CallerRules:
        return self.callers.get(caller, self.default)


def permissive() -> PolicySnapshot:
    """The policy without a policy file: every caller is the default caller and may call every
    RPC with any amount. For demos and local development only."""
    return PolicySnapshot(
        mode=Mode.ENFORCE,
        identity=Identity(),
        default=CallerRules(DEFAULT_CALLER),
        callers=MappingProxyType({}),
        sections=MappingProxyType({}),
        hash=content_hash({"version": 1}),
        source="permissive default",
        permissive=True,
    )


def freeze(value: Any) -> Any:
    """A deeply immutable copy of parsed YAML: mappings become read-only, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A mutable (dict/list) copy of a frozen section, for parsers written against yaml output."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value
