"""`cryptopay-sidecar policy ...`: lint, explain, schema, hash-key."""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal, InvalidOperation
from typing import TextIO

from google.protobuf import json_format
from google.protobuf.message import Message

from sidecar.methods import BY_RPC
from sidecar.peer import Peer
from sidecar.policy import build, schema
from sidecar.policy.evaluate import cap_allows, cap_finding, evaluate, facts
from sidecar.policy.identity import Refusal, identify, key_digest, new_token
from sidecar.policy.lint import LintContext, errors, lint
from sidecar.policy.loader import read
from sidecar.policy.model import DEFAULT_CALLER, Mode, PolicySnapshot
from sidecar.policy.problems import LintError, Severity
from sidecar.spend.store import plain
from sidecar.validation import validate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="policy_command", required=True)

    lint_cmd = commands.add_parser(
        "lint",
        help="check policy files (schema and meaning); exit status 1 on errors",
        description="Checks each policy (a file, or a directory of files merged as the sidecar "
        "loads it). Prints file:line:column: severity: field: message for every problem.",
    )
    lint_cmd.add_argument("paths", nargs="+", metavar="PATH", help="policy file or directory")
    redis = lint_cmd.add_mutually_exclusive_group()
    redis.add_argument(
        "--redis",
        dest="redis",
        action="store_const",
        const=True,
        help="the deployment has --redis-url (spend caps are fine)",
    )
    redis.add_argument(
        "--no-redis",
        dest="redis",
        action="store_const",
        const=False,
        help="the deployment has no Redis: spend caps are errors",
    )
    lint_cmd.add_argument("--strict", action="store_true", help="warnings fail too (exit status 1)")
    lint_cmd.add_argument(
        "--format",
        choices=["text", "github", "json"],
        default="text",
        help="text (default), github (workflow annotations) or json",
    )

    explain = commands.add_parser(
        "explain",
        help="show how a policy decides a sample request",
        description="Evaluates a sample request against a policy, rule by rule, as the sidecar "
        "would (identity is assumed: --caller picks the rules, or --spiffe-id / --dns-name name "
        "a client certificate and the policy's identity rules find the caller).",
    )
    explain.add_argument("path", metavar="PATH", help="policy file or directory")
    explain.add_argument("--rpc", required=True, choices=sorted(BY_RPC), help="the RPC")
    explain.add_argument("--caller", default=DEFAULT_CALLER, help="caller name (default: default)")
    explain.add_argument(
        "--spiffe-id",
        action="append",
        default=[],
        help="a URI SAN of the client certificate (mTLS), e.g. "
        "spiffe://cluster.local/ns/shop/sa/checkout",
    )
    explain.add_argument(
        "--dns-name", action="append", default=[], help="a DNS SAN of the client certificate"
    )
    explain.add_argument(
        "--request",
        default="{}",
        help='the request as JSON, e.g. \'{"asset": "USDT", "amount": "10", "user_id": 1}\'',
    )
    explain.add_argument(
        "--spent",
        action="append",
        default=[],
        metavar="ASSET=AMOUNT",
        help="amount already spent or reserved in each of the caller's caps on ASSET",
    )

    new_token = commands.add_parser(
        "new-token",
        help="print a fresh Crypto-Pay-API-Token for a caller of the HTTP front, and the "
        "token_sha256 line for the policy",
    )
    new_token.add_argument("caller", metavar="CALLER", help="the caller the token is for")
    commands.add_parser("schema", help="print the JSON Schema of policy files")
    commands.add_parser(
        "hash-key",
        help="print the key_sha256 of a caller key read from stdin (never pass keys as arguments)",
    )


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    command = args.policy_command
    if command == "lint":
        return run_lint(
            args.paths, LintContext(redis=_redis(args.redis)), args.strict, args.format, out
        )
    if command == "explain":
        return run_explain(args, out)
    if command == "schema":
        out.write(schema.render())
        return 0
    if command == "new-token":
        token = new_token()
        out.write(
            f"token for caller {args.caller!r} (give it to the app; it is shown only once):\n"
            f"  {token}\n"
            f"paste under callers.{args.caller} in the policy:\n"
            f"  token_sha256: {key_digest(token)}\n"
        )
        return 0
    if command == "hash-key":
        key = sys.stdin.readline().rstrip("\r\n")
        if not key:
            print("policy hash-key: no key on stdin", file=sys.stderr)
            return 2
        out.write(key_digest(key) + "\n")
        return 0
    return 2


def _redis(flag: bool | None) -> bool | None:
    if flag is None and os.environ.get("CRYPTOPAY_SIDECAR_REDIS_URL"):
        return True
    return flag


def run_lint(paths: list[str], context: LintContext, strict: bool, fmt: str, out: TextIO) -> int:
    found: list[LintError] = []
    for path in paths:
        found.extend(lint(read(path), context))
    if fmt == "json":
        out.write(json.dumps([_as_json(p) for p in found], indent=2) + "\n")
    else:
        for problem in found:
            out.write((_github(problem) if fmt == "github" else str(problem)) + "\n")
    n_errors = len(errors(found))
    n_warnings = len(found) - n_errors
    if fmt == "text":
        verdict = "ok" if not found else f"{n_errors} error(s), {n_warnings} warning(s)"
        out.write(f"{len(paths)} polic{'y' if len(paths) == 1 else 'ies'} checked: {verdict}\n")
    return 1 if n_errors or (strict and n_warnings) else 0


