"""The dedupe key of an update (pure).

Crypto Pay documents `update_id` as non-unique, and a redelivery may carry a new request_date,
so neither identifies an update. `invoice_paid` is terminal for its invoice, so
(update_type, invoice_id) does. An update type without an invoice id (none exists today) is
keyed by a hash of its payload, which stays the same across redeliveries.
"""

from __future__ import annotations

import hashlib
import json

from sidecar.webhooks.verify import Update


def invoice_key(update_type: str, invoice_id: int) -> str:
    return f"{update_type}:{invoice_id}"


def dedupe_key(update: Update) -> str:
    if update.invoice_id is not None:
        return invoice_key(update.update_type, update.invoice_id)
    canonical = json.dumps(
        update.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
    return f"{update.update_type}:payload:{digest}"
