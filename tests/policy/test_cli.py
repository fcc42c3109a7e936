"""The `cryptopay-sidecar policy` commands, and the files shipped in policies/."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from sidecar.cli import build_parser
from sidecar.policy import commands, schema
from sidecar.policy.identity import key_digest
from tests.helpers import REPO

POLICIES = REPO / "policies"
EXAMPLES = sorted(POLICIES.glob("*.yaml"))


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    args = build_parser().parse_args(["policy", *argv])
    return commands.run(args, out), out.getvalue()


def test_schema_json_is_fresh() -> None:
    assert (POLICIES / "schema.json").read_text() == schema.render(), (
        "policies/schema.json is stale: "
        "run `cryptopay-sidecar policy schema > policies/schema.json`"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(schema.render()))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_lint_clean_and_match_the_schema(example: Path) -> None:
    code, out = run("lint", "--redis", "--strict", str(example))
    assert code == 0, out
    assert out.strip() == "1 policy checked: ok"
    # Editors validate with schema.json alone: the examples must pass it too.
    jsonschema.validate(yaml.safe_load(example.read_text()), json.loads(schema.render()))


def test_the_readme_policy_lints_clean(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- readme-snippet: policy -->\n```yaml\n(.*?)```", readme, re.S)
    assert match
    (tmp_path / "policy.yaml").write_text(match.group(1))
    code, out = run("lint", "--redis", "--strict", str(tmp_path / "policy.yaml"))
    assert code == 0, out


def test_examples_have_comments() -> None:
    for example in EXAMPLES:
        assert example.read_text().count("#") >= 3, example.name


def test_lint_reports_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefaults:\n  rpcs: {allow: [Transfr]}\n")
    code, out = run("lint", str(bad), str(POLICIES / "minimal.yaml"))
    assert code == 1
    assert out.splitlines() == [
        f"{bad}:3:18: error: defaults.rpcs.allow[0]: 'Transfr' is not one of "
        + ", ".join(m for m in schema.build()["$defs"]["rpc"]["enum"])
        + " (did you mean 'Transfer'?)",
        "2 policies checked: 1 error(s), 0 warning(s)",
    ]


def test_lint_warnings_fail_only_when_strict(tmp_path: Path) -> None:
    capped = tmp_path / "capped.yaml"
    capped.write_text(
        "version: 1\ndefaults:\n  spend_caps:\n    - {asset: USDT, max: '1', window: rolling_24h}\n"
    )
    assert run("lint", str(capped))[0] == 0
    assert run("lint", "--strict", str(capped))[0] == 1
    assert run("lint", "--redis", "--strict", str(capped))[0] == 0
    code, out = run("lint", "--no-redis", str(capped))
    assert code == 1 and "spend caps need Redis" in out


def test_lint_formats(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmode: strict\n")
    code, out = run("lint", "--format", "github", str(bad))
    assert code == 1
    assert out.startswith(f"::error file={bad},line=2,col=7::")
    code, out = run("lint", "--format", "json", str(bad))
    (problem,) = json.loads(out)
    assert problem["line"] == 2 and problem["path"] == ["mode"] and problem["severity"] == "error"


def test_explain() -> None:
    code, out = run(
        "explain",
        str(POLICIES / "payouts.yaml"),
        "--caller",
        "payouts",
        "--rpc",
        "Transfer",
        "--request",
        '{"user_id": 5, "asset": "USDT", "amount": "200", "spend_id": "a", "comment": "prize"}',
        "--spent",
        "USDT=5900",
    )
    assert code == 0
    assert "amounts.USDT" in out and "spend_caps[1]" in out
    assert "DENY" in out.split("spend_caps[1]")[1].splitlines()[0]
    assert out.rstrip().endswith(
        "decision: DENIED by spend_caps[1] (PERMISSION_DENIED, reason POLICY_DENIED)"
    )
    code, out = run(
        "explain", str(POLICIES / "payouts.yaml"), "--caller", "reporting", "--rpc", "GetStats"
    )
    assert code == 0 and out.rstrip().endswith("decision: ALLOWED")
    code, out = run(
        "explain", str(POLICIES / "payouts.yaml"), "--caller", "nobody", "--rpc", "GetMe"
    )
    assert code == 2 and "callers: payouts, reporting" in out


def test_explain_audit_and_invalid_requests() -> None:
    code, out = run(
        "explain",
        str(POLICIES / "production.yaml"),
        "--caller",
        "payouts",
        "--rpc",
        "Transfer",
        "--request",
        '{"user_id": 42, "asset": "USDT", "amount": "5", "spend_id": "a", "comment": "x"}',
    )
    assert code == 0
    assert (
        "AUDIT-DENY" in out
        and "decision: ALLOWED (audit mode would log: transfers.recipients)" in out
    )
    code, out = run(
        "explain",
        str(POLICIES / "minimal.yaml"),
        "--rpc",
        "CreateInvoice",
        "--request",
        '{"amount": "-1"}',
    )
    assert code == 0 and "decision: INVALID_ARGUMENT" in out


def test_hash_key_reads_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sidecar", "policy", "hash-key"],
        input="my key\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == key_digest("my key") + "\n"


def _inline_policies(value: object) -> list[str]:
    """Policy files written inline in Helm values (`policy.inline.<file>: <YAML text>`)."""
    found: list[str] = []
    if isinstance(value, dict):
        inline = (
            value.get("policy", {}).get("inline") if isinstance(value.get("policy"), dict) else None
        )
        if isinstance(inline, dict):
            found.extend(text for text in inline.values() if isinstance(text, str))
        for child in value.values():
            found.extend(_inline_policies(child))
    return found


HELM_VALUES = sorted(p for p in (REPO / "helm").rglob("*.yaml") if "templates" not in p.parts)


@pytest.mark.parametrize("values", HELM_VALUES, ids=lambda p: str(p.relative_to(REPO)))
def test_policies_in_helm_examples_lint_clean(values: Path, tmp_path: Path) -> None:
    for i, text in enumerate(_inline_policies(yaml.safe_load(values.read_text()))):
        path = tmp_path / f"{i}.yaml"
        path.write_text(text)
        code, out = run("lint", "--redis", str(path))
        assert code == 0, out


def test_explain_finds_the_caller_of_a_client_certificate() -> None:
    policy = str(POLICIES / "mtls.yaml")
    checkout = "spiffe://cluster.local/ns/shop/sa/checkout"
    request = '{"asset": "USDT", "amount": "20"}'
    code, out = run("explain", policy, "--spiffe-id", checkout, "--rpc", "CreateInvoice",
                    "--request", request)  # fmt: skip
    assert code == 0 and "caller   checkout" in out and f"peer     {checkout}" in out
    assert out.rstrip().endswith("decision: ALLOWED")
    code, out = run("explain", policy, "--dns-name", "payouts.payments.svc.cluster.local",
                    "--rpc", "CreateInvoice", "--request", request)  # fmt: skip
    assert code == 0 and "caller   payouts" in out and "DENIED by rpcs" in out
    code, out = run("explain", policy, "--spiffe-id", "spiffe://cluster.local/ns/x/sa/y",
                    "--rpc", "GetMe")  # fmt: skip
    assert code == 0
    assert "decision: UNAUTHENTICATED CALLER_REQUIRED" in out
    code, out = run("explain", policy, "--spiffe-id", "spiffe://cluster.local/ns/x/sa/y",
                    "--caller", "checkout", "--rpc", "GetMe")  # fmt: skip
    assert "decision: UNAUTHENTICATED CALLER_NEEDS_CERTIFICATE" in out
