"""What the webhook side needs to know once CreateInvoice succeeded: the pipeline's one
"after success" hook.

The invoice's trace context is remembered (when the trace is sampled) so the webhook's span
can link back to it, and the invoice is tracked for the reconciliation sweep (when it runs).
"""

from __future__ import annotations

import logging

from google.protobuf.message import Message
from opentelemetry import trace

from sidecar.pipeline import Call
from sidecar.store_base import StoreUnavailable
from sidecar.telemetry import links, tracing
from sidecar.webhooks.log import EventLog

log = logging.getLogger(__name__)

CREATE_INVOICE = "CreateInvoice"


class InvoiceCreated:
    def __init__(
        self, trace_links: links.TraceContextStore | None, tracked: EventLog | None = None
    ) -> None:
        self._links = trace_links
        self._tracked = tracked  # the event log the sweep reads (None: no sweep)

    async def __call__(self, call: Call, response: Message) -> None:
        if call.spec.rpc != CREATE_INVOICE:
            return
        invoice_id = int(getattr(getattr(response, "invoice", None), "invoice_id", 0))
        # Only a call that reached the upstream created the invoice (a replay did not).
        if call.attempts:
            tracing.annotate({tracing.INVOICE_ID: invoice_id})
            # An unsampled trace is never exported, so nothing could link to it: skip the
            # write (without an exporter this saves a Redis round trip per CreateInvoice).
            if (
                self._links is not None
                and trace.get_current_span().get_span_context().trace_flags.sampled
            ):
                await links.remember_invoice(self._links, invoice_id)
        if self._tracked is not None and invoice_id:
            try:
                await self._tracked.track([invoice_id])
            except StoreUnavailable as exc:
                log.warning(
                    "invoice not tracked for reconciliation",
                    extra={"invoice_id": invoice_id, "error": str(exc)},
                )
