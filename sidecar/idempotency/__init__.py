"""Idempotency: Stripe's semantics over gRPC metadata, with in-memory and Redis stores."""