def _as_json(problem: LintError) -> dict[str, object]:
    mark = problem.mark
    return {
        "file": mark.file if mark else None,
        "line": mark.line if mark else None,
        "column": mark.column if mark else None,
        "severity": problem.severity.value,
        "path": list(problem.path),
        "message": problem.message,
    }


def _github(problem: LintError) -> str:
    level = "error" if problem.severity is Severity.ERROR else "warning"
    mark = problem.mark
    where = f" file={mark.file},line={mark.line},col={mark.column}" if mark else ""
    text = str(problem).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level}{where}::{text}"


def _spent(items: list[str], out: TextIO) -> dict[str, Decimal] | None:
    spent: dict[str, Decimal] = {}
    for item in items:
        asset, _, amount = item.partition("=")
        try:
            spent[asset.upper()] = Decimal(amount)
        except InvalidOperation:
            out.write(f"--spent {item!r}: expected ASSET=AMOUNT, e.g. USDT=120.5\n")
            return None
    return spent


def _explain_identity(policy: PolicySnapshot, args: argparse.Namespace, out: TextIO) -> str | None:
    """The caller whose rules apply: --caller, or the one the certificate names identify (None,
    with the decision written, when identity refuses the call)."""
    if not (args.spiffe_id or args.dns_name):
        return str(args.caller)
    peer = Peer(spiffe_ids=tuple(args.spiffe_id), dns_names=tuple(args.dns_name))
    claimed = {} if args.caller == DEFAULT_CALLER else {policy.identity.caller_header: args.caller}
    who = identify(policy, claimed, peer)
    out.write(f"peer     {peer.describe()} (identity.from: {policy.identity.source.value})\n")
    if isinstance(who, Refusal):
        out.write(f"\ndecision: UNAUTHENTICATED {who.reason}: {who.message}\n")
        return None
    return who.caller


def run_explain(args: argparse.Namespace, out: TextIO) -> int:
    document = read(args.path)
    problems = errors(lint(document, LintContext(redis=True)))
    if problems:
        for problem in problems:
            out.write(f"{problem}\n")
        out.write("the policy has errors; fix them first (cryptopay-sidecar policy lint)\n")
        return 2
    policy = build.snapshot(document, args.path)
    spec = BY_RPC[args.rpc]
    try:
        request = json_format.Parse(args.request, spec.request_type())
    except json_format.ParseError as exc:
        out.write(f"--request is not a valid {spec.request_type.__name__}: {exc}\n")
        return 2
    spent = _spent(args.spent, out)
    if spent is None:
        return 2
    if args.caller != DEFAULT_CALLER and args.caller not in policy.callers:
        known = ", ".join(sorted(policy.callers)) or "none"
        out.write(f"caller {args.caller!r} is not in the policy (callers: {known})\n")
        return 2
    out.write(f"policy   {args.path} (sha256 {policy.short_hash})\n")
    caller = _explain_identity(policy, args, out)
    if caller is None:
        return 0
    args.caller = caller
    rules = policy.rules_for(args.caller)
    out.write(f"caller   {args.caller}\n")
    out.write(f"request  {spec.rpc} {_json(request)}\n\n")
    violations = validate(request)
    if violations:
        for v in violations:
            out.write(f"  invalid: {v.field} {v.description}\n")
        out.write("\ndecision: INVALID_ARGUMENT (the request is refused before any policy rule)\n")
        return 0
    request_facts = facts(spec, request)
    evaluation = evaluate(rules, request_facts)
    rows: list[tuple[str, str, str, str]] = []
    for result in evaluation.results:
        verdict = "pass" if result.passed else _failed(result.mode)
        message = result.finding.message if result.finding else ""
        rows.append((result.rule, verdict, result.mode.value, message))
    cap_denial = None
    for cap in evaluation.caps:
        used = spent.get(cap.asset, Decimal(0))
        amount = request_facts.amount or Decimal(0)
        if cap_allows(cap.max, used, amount):
            rows.append(
                (
                    cap.rule,
                    "pass",
                    cap.mode.value,
                    f"{plain(used)} + {plain(amount)} <= {plain(cap.max)} {cap.asset} per "
                    f"{cap.window.label}",
                )
            )
        else:
            finding = cap_finding(cap, args.caller, spec.rpc, amount, used)
            rows.append((cap.rule, _failed(cap.mode), cap.mode.value, finding.message))
            if cap.mode is Mode.ENFORCE and cap_denial is None:
                cap_denial = cap.rule
    if not rows:
        out.write("  (no rule applies to this request)\n")
    width = max((len(r[0]) for r in rows), default=0)
    for rule, verdict, mode, message in rows:
        out.write(f"  {rule:<{width}}  {verdict:<10} {mode:<8} {message}\n".rstrip() + "\n")
    denial = evaluation.denial.rule if evaluation.denial else cap_denial
    out.write("\n")
    if denial:
        out.write(f"decision: DENIED by {denial} (PERMISSION_DENIED, reason POLICY_DENIED)\n")
    else:
        audited = [r[0] for r in rows if r[1] == "AUDIT-DENY"]
        note = f" (audit mode would log: {', '.join(audited)})" if audited else ""
        out.write(f"decision: ALLOWED{note}\n")
    return 0


def _json(message: Message) -> str:
    return json_format.MessageToJson(message, indent=None, preserving_proto_field_name=True)


def _failed(mode: Mode) -> str:
    return "DENY" if mode is Mode.ENFORCE else "AUDIT-DENY"
