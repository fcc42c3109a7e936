"""`policy lint`: one case per class of problem, each with the line and column it points at."""

from __future__ import annotations

import textwrap

import pytest

from sidecar.policy.lint import LintContext, lint
from sidecar.policy.loader import parse_text
from sidecar.policy.problems import Severity

KEY = "a" * 64
KEY2 = "b" * 64
CAPS = "version: 1\ndefaults:\n  spend_caps:\n"


def problems(text: str, redis: bool | None = True) -> list[tuple[int, int, str, str, str]]:
    doc = parse_text(textwrap.dedent(text).lstrip("\n"), "p.yaml")
    out = []
    for p in lint(doc, LintContext(redis=redis)):
        assert p.mark is not None and p.mark.file == "p.yaml"
        dotted = ".".join(str(x) for x in p.path)
        out.append((p.mark.line, p.mark.column, p.severity.value, dotted, p.message))
    return out


# (case id, policy text, line, path, fragment of the message)
ERRORS = [
    ("yaml-syntax", "version: 1\ndefaults: {rpcs: [\n", 3, "", "invalid YAML"),
    ("duplicate-key", "version: 1\nmode: audit\nmode: off\n", 3, "mode", "duplicate key 'mode'"),
    ("missing-version", "mode: audit\n", 1, "", "missing required field 'version'"),
    ("wrong-version", "version: 2\n", 1, "version", "must be 1"),
    (
        "unknown-top-level",
        "version: 1\nrate_limit: {}\n",
        2,
        "rate_limit",
        "did you mean 'rate_limits'",
    ),
    (
        "unknown-field",
        "version: 1\ndefaults:\n  rpcs: {alow: [GetMe]}\n",
        3,
        "defaults.rpcs.alow",
        "did you mean 'allow'",
    ),
    ("bad-mode", "version: 1\nmode: enforcing\n", 2, "mode", "did you mean 'enforce'"),
    (
        "unknown-rpc",
        "version: 1\ndefaults:\n  rpcs:\n    allow: [GetMe, CreateInvoices]\n",
        4,
        "defaults.rpcs.allow.1",
        "did you mean 'CreateInvoice'",
    ),
    (
        "rpc-wrong-case",
        "version: 1\ndefaults:\n  rpcs: {deny: [transfer]}\n",
        3,
        "defaults.rpcs.deny.0",
        "did you mean 'Transfer'",
    ),
    (
        "float-amount",
        "version: 1\ndefaults:\n  amounts:\n    USDT: {max: 0.1}\n",
        4,
        "defaults.amounts.USDT.max",
        'quoted string, "0.1"',
    ),
    (
        "int-amount",
        "version: 1\ndefaults:\n  amounts:\n    USDT: {max: 100}\n",
        4,
        "defaults.amounts.USDT.max",
        'quoted decimal string, "100"',
    ),
    (
        "malformed-amount",
        "version: 1\ndefaults:\n  amounts:\n    USDT: {max: '-5'}\n",
        4,
        "defaults.amounts.USDT.max",
        "not a plain decimal",
    ),
    (
        "exponent-amount",
        "version: 1\ndefaults:\n  amounts:\n    USDT: {max: '1e3'}\n",
        4,
        "defaults.amounts.USDT.max",
        "not a plain decimal",
    ),
    *(
        (
            f"non-ascii-amount-{i}",
            f"version: 1\ndefaults:\n  amounts:\n    USDT: {{max: {text}}}\n",
            4,
            "defaults.amounts.USDT.max",
            "not a plain decimal",
        )
        # Full-width and Arabic-Indic digits, and a trailing newline in a quoted string.
        for i, text in enumerate(['"\uff11\uff10"', '"\u0661\u0660"', '"5\\n"'])
    ),
    *(
        (
            f"non-ascii-cap-{i}",
            f"version: 1\ndefaults:\n  spend_caps:\n    - {{asset: USDT, max: {text}, "
            "window: calendar_day}\n",
            4,
            "defaults.spend_caps.0.max",
            "not a plain decimal",
        )
        for i, text in enumerate(['"\u0661\u0660"', '"100\\n"'])
    ),
    (
        "too-fine-amount",
        "version: 1\ndefaults:\n  amounts:\n    USDT: {max: '0.0000000000000000001'}\n",
        4,
        "defaults.amounts.USDT.max",
        "more than 18 decimal places",
    ),
    (
        "lowercase-code",
        "version: 1\ndefaults:\n  amounts:\n    usdt: {max: '1'}\n",
        4,
        "defaults.amounts.usdt",
        "write USDT",
    ),
    (
        "bad-asset-code",
        "version: 1\ndefaults:\n  assets: {allow: [USDT, 'TON!']}\n",
        3,
        "defaults.assets.allow.1",
        "not an asset or fiat code",
    ),
    (
        "min-above-max",
        "version: 1\ndefaults:\n  amounts:\n    TON: {min: '10', max: '5'}\n",
        4,
        "defaults.amounts.TON.min",
        "min 10 is above max 5",
    ),
    (
        "rpc-allowed-and-denied",
        "version: 1\ndefaults:\n  rpcs:\n    allow: [GetMe, Transfer]\n    deny: [Transfer]\n",
        5,
        "defaults.rpcs.deny.0",
        "both allowed and denied",
    ),
    (
        "asset-allowed-and-denied",
        "version: 1\ndefaults:\n  assets:\n    allow: [USDT]\n    deny: [TON, USDT]\n",
        5,
        "defaults.assets.deny.1",
        "USDT is both allowed and denied",
    ),
    (
        "caps-without-redis",
        CAPS + "    - {asset: USDT, max: '10', window: rolling_24h}\n",
        4,
        "defaults.spend_caps.0",
        "spend caps need Redis",
    ),
    (
        "bad-window",
        CAPS + "    - {asset: USDT, max: '10', window: daily}\n",
        4,
        "defaults.spend_caps.0.window",
        "not a window",
    ),
    (
        "missing-cap-max",
        CAPS + "    - {asset: USDT, window: rolling_24h}\n",
        4,
        "defaults.spend_caps.0",
        "missing required field 'max'",
    ),
    (
        "time-zone-on-rolling",
        CAPS + "    - asset: USDT\n      max: '10'\n"
        "      window: rolling_24h\n      time_zone: UTC\n",
        7,
        "defaults.spend_caps.0.time_zone",
        "only applies to window: calendar_day",
    ),
    (
        "unknown-time-zone",
        CAPS + "    - asset: USDT\n      max: '10'\n"
        "      window: calendar_day\n      time_zone: Europe/Atlantis\n",
        7,
        "defaults.spend_caps.0.time_zone",
        "not an IANA time zone",
    ),
    (
        "duplicate-cap",
        CAPS + "    - {asset: USDT, max: '10', window: rolling_24h}\n"
        "    - {asset: USDT, max: '20', window: rolling_24h}\n",
        5,
        "defaults.spend_caps.1",
        "the same cap as spend_caps[0]",
    ),
    (
        "cap-rpc-not-spending",
        CAPS + "    - {asset: USDT, max: '10', window: rolling_24h,\n"
        "       rpcs: [CreateInvoice]}\n",
        5,
        "defaults.spend_caps.0.rpcs.0",
        "is not one of Transfer, CreateCheck",
    ),
    (
        "expires-in-above-api",
        "version: 1\ndefaults:\n  invoices: {max_expires_in: 9999999}\n",
        3,
        "defaults.invoices.max_expires_in",
        "at most 2678400",
    ),
    (
        "host-with-scheme",
        "version: 1\ndefaults:\n  invoices:\n    paid_btn_url_hosts: ['https://shop.example.com']\n",
        4,
        "defaults.invoices.paid_btn_url_hosts.0",
        "not a host name",
    ),
    (
        "empty-recipients",
        "version: 1\ndefaults:\n  transfers: {recipients: []}\n",
        3,
        "defaults.transfers.recipients",
        "denies every transfer",
    ),
    (
        "negative-recipient",
        "version: 1\ndefaults:\n  transfers: {recipients: [5, -1]}\n",
        3,
        "defaults.transfers.recipients.1",
        "at least 1",
    ),
    (
        "caller-named-default",
        f"version: 1\ncallers:\n  default: {{key_sha256: {KEY}}}\n",
        3,
        "callers.default",
        "reserved",
    ),
    (
        "bad-caller-name",
        f"version: 1\ncallers:\n  'pay outs': {{key_sha256: {KEY}}}\n",
        3,
        "callers.pay outs",
        "names are 1-64 letters",
    ),
    (
        "caller-without-key",
        "version: 1\ncallers:\n  payouts: {rpcs: {allow: [GetMe]}}\n",
        3,
        "callers.payouts",
        "missing required field 'key_sha256'",
    ),
    (
        "key-not-sha256",
        "version: 1\ncallers:\n  payouts: {key_sha256: my-secret-key}\n",
        3,
        "callers.payouts.key_sha256",
        "not a SHA-256",
    ),
    (
        "shared-key",
        f"version: 1\ncallers:\n  a: {{key_sha256: {KEY}}}\n  b: {{key_sha256: [{KEY2}, {KEY}]}}\n",
        4,
        "callers.b.key_sha256.1",
        "already the key of caller 'a'",
    ),
    (
        "identity-without-callers",
        "version: 1\nidentity:\n  required: true\n",
        3,
        "identity.required",
        "every call would be refused",
    ),
    (
        "same-headers",
        "version: 1\nidentity: {caller_header: x-who, key_header: x-who}\n",
        2,
        "identity.key_header",
        "must be different",
    ),
    (
        "binary-header",
        "version: 1\nidentity: {key_header: x-key-bin}\n",
        2,
        "identity.key_header",
        "-bin suffix",
    ),
    (
        "wrong-type",
        "version: 1\ndefaults:\n  rpcs: {allow: GetMe}\n",
        3,
        "defaults.rpcs.allow",
        "must be a list, got str 'GetMe'",
    ),
    (
        "relay-without-token",
        f"version: 1\ncallers:\n  shop:\n    key_sha256: {KEY}\n"
        "    relay: {url: 'http://127.0.0.1:9000/webhook'}\n",
        5,
        "callers.shop.relay",
        "add its token_sha256",
    ),
    (
        "relay-not-http",
        f"version: 1\ncallers:\n  shop:\n    token_sha256: {KEY}\n"
        "    relay: {url: 'ftp://127.0.0.1/webhook'}\n",
        5,
        "callers.shop.relay.url",
        "is not a relay URL",
    ),
    (
        "relay-credentials-in-url",
        f"version: 1\ncallers:\n  shop:\n    token_sha256: {KEY}\n"
        "    relay: {url: 'https://app:secret@shop.internal/hook'}\n",
        5,
        "callers.shop.relay.url",
        "without user:password@",
    ),
    (
        "relay-bad-port",
        f"version: 1\ncallers:\n  shop:\n    token_sha256: {KEY}\n"
        "    relay: {url: 'http://127.0.0.1:99999/hook'}\n",
        5,
        "callers.shop.relay.url",
        "no valid host and port",
    ),
    (
        "relay-timeout-zero",
        f"version: 1\ncallers:\n  shop:\n    token_sha256: {KEY}\n"
        "    relay: {url: 'http://127.0.0.1:9000/', timeout: 0s}\n",
        5,
        "callers.shop.relay.timeout",
        "more than 0",
    ),
    (
        "relay-unknown-field",
        f"version: 1\ncallers:\n  shop:\n    token_sha256: {KEY}\n"
        "    relay: {url: 'http://127.0.0.1:9000/', retries: 3}\n",
        5,
        "callers.shop.relay.retries",
        "unknown field 'retries'",
    ),
    (
        "boolean-as-yes",
        "version: 1\nidentity: {required: yes}\n",
        2,
        "identity.required",
        "must be true or false",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "path", "fragment"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_each_class_of_error_names_its_line(text: str, line: int, path: str, fragment: str) -> None:
    found = problems(text, redis="spend_caps" not in text)
    errors = [p for p in found if p[2] == "error"]
    assert any(p[0] == line and p[3] == path and fragment in p[4] for p in errors), (
        f"expected line {line} {path}: {fragment!r}; got {errors}"
    )


WARNINGS = [
    (
        "cap-on-denied-asset",
        "version: 1\ndefaults:\n  assets: {deny: [TON]}\n"
        "  spend_caps:\n    - {asset: TON, max: '1', window: rolling_24h}\n",
        5,
        "defaults.spend_caps.0.asset",
        "never applies",
    ),
    (
        "limits-for-forbidden-rpc",
        "version: 1\ndefaults:\n  rpcs: {allow: [GetMe]}\n  transfers: {require_comment: true}\n",
        4,
        "defaults.transfers",
        "may not call Transfer",
    ),
    (
        "defaults-absent",
        f"version: 1\ncallers:\n  a: {{key_sha256: {KEY}}}\n",
        2,
        "callers",
        "`defaults` is absent",
    ),
    (
        "caps-redis-unknown",
        CAPS + "    - {asset: USDT, max: '1', window: rolling_24h}\n",
        4,
        "defaults.spend_caps.0",
        "refuses this policy without --redis-url",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "path", "fragment"), [c[1:] for c in WARNINGS], ids=[c[0] for c in WARNINGS]
)
def test_warnings(text: str, line: int, path: str, fragment: str) -> None:
    found = problems(text, redis=None)
    assert [p for p in found if p[2] == "error"] == []
    assert any(p[0] == line and p[3] == path and fragment in p[4] for p in found), found


def test_a_good_policy_has_no_problems() -> None:
    text = f"""
    version: 1
    mode: audit
    identity: {{required: true}}
    defaults: {{rpcs: {{allow: []}}}}
    callers:
      payouts:
        key_sha256: [{KEY}, {KEY2}]
        mode: enforce
        rpcs: {{allow: [Transfer, GetBalance]}}
        amounts: {{USDT: {{min: "1", max: "100.25"}}}}
        spend_caps:
          - {{asset: USDT, max: "1000", window: calendar_day, time_zone: Europe/Berlin,
             mode: audit}}
          - {{asset: USDT, max: "300", window: rolling_1h, on_store_error: allow}}
        transfers: {{recipients: [1, 2], require_comment: true}}
      shop:
        token_sha256: {KEY2}
        relay: {{url: "http://127.0.0.1:9000/webhook?app=shop", timeout: 2.5s}}
    retries: {{max_attempts: 2, methods: {{GetBalance: {{max_attempts: 4}}}}}}
    idempotency: {{require_key: mutating, ttl: 24h}}
    cache: {{methods: {{GetExchangeRates: {{ttl: 30s}}, GetMe: {{enabled: false}}}}}}
    rate_limits: {{app: {{rate: 30/s, burst: 10}}, callers: {{payouts: 5/s}}}}
    """
    assert problems(text) == []


def test_the_retries_and_idempotency_sections_are_checked() -> None:
    text = (
        "version: 1\nretries:\n  methods:\n    GetBalanse: {max_attempts: 2}\n"
        "idempotency:\n  ttl: 5x\n"
    )
    found = [(p[0], p[3], p[4]) for p in problems(text)]
    assert found == [
        (4, "retries.methods.GetBalanse", "unknown name 'GetBalanse' (did you mean 'GetBalance'?)"),
        (
            6,
            "idempotency.ttl",
            "'5x' is not a duration: write seconds, or a number with ms, s, m, h or d",
        ),
    ]


def test_the_cache_section_is_checked() -> None:
    text = (
        "version: 1\ncache:\n  lock_ttl: 10s\n  methods:\n    GetBalance: {ttl: 5s}\n"
        "    GetMe: {ttl: 1h, max_stale: 1m}\n"
    )
    found = [(p[0], p[3], p[4]) for p in problems(text)]
    assert found == [
        (
            5,
            "cache.methods.GetBalance",
            "GetBalance reads the app's money or state, which must always be current and is "
            "never cached; only GetExchangeRates, GetCurrencies, GetMe can be",
        ),
        (
            6,
            "cache.methods.GetMe.max_stale",
            "must be at least ttl + stale_while_revalidate (4200s), got 60s",
        ),
    ]
    unknown = [
        (p[0], p[3]) for p in problems("version: 1\ncache:\n  methods: {GetMe: {tll: 1h}}\n")
    ]
    assert unknown == [(3, "cache.methods.GetMe.tll")]


def test_mode_off_caps_need_no_redis() -> None:
    text = "version: 1\nmode: off\n" + CAPS.removeprefix("version: 1\n")
    text += "    - {asset: USDT, max: '1', window: rolling_24h}\n"
    assert problems(text, redis=False) == []


def test_section_validators_join_the_report() -> None:
    from sidecar.policy import lint as lint_module
    from sidecar.policy import sections
    from sidecar.policy.problems import LintError

    def check(raw: object) -> list[LintError]:
        assert isinstance(raw, dict)
        return (
            [LintError(("buckets", 0, "rate"), "rate must be positive")]
            if raw.get("buckets")
            else []
        )

    before = sections.registered()["cache"]
    sections.register(
        "cache",
        validate=check,
        schema={"type": "object", "properties": {"buckets": {"type": "array"}}},
    )
    lint_module.reset_cache()
    try:
        found = problems("version: 1\ncache:\n  buckets:\n    - rate: -1\n")
        assert found == [(4, 13, "error", "cache.buckets.0.rate", "rate must be positive")]
        found = problems("version: 1\ncache:\n  buckets: 5\n")
        assert [p[3:] for p in found] == [("cache.buckets", "must be a list, got int 5")]
    finally:
        sections.register("cache", validate=before.validate, schema=before.schema)
        lint_module.reset_cache()


def test_errors_sort_before_warnings() -> None:
    text = "version: 1\nmode: nope\ndefaults:\n  rpcs: {allow: [GetMe]}\n"
    text += "  transfers: {require_comment: true}\n"
    severities = [p[2] for p in problems(text)]
    assert severities == [Severity.ERROR.value, Severity.WARNING.value]
