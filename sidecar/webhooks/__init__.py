"""Verified Crypto Pay webhooks, kept in a durable event log and streamed over gRPC.

    ingest (HTTP) -> verify -> dedupe + append (event log) -> tail -> subscribers (gRPC)

docs/webhooks.md describes the behaviour; each step has its own module.
"""
