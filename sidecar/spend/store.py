"""Spend counters: the interface both stores implement, and exact money arithmetic.

A counter (a Bucket) holds reservations: amounts set aside before an upstream call. Reserving
checks `spent + reserved + amount <= cap` and records the reservation in one atomic step, so
concurrent requests, on any number of replicas, can never push the total past the cap.

    reserve  -> RESERVED (or DENIED: over the cap; FORCED: over the cap, recorded anyway, for
                audit mode)
    commit   the upstream call succeeded: the amount is spent
    release  the call definitely did not happen: the amount is free again

A reservation may carry a lease: if it is neither committed nor released when its lease ends, the
process that made it died, and the store frees it (a crash costs at most one lease of cap, not a
window). A commit is honoured however late it comes. A call whose outcome is unknown commits: the
money may be gone, so it counts until the window passes. A reservation without a lease keeps
counting until its window passes.

Amounts are integers of minor units at a fixed scale of 10^-18 (the API's finest precision), never
floats: `to_minor(Decimal("0.1")) == 10**17`.
"""

from __future__ import annotations

import decimal
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sidecar.store_base import Store

SCALE = 18
UNIT = 10**SCALE
# Amounts have up to 20 + 18 digits; Python's default context keeps 28 and would round sums.
EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])


def to_minor(amount: Decimal) -> int:
    """Exact minor units (no rounding, whatever the size); refuses amounts finer than 10^-18,
    negative amounts and non-numbers."""
    sign, digits, exponent = amount.as_tuple()
    if sign or not isinstance(exponent, int):
        raise ValueError(f"{amount} is not a non-negative amount")
    coefficient = int("".join(map(str, digits)) or "0")
    shift: int = exponent + SCALE
    if shift >= 0:
        return coefficient * int(10**shift)
    units, rest = divmod(coefficient, int(10 ** (-shift)))
    if rest:
        raise ValueError(f"{amount} has more than {SCALE} decimal places")
    return units


def from_minor(units: int) -> Decimal:
    """Exact (the wide context never rounds; it would raise instead)."""
    return Decimal(units).scaleb(-SCALE, EXACT)


def lease_ms(lease: float) -> int:
    """A lease in whole milliseconds; 0: none. A lease shorter than a millisecond is one, never
    none, so it cannot outlive what it was asked to."""
    if lease < 0:
        raise ValueError("a lease is not negative")
    return 0 if lease == 0 else max(1, int(lease * 1000))


def plain(amount: Decimal) -> str:
    """An amount as people write it: no exponent, no trailing zeros ("1E+2" -> "100")."""
    text = f"{amount:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One counter: a caller's spending of one asset in one window."""

    key: (
        str  # e.g. "123:payouts:USDT:rolling_24h" or "123:payouts:USDT:calendar_day@UTC:2025-01-31"
    )
    window_ms: int  # rolling window length; 0: the bucket itself is the window (a calendar day)
    ttl_ms: int  # how long the store keeps the bucket after a write


class Status(enum.Enum):
    RESERVED = "reserved"
    FORCED = "forced"  # over the cap, recorded anyway (audit mode)
    DENIED = "denied"  # over the cap, nothing recorded
    DUPLICATE = "duplicate"  # this reservation id already exists; nothing changed


@dataclass(frozen=True, slots=True)
class Reservation:
    status: Status
    total: Decimal  # spent + reserved in the bucket after the operation (before, if denied)

    @property
    def admitted(self) -> bool:
        return self.status in (Status.RESERVED, Status.FORCED)


class SpendStore(Store, Protocol):
    async def reserve(
        self,
        bucket: Bucket,
        reservation_id: str,
        amount: Decimal,
        cap: Decimal,
        *,
        force: bool,
        owner: str = "",
        lease: float = 0.0,
    ) -> Reservation:
        """Atomically: if total + amount <= cap (or force), records the reservation, made by
        `owner` (letters and digits: who may release it by name, see release). `lease` seconds
        (0: none): unsettled by then, it is freed."""

    async def commit(self, bucket: Bucket, reservation_id: str) -> bool:
        """Marks a reservation spent; False if it is unknown (expired) or already committed."""

    async def release(self, bucket: Bucket, reservation_id: str, *, owner: str = "") -> bool:
        """Frees a reservation that was not committed; False if unknown or committed. With an
        owner, only a reservation that owner made (to clean up after a reserve whose answer was
        lost, without freeing another call's reservation of the same id)."""

    async def total(self, bucket: Bucket) -> Decimal:
        """Spent + reserved in the bucket's current window."""
