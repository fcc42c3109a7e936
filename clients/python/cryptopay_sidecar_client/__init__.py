"""Python client for cryptopay-sidecar: the Crypto Pay API over gRPC.

from cryptopay_sidecar_client import aio_channel, pb, CryptoPayServiceStub, call_idempotent

async with aio_channel() as channel:  # $CRYPTOPAY_SIDECAR_TARGET or 127.0.0.1:50051
    stub = CryptoPayServiceStub(channel)
    result = await call_idempotent(
        stub.CreateInvoice, pb.CreateInvoiceRequest(asset="USDT", amount="10")
    )
    print(result.response.invoice.bot_invoice_url)
"""

from cryptopay_sidecar_client.channel import (
    DEFAULT_TARGET,
    READ_METHODS,
    TARGET_ENV,
    aio_channel,
    channel,
    channel_options,
    service_config,
)
from cryptopay_sidecar_client.errors import ErrorDetails, error_details
from cryptopay_sidecar_client.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from cryptopay_sidecar_client.gen.cryptopay.v1 import types_pb2 as types
from cryptopay_sidecar_client.gen.cryptopay.v1.cryptopay_service_pb2_grpc import (
    CryptoPayServiceStub,
)
from cryptopay_sidecar_client.idempotency import (
    IDEMPOTENCY_KEY,
    REPLAYED,
    Idempotent,
    call_idempotent,
    call_idempotent_sync,
    idempotency_metadata,
    new_idempotency_key,
)
from cryptopay_sidecar_client.retry import Backoff, may_resend
from cryptopay_sidecar_client.subscribe import resumable
from cryptopay_sidecar_client.tls import TlsConfigError, TlsOptions, resolve_tls

# Webhook event streams (subscribe_events, ack_events, nack_events) live in
# cryptopay_sidecar_client.events: they need the WebhookService in the generated code.

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TARGET",
    "IDEMPOTENCY_KEY",
    "READ_METHODS",
    "REPLAYED",
    "TARGET_ENV",
    "Backoff",
    "CryptoPayServiceStub",
    "ErrorDetails",
    "Idempotent",
    "TlsConfigError",
    "TlsOptions",
    "aio_channel",
    "call_idempotent",
    "call_idempotent_sync",
    "channel",
    "channel_options",
    "error_details",
    "idempotency_metadata",
    "may_resend",
    "new_idempotency_key",
    "pb",
    "resolve_tls",
    "resumable",
    "service_config",
    "types",
]
