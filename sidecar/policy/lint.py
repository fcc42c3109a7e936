"""Checks a policy document: schema, then meaning (pure).

Every problem names the file, line and column, the field (`callers.payouts.amounts.USDT.max`)
and what to do. Errors make the sidecar refuse the policy (at start, or keep the previous one on
a reload); warnings point at rules that probably do not say what their author meant.
"""

from __future__ import annotations

import difflib
import re
import urllib.parse
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from sidecar import decimals
from sidecar.duration import parse_duration
from sidecar.methods import METHODS
from sidecar.policy import schema as policy_schema
from sidecar.policy import sections
from sidecar.policy.loader import Document, YamlFloat
from sidecar.policy.model import DEFAULT_CALLER
from sidecar.policy.problems import LintError, Path, Severity

if TYPE_CHECKING:
    import jsonschema

RPC_NAMES = tuple(m.rpc for m in METHODS)
MAX_FRACTION_DIGITS = 18


@dataclass(frozen=True, slots=True)
class LintContext:
    """What the linter knows about the deployment. redis=None: unknown (lint in CI)."""

    redis: bool | None = None


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # slow to import and about 3 MB: only when a policy is checked

    schema = policy_schema.build()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def reset_cache() -> None:
    """Forget the compiled schema (after a section registers a new one)."""
    _validator.cache_clear()


def lint(document: Document, context: LintContext | None = None) -> list[LintError]:
    """Every problem of the document, errors first, in file order."""
    context = context or LintContext()
    problems = list(document.problems)
    data = document.data
    if data is None:
        if not problems:
            problems.append(LintError((), "the policy is empty: it needs at least `version: 1`"))
    elif not isinstance(data, dict):
        problems.append(LintError((), "a policy is a mapping of keys such as version and callers"))
    else:
        schema_problems = [_translate(e) for e in _validator().iter_errors(data)]
        problems.extend(p for group in schema_problems for p in group)
        problems.extend(semantic(data, context))
        problems.extend(_sections(data, {p.path[0] for p in problems if p.path}))
    located = [
        p if p.mark else replace(p, mark=document.mark(p.path, key=_points_at_key(data, p)))
        for p in problems
    ]
    unique = list(dict.fromkeys(located))
    return sorted(
        unique,
        key=lambda p: (
            not p.is_error,
            p.mark.file if p.mark else "",
            p.mark.line if p.mark else 0,
            p.mark.column if p.mark else 0,
        ),
    )


def errors(problems: list[LintError]) -> list[LintError]:
    return [p for p in problems if p.is_error]


def _points_at_key(data: Any, problem: LintError) -> bool:
    """Point at the key of a block (where a reader looks for it) or of an unknown field, at the
    value of a scalar."""
    if problem.message.startswith(("unknown field", "duplicate key")):
        return True
    value = data
    for part in problem.path:
        found, value = _child(value, part)
        if not found:
            return True  # a key that is wrong itself, or a missing field: its enclosing key
    return isinstance(value, dict | list)


def _child(value: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(value, dict) and part in value:
        return True, value[part]
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return True, value[part]
    return False, None


# --- schema errors, in words a policy author understands ---------------------------------------


def _translate(error: jsonschema.ValidationError) -> list[LintError]:
    path: Path = tuple(error.absolute_path)
    validator, instance = error.validator, error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    expected: Any = error.validator_value
    if validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: (-len(e.absolute_path), e.validator == "type"))
        return _translate(best)
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        extras = [k for k in instance if k not in known]
        return [
            LintError((*path, key), f"unknown field {key!r}{_did_you_mean(key, known)}")
            for key in extras
        ]
    if validator == "required":
        present: Any = instance
        missing = [k for k in expected if k not in present]
        return [LintError(path, f"missing required field {k!r}") for k in missing]
    if "propertyNames" in error.schema_path:
        # jsonschema reports the offending key as the instance, at the mapping's path.
        key = str(instance)
        if validator == "enum":
            known = [str(c) for c in expected]
            return [LintError((*path, key), f"unknown name {key!r}{_did_you_mean(key, known)}")]
        if path == ("callers",) or schema.get("pattern") == policy_schema.CODE_PATTERN:
            return [_property_name(path, key)]
        return [LintError((*path, key), f"{key!r} is not allowed here: {error.message}")]
    if _is_amount(schema):
        return [LintError(path, _amount_message(instance))]
    if validator == "enum":
        choices = list(expected)
        hint = _did_you_mean(str(instance), [str(c) for c in choices])
        return [LintError(path, f"{instance!r} is not one of {_choices(choices)}{hint}")]
    if validator == "const":
        return [LintError(path, f"must be {expected!r}, got {instance!r}")]
    if validator == "type":
        return [LintError(path, f"must be {_type_words(expected)}, got {_describe(instance)}")]
    if validator == "pattern":
        return [LintError(path, _pattern_message(path, instance, schema))]
    if validator == "uniqueItems":
        return [LintError(path, "lists every entry once; remove the duplicate")]
    if validator in ("minimum", "maximum", "minItems", "minProperties"):
        return [LintError(path, _bound_message(str(validator), expected, instance))]
    return [LintError(path, error.message)]


