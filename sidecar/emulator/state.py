"""The ledger: every app's money, invoices, checks and transfers.

Pure state transitions with no I/O. Every operation runs synchronously, so the single-threaded
HTTP shell never interleaves two of them. Errors are raised as ``ApiError``.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from .catalog import (
    ASSET_CODES,
    ASSETS,
    FIAT_CODES,
    LINKS,
    Links,
    starting_rates,
)
from .config import EmulatorConfig
from .errors import ApiError
from .formats import truncate_ms
from .models import (
    App,
    AppStats,
    Balance,
    Check,
    CheckStatus,
    Invoice,
    InvoiceSpec,
    InvoiceStatus,
    Payment,
    Transfer,
    TransferSpec,
)
from .rates import RateTable

TOKEN_PATTERN = re.compile(r"(\d+):[A-Za-z0-9]{35}")
_HASH_ALPHABET = string.ascii_letters + string.digits
_PLACES = Decimal("1e-8")
DEFAULT_PAYER_ID = 1


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    asset: tuple[str, ...] | None = None
    fiat: str | None = None
    invoice_ids: tuple[int, ...] | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class CheckFilter:
    asset: str | None = None
    check_ids: tuple[int, ...] | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class TransferFilter:
    asset: str | None = None
    transfer_ids: tuple[int, ...] | None = None
    spend_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """How the (emulated) payer pays; all optional."""

    paid_asset: str | None = None
    comment: str | None = None
    paid_anonymously: bool = False
    user_id: int = DEFAULT_PAYER_ID
    # A fiat invoice only: the crypto amount the payer was quoted (see pay_invoice).
    paid_amount: Decimal | None = None


def fiat_payment_amount(amount: Decimal, rate: Decimal, quoted: Decimal | None) -> Decimal:
    """The crypto a fiat invoice takes: the payer's quote when given, else amount / rate
    rounded up at 8 places, so the merchant never receives less than the fiat amount. The live
    API's own quote is not derivable from paid_fiat_rate (docs/emulator.md#fiat-invoices); a
    quote worth less than the amount at that rate is refused."""
    if quoted is None:
        return (amount / rate).quantize(_PLACES, ROUND_UP).normalize()
    if quoted * rate < amount:
        raise ApiError(400, "PAID_AMOUNT_INVALID", f"{quoted} x {rate} is less than {amount}")
    return quoted.normalize()


class Ledger:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.links: Links = LINKS[config.network]
        self.rng = random.Random(config.seed)
        self.rates = RateTable(starting_rates())
        self.apps: dict[str, App] = {}
        self.clock_offset = timedelta(0)
        self._used_hashes: set[str] = set()
        # Ids are global like on the real service, not per app.
        self._last_invoice_id = 0
        self._last_check_id = 0
        self._last_transfer_id = 0

    # -- time and apps -------------------------------------------------------------------

    def now(self) -> datetime:
        return truncate_ms(self.config.clock() + self.clock_offset)

    def authenticate(self, token: str | None) -> App:
        """The app behind ``token``, created on first use. Anything else is 401."""
        if token is None:
            raise ApiError(401, "UNAUTHORIZED")
        token = token.strip()
        match = TOKEN_PATTERN.fullmatch(token)
        if match is None or (self.config.tokens and token not in self.config.tokens):
            raise ApiError(401, "UNAUTHORIZED")
        app = self.apps.get(token)
        if app is None:
            app_id = int(match.group(1))
            app = App(
                token=token,
                app_id=app_id,
                name=f"Emulated App {app_id}",
                balances={
                    code: Balance(available=amount)
                    for code, amount in self.config.starting_balances.items()
                },
                disabled_methods=set(self.config.disabled_methods),
            )
            self.apps[token] = app
        return app

    def forget(self, app: App) -> None:
        """Drop an app; its token gets a fresh app (starting balances) on next use."""
        self.apps.pop(app.token, None)

    def next_update_id(self, app: App) -> int:
        app.last_update_id += 1
        return app.last_update_id

    def set_balances(self, app: App, balances: Mapping[str, Balance]) -> None:
        for code in balances:
            if code not in ASSET_CODES:
                raise ApiError(400, "ASSET_INVALID", f"unknown asset {code}")
        for code, balance in balances.items():
            app.balances[code] = Balance(balance.available, balance.onhold)

    def balances(self, app: App) -> list[tuple[str, Balance]]:
        return list(app.balances.items())

    # -- invoices ------------------------------------------------------------------------

    def create_invoice(self, app: App, spec: InvoiceSpec) -> Invoice:
        if spec.currency_type == "crypto":
            if spec.asset not in ASSET_CODES:
                raise ApiError(400, "UNSUPPORTED_ASSET")
            # accepted_assets is documented for fiat invoices only; the emulator drops it.
            spec = replace(spec, fiat=None, accepted_assets=None)
        else:
            if spec.fiat not in FIAT_CODES:
                raise ApiError(400, "FIAT_INVALID")
            for code in spec.accepted_assets or ():
                if code not in ASSET_CODES:
                    raise ApiError(400, "ACCEPTED_ASSETS_INVALID")
            spec = replace(spec, asset=None)
        usd = self._invoice_usd(spec)
        if usd is not None and usd < self.config.invoice_min_usd:
            raise ApiError(400, "AMOUNT_TOO_SMALL")
        now = self.now()
        self._last_invoice_id += 1
        invoice = Invoice(
            invoice_id=self._last_invoice_id,
            hash=self._new_hash("IV"),
            spec=spec,
            created_at=now,
            expiration_date=(
                now + timedelta(seconds=spec.expires_in) if spec.expires_in is not None else None
            ),
        )
        app.invoices[invoice.invoice_id] = invoice
        if invoice.expiration_date is not None:
            app.expiring[invoice.invoice_id] = invoice.expiration_date
        return invoice

    def _invoice_usd(self, spec: InvoiceSpec) -> Decimal | None:
        """What an invoice is worth in USD, through USDT for a fiat one; None without rates."""
        if spec.asset is not None:
            return self._usd(spec.asset, spec.amount)
        assert spec.fiat is not None
        usdt_in_fiat = self.rates.value("USDT", spec.fiat)
        usdt = spec.amount / usdt_in_fiat if usdt_in_fiat else None
        return self._usd("USDT", usdt) if usdt is not None else None

    def _usd(self, asset: str, amount: Decimal) -> Decimal | None:
        rate = self.rates.value(asset, "USD")
        return amount * rate if rate else None

    def invoice(self, app: App, invoice_id: int, *, missing_status: int = 400) -> Invoice:
        self.sweep(app)
        found = app.invoices.get(invoice_id)
        if found is None or found.deleted:
            raise ApiError(missing_status, "INVOICE_NOT_FOUND")
        return found

    def delete_invoice(self, app: App, invoice_id: int) -> None:
        invoice = self.invoice(app, invoice_id)
        # A paid invoice is a settled payment record; only unpaid ones can go.
        if invoice.status is InvoiceStatus.PAID:
            raise ApiError(400, "INVOICE_ALREADY_PAID")
        invoice.deleted = True
        app.expiring.pop(invoice_id, None)

    def list_invoices(self, app: App, where: InvoiceFilter) -> list[Invoice]:
        self.sweep(app)
        ids = set(where.invoice_ids) if where.invoice_ids is not None else None
        assets = set(where.asset) if where.asset is not None else None
        return [
            inv
            for inv in reversed(app.invoices.values())
            if not inv.deleted
            and (ids is None or inv.invoice_id in ids)
            and (assets is None or inv.spec.asset in assets)
            and (where.fiat is None or inv.spec.fiat == where.fiat)
            and (where.status is None or inv.status == where.status)
        ]

    def pay_invoice(self, app: App, invoice_id: int, request: PaymentRequest) -> Invoice:
        invoice = self.invoice(app, invoice_id, missing_status=404)
        if invoice.status is not InvoiceStatus.ACTIVE:
            raise ApiError(409, "INVOICE_NOT_ACTIVE", f"invoice is {invoice.status}")
        spec = invoice.spec
        if request.comment is not None and not spec.allow_comments:
            raise ApiError(409, "COMMENTS_NOT_ALLOWED", "the invoice has allow_comments=false")
        if request.paid_anonymously and not spec.allow_anonymous:
            raise ApiError(409, "ANONYMOUS_NOT_ALLOWED", "the invoice has allow_anonymous=false")
        fiat_rate: Decimal | None = None
        if spec.asset is not None:
            asset = spec.asset
            if request.paid_asset not in (None, asset):
                raise ApiError(400, "PAID_ASSET_INVALID", "a crypto invoice is paid in its asset")
            if request.paid_amount not in (None, spec.amount):
                raise ApiError(400, "PAID_AMOUNT_INVALID", "a crypto invoice is paid in full")
            amount = spec.amount
        else:
            assert spec.fiat is not None
            asset = self._fiat_payment_asset(spec, request.paid_asset)
            fiat_rate = self.rates.value(asset, spec.fiat)
            if not fiat_rate:
                raise ApiError(409, "RATE_UNAVAILABLE", f"no {asset}/{spec.fiat} rate")
            amount = fiat_payment_amount(spec.amount, fiat_rate, request.paid_amount)
        usd_rate = self.rates.value(asset, "USD") or Decimal(0)
        fee = (amount * self.config.fee_rate).normalize()
        payment = Payment(
            asset=asset,
            amount=amount,
            usd_rate=usd_rate,
            fee_amount=fee,
            # Truncation reproduces all three real captures (fixtures).
            fee_in_usd=(fee * usd_rate).quantize(_PLACES, ROUND_DOWN).normalize(),
            paid_at=self.now(),
            anonymously=request.paid_anonymously,
            user_id=request.user_id,
            fiat_rate=fiat_rate,
            comment=request.comment,
        )
        invoice.status = InvoiceStatus.PAID
        invoice.payment = payment
        app.expiring.pop(invoice_id, None)
        self._balance(app, asset).available += amount - fee
        return invoice

    def expire_invoice(self, app: App, invoice_id: int) -> Invoice:
        invoice = self.invoice(app, invoice_id, missing_status=404)
        if invoice.status is not InvoiceStatus.ACTIVE:
            raise ApiError(409, "INVOICE_NOT_ACTIVE", f"invoice is {invoice.status}")
        invoice.status = InvoiceStatus.EXPIRED
        app.expiring.pop(invoice_id, None)
        return invoice

    def _fiat_payment_asset(self, spec: InvoiceSpec, wanted: str | None) -> str:
        allowed = list(spec.accepted_assets or (a.code for a in ASSETS))
        if wanted is None:
            return "USDT" if "USDT" in allowed else allowed[0]
        if wanted not in allowed:
            raise ApiError(400, "PAID_ASSET_INVALID", f"{wanted} is not accepted")
        return wanted

    def sweep(self, app: App) -> None:
        """Lazy expiry: active invoices past expiration_date become expired on next access."""
        if not app.expiring:
            return
        now = self.now()
        due = [invoice_id for invoice_id, at in app.expiring.items() if at <= now]
        for invoice_id in due:
            del app.expiring[invoice_id]
            app.invoices[invoice_id].status = InvoiceStatus.EXPIRED

    # -- checks --------------------------------------------------------------------------

    def create_check(
        self,
        app: App,
        asset: str,
        amount: Decimal,
        pin_to_user_id: int | None = None,
        pin_to_username: str | None = None,
    ) -> Check:
        if asset not in ASSET_CODES:
            raise ApiError(400, "ASSET_INVALID")
        usd = self._usd(asset, amount)
        if usd is not None and usd < self.config.check_min_usd:
            raise ApiError(400, "AMOUNT_TOO_SMALL")
        balance = self._balance(app, asset)
        self._debit(balance, amount)
        balance.onhold += amount
        self._last_check_id += 1
        check = Check(
            check_id=self._last_check_id,
            hash=self._new_hash("CQ"),
            asset=asset,
            amount=amount,
            created_at=self.now(),
            pin_to_user_id=pin_to_user_id,
            pin_to_username=pin_to_username,
        )
        app.checks[check.check_id] = check
        return check

    def check(self, app: App, check_id: int, *, missing_status: int = 400) -> Check:
        found = app.checks.get(check_id)
        if found is None or found.deleted:
            raise ApiError(missing_status, "CHECK_NOT_FOUND")
        return found

    def delete_check(self, app: App, check_id: int) -> None:
        check = self.check(app, check_id)
        if check.status is CheckStatus.ACTIVATED:
            raise ApiError(400, "CHECK_ALREADY_ACTIVATED")
        balance = self._balance(app, check.asset)
        balance.onhold -= check.amount
        balance.available += check.amount
        check.deleted = True

    def activate_check(
        self, app: App, check_id: int, user_id: int, username: str | None = None
    ) -> Check:
        check = self.check(app, check_id, missing_status=404)
        if check.status is not CheckStatus.ACTIVE:
            raise ApiError(409, "CHECK_NOT_ACTIVE", f"check is {check.status}")
        if check.pin_to_user_id is not None and check.pin_to_user_id != user_id:
            raise ApiError(409, "CHECK_PINNED", "the check is pinned to another user_id")
        if check.pin_to_username is not None and check.pin_to_username != username:
            raise ApiError(409, "CHECK_PINNED", "the check is pinned to another username")
        self._balance(app, check.asset).onhold -= check.amount
        check.status = CheckStatus.ACTIVATED
        check.activated_at = self.now()
        check.activated_by = user_id
        return check

    def list_checks(self, app: App, where: CheckFilter) -> list[Check]:
        ids = set(where.check_ids) if where.check_ids is not None else None
        return [
            check
            for check in reversed(app.checks.values())
            if not check.deleted
            and (ids is None or check.check_id in ids)
            and (where.asset is None or check.asset == where.asset)
            and (where.status is None or check.status == where.status)
        ]

    # -- transfers -----------------------------------------------------------------------

    def transfer(self, app: App, spec: TransferSpec) -> Transfer:
        previous = app.spend_ids.get(spec.spend_id)
        if previous is not None:
            # spend_id exists to make retries safe: "replay" hands back the first result.
            if self.config.duplicate_spend_id == "replay":
                return app.transfers[previous]
            raise ApiError(400, "SPEND_ID_ALREADY_USED")
        if spec.asset not in ASSET_CODES:
            # The live API names the amount, not the asset (it cannot value an unknown asset).
            raise ApiError(400, "AMOUNT_INVALID")
        usd = self._usd(spec.asset, spec.amount)
        if usd is not None:
            if usd > self.config.transfer_max_usd:
                raise ApiError(400, "AMOUNT_TOO_BIG")
            if usd < self.config.transfer_min_usd:
                raise ApiError(400, "AMOUNT_TOO_SMALL")
        self._debit(self._balance(app, spec.asset), spec.amount)
        self._last_transfer_id += 1
        transfer = Transfer(self._last_transfer_id, spec, self.now())
        app.transfers[transfer.transfer_id] = transfer
        app.spend_ids[spec.spend_id] = transfer.transfer_id
        return transfer

    def list_transfers(self, app: App, where: TransferFilter) -> list[Transfer]:
        ids = set(where.transfer_ids) if where.transfer_ids is not None else None
        return [
            t
            for t in reversed(app.transfers.values())
            if (ids is None or t.transfer_id in ids)
            and (where.asset is None or t.spec.asset == where.asset)
            and (where.spend_id is None or t.spec.spend_id == where.spend_id)
        ]

    # -- stats ---------------------------------------------------------------------------

    def stats(self, app: App, start_at: datetime | None, end_at: datetime | None) -> AppStats:
        end = end_at or self.now()
        start = start_at or end - timedelta(hours=24)
        if end < start:
            raise ApiError(400, "END_AT_INVALID")
        if end - start > self.config.stats_max_interval:
            raise ApiError(400, "INTERVAL_TOO_BIG")
        self.sweep(app)
        invoices: Iterable[Invoice] = app.invoices.values()
        created = sum(1 for inv in invoices if start <= inv.created_at <= end)
        paid = [
            inv.payment
            for inv in invoices
            if inv.payment is not None and start <= inv.payment.paid_at <= end
        ]
        volume = sum((p.amount * p.usd_rate for p in paid), Decimal(0))
        conversion = Decimal(len(paid) * 100) / created if created else Decimal(0)
        return AppStats(
            volume=volume.quantize(Decimal("0.01")),
            conversion=conversion.quantize(Decimal("0.01")),
            unique_users_count=len({p.user_id for p in paid}),
            created_invoice_count=created,
            paid_invoice_count=len(paid),
            start_at=start,
            end_at=end,
        )

    # -- helpers -------------------------------------------------------------------------

    def _balance(self, app: App, asset: str) -> Balance:
        return app.balances.setdefault(asset, Balance())

    @staticmethod
    def _debit(balance: Balance, amount: Decimal) -> None:
        if amount > balance.available:
            raise ApiError(400, "NOT_ENOUGH_COINS")
        balance.available -= amount

    def _new_hash(self, prefix: str) -> str:
        while True:
            candidate = prefix + "".join(self.rng.choices(_HASH_ALPHABET, k=10))
            if candidate not in self._used_hashes:
                self._used_hashes.add(candidate)
                return candidate


__all__ = [
    "DEFAULT_PAYER_ID",
    "TOKEN_PATTERN",
    "CheckFilter",
    "InvoiceFilter",
    "Ledger",
    "PaymentRequest",
    "TransferFilter",
]
