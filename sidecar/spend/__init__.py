"""Spend caps' counters: an interface, an in-memory store and a Redis store (see store.py)."""
