"""Emulator settings. Defaults suit fast tests; docs/emulator.md describes every field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from .catalog import STARTING_BALANCES, Network
from .formats import utc_now

Clock = Callable[[], datetime]
DuplicateSpendIdMode = Literal["replay", "error"]


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    # Accept only these tokens; empty means every well-formed token gets its own app.
    tokens: tuple[str, ...] = ()
    # Deliver every app's webhooks here unless the app sets its own URL.
    webhook_url: str | None = None
    # Seeds hashes and probabilistic faults; None means not reproducible.
    seed: int | None = None
    duplicate_spend_id: DuplicateSpendIdMode = "replay"
    network: Network = "mainnet"
    clock: Clock = utc_now
    starting_balances: Mapping[str, Decimal] = field(default_factory=STARTING_BALANCES.copy)
    # Methods disabled for new apps (the real service disables ``transfer`` by default).
    disabled_methods: frozenset[str] = frozenset()
    fee_rate: Decimal = Decimal("0.03")
    transfer_min_usd: Decimal = Decimal("1")
    # The real minimums of invoices and checks are not published; see docs/emulator.md.
    invoice_min_usd: Decimal = Decimal("0.01")
    check_min_usd: Decimal = Decimal("0.01")
    transfer_max_usd: Decimal = Decimal("25000")
    stats_max_interval: timedelta = timedelta(days=731)
    webhook_retry_base: float = 0.2
    webhook_retry_cap: float = 5.0
    webhook_max_attempts: int = 20
    webhook_timeout: float = 5.0
