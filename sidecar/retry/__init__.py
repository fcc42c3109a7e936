"""Retries: the pure decision (policy), the retry budget, and the request-path step (retrier)."""
