"""Policy decisions (pure): given a caller's rules and a request, which rules deny it.

    facts(spec, request)          what the request does: RPC, assets, amount, recipient...
    evaluate(rules, facts)        every rule's result, and the spend caps the request counts against
    cap_finding(cap, ...)         the message of a spend cap that would be exceeded

Rules in mode `off` are not evaluated. A failed rule in mode `audit` is reported but does not
deny. Spend caps are checked atomically by the spend store, not here: evaluate only says which
caps apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from google.protobuf.message import Message

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import types_pb2 as types
from sidecar.methods import MethodSpec
from sidecar.policy.model import CallerRules, Mode, NameRule, SpendCap
from sidecar.spend.store import EXACT, plain


@dataclass(frozen=True, slots=True)
class Facts:
    """What a request does, as far as policy rules care."""

    rpc: str
    assets: tuple[str, ...] = ()  # crypto assets it invoices, moves or swaps into
    any_asset: bool = False  # a fiat invoice without accepted_assets: payable in any asset
    fiat: str | None = None
    amount: Decimal | None = None
    amount_code: str | None = None  # the asset or fiat the amount is in
    expires_in: int | None = None
    paid_btn_url: str | None = None
    payload: str | None = None
    user_id: int | None = None
    comment: str | None = None
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that does not hold for the request."""

    rule: str  # rpcs, assets, fiats, amounts.USDT, invoices.max_expires_in, spend_caps[0]...
    mode: Mode  # enforce: denies; audit: would have denied
    message: str  # what is wrong and what to change


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    mode: Mode
    finding: Finding | None  # None: the rule holds

    @property
    def passed(self) -> bool:
        return self.finding is None


@dataclass(frozen=True, slots=True)
class Evaluation:
    results: tuple[RuleResult, ...]
    caps: tuple[SpendCap, ...]  # caps this request counts against (mode enforce or audit)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(r.finding for r in self.results if r.finding is not None)

    @property
    def denial(self) -> Finding | None:
        return next((f for f in self.findings if f.mode is Mode.ENFORCE), None)

    @property
    def audited(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.mode is Mode.AUDIT)


def _amount(text: str) -> Decimal | None:
    # Validation ran first: a non-empty amount is a plain positive decimal.
    return Decimal(text) if text else None


def facts(spec: MethodSpec, request: Message) -> Facts:
    rpc = spec.rpc
    if isinstance(request, pb.CreateInvoiceRequest):
        fiat = request.currency_type == types.CURRENCY_TYPE_FIAT
        assets = [a.upper() for a in request.accepted_assets] if fiat else [request.asset.upper()]
        if request.swap_to:
            assets.append(request.swap_to.upper())
        code = request.fiat.upper() if fiat else request.asset.upper()
        return Facts(
            rpc,
            assets=tuple(dict.fromkeys(assets)),
            any_asset=fiat and not request.accepted_assets,
            fiat=request.fiat.upper() if fiat else None,
            amount=_amount(request.amount),
            amount_code=code,
            expires_in=request.expires_in or None,
            paid_btn_url=request.paid_btn_url or None,
            payload=request.payload or None,
        )
    if isinstance(request, pb.CreateCheckRequest):
        asset = request.asset.upper()
        return Facts(
            rpc,
            assets=(asset,),
            amount=_amount(request.amount),
            amount_code=asset,
            pinned=bool(request.pin_to_user_id or request.pin_to_username),
        )
    if isinstance(request, pb.TransferRequest):
        asset = request.asset.upper()
        return Facts(
            rpc,
            assets=(asset,),
            amount=_amount(request.amount),
            amount_code=asset,
            user_id=request.user_id,
            comment=request.comment or None,
        )
    return Facts(rpc)


def evaluate(rules: CallerRules, f: Facts) -> Evaluation:
    who = f"caller {rules.name!r}"
    results = (
        *_lists(rules, f, who),
        *_amount_limit(rules, f, who),
        *_invoice(rules, f, who),
        *_transfer(rules, f, who),
        *_check(rules, f, who),
    )
    caps = tuple(
        cap
        for cap in rules.spend_caps
        if cap.mode is not Mode.OFF
        and f.rpc in cap.rpcs
        and f.amount is not None
        and f.amount_code == cap.asset
    )
    return Evaluation(results, caps)


def _result(rule: str, mode: Mode, problem: str | None) -> RuleResult:
    return RuleResult(rule, mode, Finding(rule, mode, problem) if problem else None)


def _lists(rules: CallerRules, f: Facts, who: str) -> Iterator[RuleResult]:
    """The allow and deny lists: RPCs, assets (of calls that move money), fiats."""
    if rules.rpcs is not None and rules.rpcs.mode is not Mode.OFF:
        yield _result("rpcs", rules.rpcs.mode, _names_problem(rules.rpcs, [f.rpc], "RPC", who))
    moves_money = f.amount is not None
    if moves_money and rules.assets is not None and rules.assets.mode is not Mode.OFF:
        problem = _names_problem(rules.assets, f.assets, "asset", who)
        if problem is None and f.any_asset:
            problem = (
                "a fiat invoice without accepted_assets can be paid in any asset, and "
                f"{who} may only receive {_listing(rules.assets)}: set accepted_assets"
            )
        yield _result("assets", rules.assets.mode, problem)
    if f.fiat is not None and rules.fiats is not None and rules.fiats.mode is not Mode.OFF:
        yield _result("fiats", rules.fiats.mode, _names_problem(rules.fiats, [f.fiat], "fiat", who))


