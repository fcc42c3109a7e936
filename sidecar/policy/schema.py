"""The JSON Schema of policy files, built from the method table and the section registry.

`policies/schema.json` is this schema, written by `cryptopay-sidecar policy schema` (a test keeps
it fresh), so editors can complete and check policy files. The linter validates with the same
schema and then runs the semantic checks the schema cannot express.
"""

from __future__ import annotations

import json
from typing import Any

from sidecar.duration import SCHEMA as DURATION
from sidecar.methods import METHODS
from sidecar.policy import sections

# "(?![\s\S])" ends the string for ECMA-262 and Python alike ("$" allows a final newline).
AMOUNT_PATTERN = r"^[0-9]{1,20}(\.[0-9]{1,18})?(?![\s\S])"
CODE_PATTERN = r"^[A-Z0-9]{1,32}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
CALLER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
HEADER_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,127}$"
HOST_PATTERN = r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
# A SPIFFE id (spiffe://trust-domain/path) and a DNS name as certificates carry them; a
# certificate name is matched whole and exactly, never as a prefix or a wildcard.
SPIFFE_PATTERN = r"^spiffe://[a-z0-9._-]{1,255}(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$"
DNS_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
WINDOW_PATTERN = r"^(rolling_[1-9][0-9]{0,3}[hd]|calendar_day)$"
# http(s), a host, no user:password@ (it would end up wherever URLs are shown).
RELAY_URL_PATTERN = r"^https?://[^\s/?#@]+([/?#]\S*)?$"
MAX_RELAY_TIMEOUT = 300
MAX_EXPIRES_IN = 2_678_400
SPEND_RPCS = ("Transfer", "CreateCheck")


def _mode(what: str) -> dict[str, Any]:
    return {
        "enum": ["enforce", "audit", "off"],
        "description": f"enforcement of {what}: enforce (deny), audit (log what would be denied, "
        "allow it) or off (skip); inherited when absent",
    }


def _names(item: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": f"allowed and denied {what}; a deny always wins",
        "properties": {
            "allow": {
                "type": "array",
                "items": item,
                "uniqueItems": True,
                "description": f"only these {what} (absent: all)",
            },
            "deny": {"type": "array", "items": item, "uniqueItems": True},
            "mode": _mode(f"this {what} rule"),
        },
    }


def _rules() -> dict[str, Any]:
    """The rule set of one caller (or of the default caller)."""
    code = {"$ref": "#/$defs/code"}
    amount = {"$ref": "#/$defs/amount"}
    return {
        "rpcs": _names({"$ref": "#/$defs/rpc"}, "RPCs"),
        "assets": _names(code, "crypto assets"),
        "fiats": _names(code, "fiat codes of fiat invoices"),
        "amounts": {
            "type": "object",
            "description": "per-transaction limits by asset or fiat code, as decimal strings",
            "propertyNames": code,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {"min": amount, "max": amount, "mode": _mode("this limit")},
            },
        },
        "spend_caps": {
            "type": "array",
            "description": "total amount per asset per window, shared by every replica",
            "items": {"$ref": "#/$defs/spend_cap"},
        },
        "invoices": {
            "type": "object",
            "additionalProperties": False,
            "description": "limits on CreateInvoice",
            "properties": {
                "max_expires_in": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_EXPIRES_IN,
                    "description": "seconds; invoices must set expires_in, at most this",
                },
                "paid_btn_url_hosts": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"type": "string", "pattern": HOST_PATTERN},
                    "description": "hosts paid_btn_url may point to (`*.example.com` matches "
                    "subdomains)",
                },
                "require_payload": {"type": "boolean"},
                "mode": _mode("the invoice limits"),
            },
        },
        "transfers": {
            "type": "object",
            "additionalProperties": False,
            "description": "limits on Transfer",
            "properties": {
                "recipients": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"type": "integer", "minimum": 1},
                    "description": "the only Telegram user ids that may receive transfers",
                },
                "require_comment": {"type": "boolean"},
                "mode": _mode("the transfer limits"),
            },
        },
        "checks": {
            "type": "object",
            "additionalProperties": False,
            "description": "limits on CreateCheck",
            "properties": {
                "require_pin": {
                    "type": "boolean",
                    "description": "checks must be pinned to a user (pin_to_user_id or "
                    "pin_to_username), so a leaked link is worthless",
                },
                "mode": _mode("the check limits"),
            },
        },
    }


