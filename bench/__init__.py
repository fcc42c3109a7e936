"""Benchmarks of the sidecar, run on demand: `python -m bench` (see docs/performance.md)."""