def _amount_limit(rules: CallerRules, f: Facts, who: str) -> Iterator[RuleResult]:
    if f.amount is None or f.amount_code is None:
        return
    limit = rules.amounts.get(f.amount_code)
    if limit is None or limit.mode is Mode.OFF:
        return
    problem = None
    if limit.max is not None and f.amount > limit.max:
        problem = (
            f"amount {f.amount} {f.amount_code} is above the per-transaction maximum of "
            f"{limit.max} {f.amount_code} for {who}"
        )
    elif limit.min is not None and f.amount < limit.min:
        problem = (
            f"amount {f.amount} {f.amount_code} is below the per-transaction minimum of "
            f"{limit.min} {f.amount_code} for {who}"
        )
    yield _result(f"amounts.{f.amount_code}", limit.mode, problem)


def _invoice(rules: CallerRules, f: Facts, who: str) -> Iterator[RuleResult]:
    inv = rules.invoices
    if f.rpc != "CreateInvoice" or inv is None or inv.mode is Mode.OFF:
        return
    if inv.max_expires_in is not None:
        problem = None
        if f.expires_in is None:
            problem = (
                f"expires_in is required for {who}: set it to at most {inv.max_expires_in} seconds"
            )
        elif f.expires_in > inv.max_expires_in:
            problem = (
                f"expires_in {f.expires_in} is above the maximum of {inv.max_expires_in} "
                f"seconds for {who}"
            )
        yield _result("invoices.max_expires_in", inv.mode, problem)
    if inv.paid_btn_url_hosts is not None:
        problem = None
        if f.paid_btn_url is not None:
            host = _host(f.paid_btn_url)
            if not any(host_matches(host, p) for p in inv.paid_btn_url_hosts):
                allowed = ", ".join(inv.paid_btn_url_hosts) or "none"
                problem = (
                    f"paid_btn_url points to {host or 'no host'!s}, which is not an allowed "
                    f"host for {who} (allowed: {allowed})"
                )
        yield _result("invoices.paid_btn_url_hosts", inv.mode, problem)
    if inv.require_payload:
        yield _result(
            "invoices.require_payload",
            inv.mode,
            None
            if f.payload
            else f"payload is required for {who}: set it to your order or reference id so "
            "the payment can be reconciled",
        )


def _transfer(rules: CallerRules, f: Facts, who: str) -> Iterator[RuleResult]:
    tr = rules.transfers
    if f.rpc != "Transfer" or tr is None or tr.mode is Mode.OFF:
        return
    if tr.recipients is not None:
        yield _result(
            "transfers.recipients",
            tr.mode,
            None
            if f.user_id in tr.recipients
            else f"user_id {f.user_id} is not an allowed transfer recipient for {who}",
        )
    if tr.require_comment:
        yield _result(
            "transfers.require_comment",
            tr.mode,
            None if f.comment else f"comment is required on transfers by {who}",
        )


def _check(rules: CallerRules, f: Facts, who: str) -> Iterator[RuleResult]:
    checks = rules.checks
    if f.rpc != "CreateCheck" or checks is None or checks.mode is Mode.OFF:
        return
    if checks.require_pin:
        yield _result(
            "checks.require_pin",
            checks.mode,
            None
            if f.pinned
            else f"checks by {who} must be pinned: set pin_to_user_id or pin_to_username",
        )


def cap_finding(cap: SpendCap, caller: str, rpc: str, amount: Decimal, used: Decimal) -> Finding:
    """The message for a cap the request would exceed (`used`: spent or reserved so far)."""
    left = max(EXACT.subtract(cap.max, used), Decimal(0))
    return Finding(
        cap.rule,
        cap.mode,
        f"{rpc} of {plain(amount)} {cap.asset} would exceed the spend cap of caller {caller!r}, "
        f"{plain(cap.max)} {cap.asset} per {cap.window.label} (already spent or reserved: "
        f"{plain(used)}; left: {plain(left)})",
    )


def cap_allows(cap_max: Decimal, used: Decimal, amount: Decimal) -> bool:
    """The spend stores' rule, for explanations: the total may reach the cap, never pass it."""
    return EXACT.add(used, amount) <= cap_max


def host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def _names_problem(rule: NameRule, names: Iterable[str], what: str, who: str) -> str | None:
    for name in names:
        if name in rule.deny:
            return f"{what} {name} is denied for {who} ({_plural(what)}.deny)"
        if rule.allow is not None and name not in rule.allow:
            return f"{what} {name} is not allowed for {who}; allowed: {_listing(rule)}"
    return None


def _plural(what: str) -> str:
    return {"RPC": "rpcs", "asset": "assets", "fiat": "fiats"}[what]


def _listing(rule: NameRule) -> str:
    if rule.allow is None:
        return "everything except " + ", ".join(sorted(rule.deny))
    allowed = sorted(rule.allow - rule.deny)
    return ", ".join(allowed) if allowed else "none"