def _property_name(path: Path, key: str) -> LintError:
    if path == ("callers",) and key == DEFAULT_CALLER:
        return LintError(
            (*path, key),
            "caller 'default' is reserved for calls that name no caller: put its rules under "
            "the top-level `defaults`",
        )
    if path == ("callers",):
        return LintError(
            (*path, key),
            f"caller {key!r}: names are 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    hint = f" (write {key.upper()})" if re.match(policy_schema.CODE_PATTERN, key.upper()) else ""
    return LintError(
        (*path, key),
        f"{key!r} is not an asset or fiat code: capitals and digits, such as USDT{hint}",
    )


def _is_amount(schema: Mapping[str, Any]) -> bool:
    return schema.get("pattern") == policy_schema.AMOUNT_PATTERN


def _amount_message(value: Any) -> str:
    if isinstance(value, YamlFloat):
        return (
            f'write the amount as a quoted string, "{value.text}": unquoted, YAML reads '
            f"{value.text} as a binary floating-point number, which is not exact "
            "(0.1 + 0.2 != 0.3)"
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return f'write the amount as a quoted decimal string, "{value}"'
    if isinstance(value, str):
        if re.match(r"^[0-9]+\.[0-9]{19,}$", value):
            return f"{value!r} has more than {MAX_FRACTION_DIGITS} decimal places"
        return (
            f'{value!r} is not a plain decimal amount such as "10.5" (no sign, exponent or spaces)'
        )
    return f'must be a quoted decimal string such as "10.5", got {_describe(value)}'


def _pattern_message(path: Path, value: Any, schema: Mapping[str, Any]) -> str:
    pattern = schema.get("pattern")
    if pattern == policy_schema.CODE_PATTERN:
        return f"{value!r} is not an asset or fiat code: capitals and digits, such as USDT"
    if pattern == policy_schema.SHA256_PATTERN:
        return (
            f"{str(value)[:16]!r}... is not a SHA-256 in lowercase hex (64 characters); compute "
            "it with `cryptopay-sidecar policy hash-key` (reads the key from stdin)"
        )
    if pattern == policy_schema.HEADER_PATTERN:
        return f"{value!r} is not a gRPC metadata name: lowercase letters, digits, '-', '_', '.'"
    if pattern == policy_schema.HOST_PATTERN:
        return (
            f"{value!r} is not a host name: write `shop.example.com` or `*.example.com` "
            "(lowercase, no scheme, port or path)"
        )
    if pattern == policy_schema.WINDOW_PATTERN:
        return (
            f"{value!r} is not a window: rolling_24h (rolling_<N>h, rolling_<N>d) or calendar_day"
        )
    if pattern == policy_schema.RELAY_URL_PATTERN:
        return (
            f"{value!r} is not a relay URL: write http://host:port/path or https://..., "
            "without user:password@"
        )
    if pattern == r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$":
        return f"{value!r} is not a duration: write seconds, or a number with ms, s, m, h or d"
    return f"{value!r} does not match {pattern}"


def _bound_message(validator: str, bound: Any, value: Any) -> str:
    if validator == "minimum":
        return f"must be at least {bound}, got {value!r}"
    if validator == "maximum":
        extra = " (31 days, the API's limit)" if bound == policy_schema.MAX_EXPIRES_IN else ""
        return f"must be at most {bound}{extra}, got {value!r}"
    if validator == "minItems":
        return "must not be empty"
    return "must not be empty: set at least one field"


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "boolean": "true or false",
        "number": "a number",
        "null": "empty",
    }
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _describe(value: Any) -> str:
    if isinstance(value, YamlFloat):
        return f"the number {value.text}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


def _choices(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _did_you_mean(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if value.lower() in lowered:
            close = [lowered[value.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- meaning -------------------------------------------------------------------------------------


def semantic(data: Mapping[str, Any], context: LintContext) -> list[LintError]:
    """Checks the schema cannot express. Defensive: runs on documents with schema errors too."""
    out: list[LintError] = []
    identity = _mapping(data.get("identity"))
    callers = _mapping(data.get("callers"))
    if identity.get("caller_header") is not None and identity.get("caller_header") == identity.get(
        "key_header"
    ):
        out.append(
            LintError(
                ("identity", "key_header"),
                "caller_header and key_header must be different metadata names",
            )
        )
    for name in ("caller_header", "key_header"):
        header = identity.get(name)
        if isinstance(header, str) and (header.endswith("-bin") or header.startswith("grpc-")):
            out.append(
                LintError(
                    ("identity", name),
                    f"{header!r} cannot carry text: gRPC reserves the grpc- prefix and the -bin "
                    "suffix",
                )
            )
    if identity.get("required") is True and not callers:
        out.append(
            LintError(
                ("identity", "required"),
                "identity is required but no callers are defined: every call would be refused",
            )
        )
    if identity.get("required") is not True and "defaults" not in data and callers:
        out.append(
            LintError(
                ("callers",),
                "calls that name no caller run as the default caller, and `defaults` is absent, "
                "so they may do anything: add `defaults` (rpcs: {allow: []} to deny them all) or "
                "set identity.required: true",
                Severity.WARNING,
            )
        )
    for field, what in (("key_sha256", "key"), ("token_sha256", "token")):
        seen_keys: dict[str, str] = {}
        for name, rules in callers.items():
            if not isinstance(rules, Mapping):
                continue
            for i, digest in enumerate(_keys(rules.get(field))):
                if digest in seen_keys:
                    out.append(
                        LintError(
                            (
                                "callers",
                                name,
                                field,
                                *((i,) if isinstance(rules.get(field), list) else ()),
                            ),
                            f"the same {what} is already the {what} of caller "
                            f"{seen_keys[digest]!r}; each caller needs its own {what}",
                        )
                    )
                seen_keys.setdefault(digest, name)
    out.extend(_certificate_findings(identity, callers))
    for name, rules in callers.items():
        if isinstance(rules, Mapping) and isinstance(rules.get("relay"), Mapping):
            out.extend(_relay(("callers", name, "relay"), rules))
    blocks: list[tuple[Path, Mapping[str, Any]]] = []
    if isinstance(data.get("defaults"), Mapping):
        blocks.append((("defaults",), data["defaults"]))
    blocks.extend(
        (("callers", name), rules) for name, rules in callers.items() if isinstance(rules, Mapping)
    )
    policy_mode = data.get("mode", "enforce")
    for path, rules in blocks:
        out.extend(_rules(path, rules, context, rules.get("mode", policy_mode)))
    return out


def _certificate_findings(
    identity: Mapping[str, Any], callers: Mapping[str, Any]
) -> Iterator[LintError]:
    source = identity.get("from", "key")
    seen: dict[str, str] = {}
    with_certificate = []
    for name, rules in callers.items():
        certificate = _mapping(_mapping(rules).get("certificate"))
        if certificate:
            with_certificate.append(name)
        for field in ("spiffe_ids", "dns_names"):
            for i, value in enumerate(_strings(certificate.get(field))):
                seen_as = value.lower() if field == "dns_names" else value
                if seen_as in seen:
                    yield LintError(
                        ("callers", name, "certificate", field, i),
                        f"{value!r} already names caller {seen[seen_as]!r}: a certificate name "
                        "identifies one caller",
                    )
                seen.setdefault(seen_as, name)
    if source == "key" and with_certificate:
        yield LintError(
            ("identity",),
            "identity.from is key (the default): calls are identified by their key metadata, "
            f"and {', '.join(map(repr, with_certificate))} can only be used with its "
            "certificate; set identity.from: either (or certificate) to identify callers by "
            "their certificates",
            Severity.WARNING,
        )
    if source == "certificate":
        for name, rules in callers.items():
            if isinstance(rules, Mapping) and not rules.get("certificate"):
                yield LintError(
                    ("callers", name),
                    "identity.from is certificate, and this caller has no certificate names: "
                    "no call can be this caller",
                    Severity.WARNING,
                )


def _rules(
    path: Path, rules: Mapping[str, Any], context: LintContext, mode: Any
) -> Iterator[LintError]:
    rpcs = _mapping(rules.get("rpcs"))
    assets = _mapping(rules.get("assets"))
    yield from _both_allowed_and_denied(path, rules)
    allowed_rpcs = _allowed(rpcs, mode)
    allowed_assets = _allowed(assets, mode)
    yield from _amounts(path, rules, assets)
    caps = rules.get("spend_caps")
    if isinstance(caps, list):
        seen: dict[tuple[Any, ...], int] = {}
        for i, cap in enumerate(caps):
            if isinstance(cap, Mapping):
                yield from _spend_cap(
                    (*path, "spend_caps", i),
                    i,
                    cap,
                    seen,
                    context,
                    mode,
                    denied_assets=_strings(assets.get("deny")),
                    allowed_assets=allowed_assets,
                    allowed_rpcs=allowed_rpcs,
                )
    for block_name, rpc in (
        ("invoices", "CreateInvoice"),
        ("transfers", "Transfer"),
        ("checks", "CreateCheck"),
    ):
        if block_name in rules and allowed_rpcs is not None and rpc not in allowed_rpcs:
            yield LintError(
                (*path, block_name),
                f"this caller may not call {rpc}, so these limits never apply",
                Severity.WARNING,
            )
    invoices = _mapping(rules.get("invoices"))
    if invoices.get("paid_btn_url_hosts") == []:
        yield LintError(
            (*path, "invoices", "paid_btn_url_hosts"),
            "an empty host list forbids paid_btn_url on every invoice; say so on purpose by "
            "removing paid buttons from the caller, or list the hosts",
            Severity.WARNING,
        )
    transfers = _mapping(rules.get("transfers"))
    if transfers.get("recipients") == []:
        yield LintError(
            (*path, "transfers", "recipients"),
            "an empty recipient list denies every transfer; deny the Transfer RPC instead",
        )


def _both_allowed_and_denied(path: Path, rules: Mapping[str, Any]) -> Iterator[LintError]:
    for what in ("rpcs", "assets", "fiats"):
        block = _mapping(rules.get(what))
        both = sorted(set(_strings(block.get("allow"))) & set(_strings(block.get("deny"))))
        for name in both:
            index = _strings(block.get("deny")).index(name)
            yield LintError(
                (*path, what, "deny", index),
                f"{name} is both allowed and denied; deny wins, so remove it from one list",
            )


def _amounts(
    path: Path, rules: Mapping[str, Any], assets: Mapping[str, Any]
) -> Iterator[LintError]:
    for code, limit in _mapping(rules.get("amounts")).items():
        limit = _mapping(limit)
        low, high = _decimal(limit.get("min")), _decimal(limit.get("max"))
        if low is not None and high is not None and low > high:
            yield LintError(
                (*path, "amounts", code, "min"),
                f"min {low} is above max {high}: no amount could pass",
            )
        if high is not None and high == 0:
            yield LintError(
                (*path, "amounts", code, "max"), "max 0 denies every amount; deny the asset instead"
            )
        if code in _strings(assets.get("deny")):
            yield LintError(
                (*path, "amounts", code),
                f"{code} is denied by assets.deny, so this limit never applies",
                Severity.WARNING,
            )


def _spend_cap(
    here: Path,
    i: int,
    cap: Mapping[str, Any],
    seen: dict[tuple[Any, ...], int],
    context: LintContext,
    mode: Any,
    *,
    denied_assets: list[str],
    allowed_assets: set[str] | None,
    allowed_rpcs: set[str] | None,
) -> Iterator[LintError]:
    """One spend cap; `seen` collects the caps before it, to find duplicates."""
    window, zone = cap.get("window"), cap.get("time_zone")
    if zone is not None:
        if window != "calendar_day":
            yield LintError(
                (*here, "time_zone"),
                "time_zone only applies to window: calendar_day (a rolling window has "
                "no day boundaries)",
            )
        elif not _valid_zone(zone):
            yield LintError(
                (*here, "time_zone"),
                f"{zone!r} is not an IANA time zone such as Europe/Berlin or UTC",
            )
    high = _decimal(cap.get("max"))
    if high is not None and high == 0:
        yield LintError((*here, "max"), "a cap of 0 denies every payment; deny the RPC instead")
    key = (
        cap.get("asset"),
        window,
        zone if window == "calendar_day" else None,
        tuple(sorted(_strings(cap.get("rpcs")))),
    )
    if key in seen:
        yield LintError(
            here,
            f"the same cap as spend_caps[{seen[key]}] (asset, window and rpcs): they "
            "would share one counter; keep one",
        )
    seen.setdefault(key, i)
    asset = cap.get("asset")
    if isinstance(asset, str) and (
        asset in denied_assets or (allowed_assets is not None and asset not in allowed_assets)
    ):
        yield LintError(
            (*here, "asset"),
            f"{asset} is not an allowed asset for this caller, so this cap never applies",
            Severity.WARNING,
        )
    counted = _strings(cap.get("rpcs")) or ["Transfer", "CreateCheck"]
    if allowed_rpcs is not None and not any(r in allowed_rpcs for r in counted):
        yield LintError(
            here,
            f"this caller may not call {' or '.join(counted)}, so this cap never applies",
            Severity.WARNING,
        )
    if cap.get("mode", mode) != "off":
        if context.redis is False:
            yield LintError(
                here,
                "spend caps need Redis (--redis-url) so every replica counts against the "
                "same total; without it the sidecar refuses this policy (except --demo)",
            )
        elif context.redis is None:
            yield LintError(
                here,
                "spend caps need Redis: the sidecar refuses this policy without "
                "--redis-url (except in --demo mode)",
                Severity.WARNING,
            )


def _relay(path: Path, rules: Mapping[str, Any]) -> Iterator[LintError]:
    relay = rules["relay"]
    if not _keys(rules.get("token_sha256")):
        yield LintError(
            path,
            "the relay signs each webhook with the caller's token, and this caller has none: add "
            "its token_sha256 (`cryptopay-sidecar policy new-token CALLER`)",
        )
    url = relay.get("url")
    if isinstance(url, str) and re.match(policy_schema.RELAY_URL_PATTERN, url):
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            port, parts = None, None
        if parts is None or not parts.hostname or (port is not None and not 0 < port < 65536):
            yield LintError((*path, "url"), f"{url!r} has no valid host and port")
    timeout = relay.get("timeout")
    if timeout is not None:
        try:
            seconds = parse_duration(timeout, "timeout")
        except ValueError:
            return  # the schema reported it
        if not 0 < seconds <= policy_schema.MAX_RELAY_TIMEOUT:
            yield LintError(
                (*path, "timeout"),
                f"must be more than 0 and at most {policy_schema.MAX_RELAY_TIMEOUT} seconds",
            )


def _sections(data: Mapping[str, Any], broken: set[str | int]) -> list[LintError]:
    out: list[LintError] = []
    for name, section in sections.registered().items():
        if name not in data or name in broken or section.validate is None:
            continue
        try:
            found = [
                p if isinstance(p, LintError) else LintError(tuple(p.path), p.message)
                for p in section.validate(data[name])
            ]
        except Exception as exc:  # a validator bug must not hide the rest of the report
            found = [LintError((), f"the {name} validator failed: {exc!r}")]
        out.extend(replace(p, path=(name, *p.path)) for p in found)
    return out


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _allowed(block: Mapping[str, Any], mode: Any = "enforce") -> set[str] | None:
    allow = block.get("allow")
    if not isinstance(allow, list) or block.get("mode", mode) == "off":
        return None
    return set(_strings(allow)) - set(_strings(block.get("deny")))


def _keys(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return _strings(value)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, str) and decimals.is_plain(value):
        return Decimal(value)
    return None


def _valid_zone(zone: Any) -> bool:
    if not isinstance(zone, str) or not zone:
        return False
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
