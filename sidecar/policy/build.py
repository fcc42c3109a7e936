"""Turns a linted policy document into a snapshot (pure). Only called on documents without
lint errors, so it trusts the shapes the schema guarantees."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sidecar import decimals
from sidecar.config_section import SectionError
from sidecar.duration import parse_duration
from sidecar.policy import sections
from sidecar.policy.loader import Document
from sidecar.policy.model import (
    CALLER_HEADER,
    DEFAULT_CALLER,
    DEFAULT_RELAY_TIMEOUT,
    KEY_HEADER,
    AmountLimit,
    CallerRules,
    CheckRule,
    Identity,
    InvoiceRule,
    Mode,
    NameRule,
    PolicySnapshot,
    Relay,
    Source,
    SpendCap,
    TransferRule,
    Window,
    WindowKind,
    freeze,
)
from sidecar.policy.schema import SPEND_RPCS

_ROLLING = re.compile(r"^rolling_([0-9]+)([hd])$")


def snapshot(document: Document, source: str) -> PolicySnapshot:
    data: Mapping[str, Any] = document.data
    mode = Mode(data.get("mode", "enforce"))
    raw_identity = data.get("identity") or {}
    identity = Identity(
        required=bool(raw_identity.get("required", False)),
        caller_header=raw_identity.get("caller_header", CALLER_HEADER),
        key_header=raw_identity.get("key_header", KEY_HEADER),
        mode=Mode(raw_identity.get("mode", mode.value)),
        source=Source(raw_identity.get("from", Source.KEY.value)),
    )
    default = caller_rules(DEFAULT_CALLER, data.get("defaults") or {}, mode)
    callers = {
        name: caller_rules(name, rules, mode) for name, rules in (data.get("callers") or {}).items()
    }
    known = sections.registered()
    raw_sections = freeze({name: data[name] for name in known if name in data})
    return PolicySnapshot(
        mode=mode,
        identity=identity,
        default=default,
        callers=MappingProxyType(callers),
        sections=raw_sections,
        hash=document.hash,
        source=source,
        parsed=parse_sections(raw_sections),
    )


def parse_sections(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """Each section's typed value, by its owner's parser; SectionError for a value it refuses."""
    known = sections.registered()
    parsed = {}
    for name, value in raw.items():
        section = known.get(name)
        if section is None or section.parse is None:
            continue
        # The checks `policy lint` runs, so that a refusal here reads as lint's does.
        for problem in section.validate(value) if section.validate is not None else ():
            raise SectionError(name, tuple(problem.path), problem.message)
        parsed[name] = section.parse(value)
    return MappingProxyType(parsed)


def caller_rules(name: str, raw: Mapping[str, Any], policy_mode: Mode) -> CallerRules:
    mode = Mode(raw.get("mode", policy_mode.value))

    def rule_mode(block: Mapping[str, Any]) -> Mode:
        return Mode(block.get("mode", mode.value))

    def names(key: str) -> NameRule | None:
        block = raw.get(key)
        if block is None:
            return None
        allow = block.get("allow")
        return NameRule(
            allow=None if allow is None else frozenset(allow),
            deny=frozenset(block.get("deny", ())),
            mode=rule_mode(block),
        )

    keys = raw.get("key_sha256", ())
    tokens = raw.get("token_sha256", ())
    certificate = raw.get("certificate") or {}
    amounts = {
        code: AmountLimit(
            code,
            _amount(limit.get("min")),
            _amount(limit.get("max")),
            rule_mode(limit),
        )
        for code, limit in (raw.get("amounts") or {}).items()
    }
    caps = tuple(
        SpendCap(
            index=i,
            asset=cap["asset"],
            max=decimals.parse(cap["max"]),
            window=window(cap["window"], cap.get("time_zone", "UTC")),
            rpcs=frozenset(cap.get("rpcs", SPEND_RPCS)),
            mode=rule_mode(cap),
            fail_open=cap.get("on_store_error", "deny") == "allow",
        )
        for i, cap in enumerate(raw.get("spend_caps") or ())
    )
    invoices = raw.get("invoices")
    transfers = raw.get("transfers")
    checks = raw.get("checks")
    relay = raw.get("relay")
    return CallerRules(
        name=name,
        key_sha256=(keys,) if isinstance(keys, str) else tuple(keys),
        token_sha256=(tokens,) if isinstance(tokens, str) else tuple(tokens),
        spiffe_ids=tuple(certificate.get("spiffe_ids", ())),
        dns_names=tuple(certificate.get("dns_names", ())),
        rpcs=names("rpcs"),
        assets=names("assets"),
        fiats=names("fiats"),
        amounts=MappingProxyType(amounts),
        spend_caps=caps,
        invoices=None
        if invoices is None
        else InvoiceRule(
            max_expires_in=invoices.get("max_expires_in"),
            paid_btn_url_hosts=None
            if invoices.get("paid_btn_url_hosts") is None
            else tuple(invoices["paid_btn_url_hosts"]),
            require_payload=bool(invoices.get("require_payload", False)),
            mode=rule_mode(invoices),
        ),
        transfers=None
        if transfers is None
        else TransferRule(
            recipients=None
            if transfers.get("recipients") is None
            else frozenset(transfers["recipients"]),
            require_comment=bool(transfers.get("require_comment", False)),
            mode=rule_mode(transfers),
        ),
        checks=None
        if checks is None
        else CheckRule(require_pin=bool(checks.get("require_pin", False)), mode=rule_mode(checks)),
        relay=None
        if relay is None
        else Relay(
            url=relay["url"],
            timeout=parse_duration(relay.get("timeout", DEFAULT_RELAY_TIMEOUT), "relay.timeout"),
        ),
    )


def window(text: str, time_zone: str = "UTC") -> Window:
    if text == "calendar_day":
        return Window(WindowKind.CALENDAR_DAY, time_zone=time_zone)
    match = _ROLLING.match(text)
    if match is None:
        raise ValueError(f"not a window: {text!r}")
    count, unit = int(match.group(1)), match.group(2)
    return Window(WindowKind.ROLLING, seconds=count * (86_400 if unit == "d" else 3_600))


def _amount(value: str | None) -> Decimal | None:
    return None if value is None else decimals.parse(value)