def _rules_object(with_key: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"mode": _mode("this caller's rules"), **_rules()}
    properties["description"] = {"type": "string", "description": "free text for readers"}
    obj: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if with_key:
        properties["key_sha256"] = {
            "description": "SHA-256 (hex) of the caller's key; a list during a key rotation",
            "anyOf": [
                {"$ref": "#/$defs/sha256"},
                {
                    "type": "array",
                    "items": {"$ref": "#/$defs/sha256"},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ],
        }
        properties["token_sha256"] = {
            "description": "SHA-256 (hex) of the caller's Crypto-Pay-API-Token for the HTTP "
            "front (`policy new-token`); a list during a rotation",
            "anyOf": [
                {"$ref": "#/$defs/sha256"},
                {
                    "type": "array",
                    "items": {"$ref": "#/$defs/sha256"},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ],
        }
        properties["relay"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "description": "deliver every webhook event to the app's own handler, signed with "
            "this caller's token (the first token_sha256), so its SDK's verifier accepts it",
            "properties": {
                "url": {
                    "type": "string",
                    "pattern": RELAY_URL_PATTERN,
                    "description": "http:// or https:// URL of the handler, e.g. "
                    "http://127.0.0.1:9000/webhook",
                },
                "timeout": {
                    **DURATION,
                    "description": "per delivery attempt (default 10s, at most 5m)",
                },
                "description": {"type": "string"},
            },
        }
        properties["certificate"] = {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "description": "the names of the caller's client certificate (mTLS, "
            "--tls-client-ca): a call whose verified certificate carries one of them is this "
            "caller",
            "properties": {
                "spiffe_ids": {
                    "type": "array",
                    "items": {"type": "string", "pattern": SPIFFE_PATTERN},
                    "minItems": 1,
                    "uniqueItems": True,
                    "description": "URI SANs, e.g. spiffe://cluster.local/ns/shop/sa/checkout",
                },
                "dns_names": {
                    "type": "array",
                    "items": {"type": "string", "pattern": DNS_PATTERN},
                    "minItems": 1,
                    "uniqueItems": True,
                    "description": "DNS SANs, matched exactly (no wildcards)",
                },
            },
        }
        obj["anyOf"] = [
            {"required": ["key_sha256"]},
            {"required": ["token_sha256"]},
            {"required": ["certificate"]},
        ]
    return obj


def build() -> dict[str, Any]:
    registered = sections.registered()
    section_props = {
        name: {**section.schema, "description": section.description}
        if section.description and "description" not in section.schema
        else section.schema
        for name, section in sorted(registered.items())
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cryptopay-sidecar policy",
        "description": "Who may do what, with which money. See docs/policies.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": 1, "description": "format version; 1 is the only one"},
            "description": {"type": "string"},
            "mode": _mode("every rule (the policy-wide default)"),
            "identity": {
                "type": "object",
                "additionalProperties": False,
                "description": "how callers identify themselves (gRPC metadata, client "
                "certificates)",
                "properties": {
                    "required": {
                        "type": "boolean",
                        "description": "refuse calls that do not name a known caller with its "
                        "key (UNAUTHENTICATED); otherwise they run as the default caller",
                    },
                    "caller_header": {
                        "type": "string",
                        "pattern": HEADER_PATTERN,
                        "description": "metadata naming the caller (default x-cryptopay-caller)",
                    },
                    "key_header": {
                        "type": "string",
                        "pattern": HEADER_PATTERN,
                        "description": "metadata carrying the caller's key "
                        "(default x-cryptopay-caller-key)",
                    },
                    "mode": _mode("identity checks"),
                    "from": {
                        "enum": ["key", "certificate", "either"],
                        "description": "key (default): the caller and key metadata; "
                        "certificate: the verified client certificate only (mTLS); either: the "
                        "certificate when the call has one, else the key metadata",
                    },
                },
            },
            "defaults": {
                **_rules_object(with_key=False),
                "description": "rules of the default caller (the local application, calls "
                "that name no caller)",
            },
            "callers": {
                "type": "object",
                "description": "named callers, identified by metadata and a key",
                "propertyNames": {"pattern": CALLER_PATTERN, "not": {"const": "default"}},
                "additionalProperties": {"$ref": "#/$defs/caller"},
            },
            **section_props,
        },
        "$defs": {
            "amount": {
                "type": "string",
                "pattern": AMOUNT_PATTERN,
                "description": 'an exact decimal written as a string, e.g. "10.5"',
            },
            "code": {
                "type": "string",
                "pattern": CODE_PATTERN,
                "description": "an asset or fiat code in capitals, e.g. USDT",
            },
            "rpc": {"enum": [m.rpc for m in METHODS]},
            "sha256": {"type": "string", "pattern": SHA256_PATTERN},
            "caller": _rules_object(with_key=True),
            "spend_cap": {
                "type": "object",
                "additionalProperties": False,
                "required": ["asset", "max", "window"],
                "properties": {
                    "asset": {"$ref": "#/$defs/code"},
                    "max": {"$ref": "#/$defs/amount"},
                    "window": {
                        "type": "string",
                        "pattern": WINDOW_PATTERN,
                        "description": "rolling_24h (or rolling_<N>h / rolling_<N>d), or "
                        "calendar_day in time_zone",
                    },
                    "time_zone": {
                        "type": "string",
                        "description": "IANA zone of a calendar_day window (default UTC)",
                    },
                    "rpcs": {
                        "type": "array",
                        "uniqueItems": True,
                        "minItems": 1,
                        "items": {"enum": list(SPEND_RPCS)},
                        "description": "what counts (default: Transfer and CreateCheck)",
                    },
                    "on_store_error": {
                        "enum": ["deny", "allow"],
                        "description": "when Redis is unreachable: deny (default) or allow "
                        "without counting",
                    },
                    "mode": _mode("this cap"),
                    "description": {"type": "string"},
                },
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
