"""Ledger records. Mutable on purpose: the ledger updates them in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class InvoiceStatus(StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    EXPIRED = "expired"


class CheckStatus(StrEnum):
    ACTIVE = "active"
    ACTIVATED = "activated"


@dataclass(slots=True)
class Balance:
    available: Decimal = Decimal(0)
    onhold: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class InvoiceSpec:
    """Validated createInvoice arguments."""

    amount: Decimal
    currency_type: str = "crypto"
    asset: str | None = None
    fiat: str | None = None
    accepted_assets: tuple[str, ...] | None = None
    description: str | None = None
    hidden_message: str | None = None
    paid_btn_name: str | None = None
    paid_btn_url: str | None = None
    payload: str | None = None
    allow_comments: bool = True
    allow_anonymous: bool = True
    expires_in: int | None = None
    swap_to: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    asset: str
    amount: Decimal
    usd_rate: Decimal
    fee_amount: Decimal
    fee_in_usd: Decimal
    paid_at: datetime
    anonymously: bool
    user_id: int
    fiat_rate: Decimal | None = None
    comment: str | None = None


@dataclass(slots=True)
class Invoice:
    invoice_id: int
    hash: str
    spec: InvoiceSpec
    created_at: datetime
    expiration_date: datetime | None
    status: InvoiceStatus = InvoiceStatus.ACTIVE
    payment: Payment | None = None
    deleted: bool = False


@dataclass(slots=True)
class Check:
    check_id: int
    hash: str
    asset: str
    amount: Decimal
    created_at: datetime
    pin_to_user_id: int | None = None
    pin_to_username: str | None = None
    status: CheckStatus = CheckStatus.ACTIVE
    activated_at: datetime | None = None
    activated_by: int | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class TransferSpec:
    user_id: int
    asset: str
    amount: Decimal
    spend_id: str
    comment: str | None = None
    disable_send_notification: bool = False


@dataclass(frozen=True, slots=True)
class Transfer:
    transfer_id: int
    spec: TransferSpec
    completed_at: datetime
    status: str = "completed"


@dataclass(frozen=True, slots=True)
class AppStats:
    volume: Decimal
    conversion: Decimal
    unique_users_count: int
    created_invoice_count: int
    paid_invoice_count: int
    start_at: datetime
    end_at: datetime


@dataclass(slots=True)
class App:
    """One Crypto Pay app, keyed by its token."""

    token: str
    app_id: int
    name: str
    balances: dict[str, Balance]
    disabled_methods: set[str]
    invoices: dict[int, Invoice] = field(default_factory=dict)
    checks: dict[int, Check] = field(default_factory=dict)
    transfers: dict[int, Transfer] = field(default_factory=dict)
    spend_ids: dict[str, int] = field(default_factory=dict)
    # Active invoices that carry an expiration_date: the only ones the lazy sweep must visit.
    expiring: dict[int, datetime] = field(default_factory=dict)
    webhook_url: str | None = None
    last_update_id: int = 0
