"""Everything one emulator instance owns, stored on the aiohttp application."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from .config import EmulatorConfig
from .delivery import RetryPolicy, WebhookDeliverer
from .faults import FaultBook
from .models import App, Invoice
from .serialize import invoice_json
from .state import Ledger
from .stats import RequestStats


@dataclass
class EmulatorContext:
    config: EmulatorConfig
    ledger: Ledger = field(init=False)
    faults: FaultBook = field(init=False)
    stats: RequestStats = field(init=False)
    webhooks: WebhookDeliverer = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.config)
        self.faults = FaultBook(self.config.seed)
        self.stats = RequestStats()
        policy = RetryPolicy(
            base=self.config.webhook_retry_base,
            cap=self.config.webhook_retry_cap,
            max_attempts=self.config.webhook_max_attempts,
            timeout=self.config.webhook_timeout,
        )
        self.webhooks = WebhookDeliverer(policy, self.now)

    def now(self) -> datetime:
        # Late-bound so a state reset (new ledger) keeps webhook dates on the same clock.
        return self.ledger.now()

    def reset_state(self) -> None:
        """Forget every app, rate override and fault; the delivery log stays for inspection."""
        self.ledger = Ledger(self.config)
        self.faults = FaultBook(self.config.seed)

    def notify_paid(self, app: App, invoice: Invoice) -> None:
        """Send ``invoice_paid`` if the app (or the emulator) has a webhook URL."""
        url = app.webhook_url or self.config.webhook_url
        if url is None:
            return
        self.webhooks.send(
            token=app.token,
            url=url,
            app_id=app.app_id,
            update_id=self.ledger.next_update_id(app),
            payload=invoice_json(invoice, self.ledger.links),
        )


CONTEXT: web.AppKey[EmulatorContext] = web.AppKey("cryptopay_emulator", EmulatorContext)
