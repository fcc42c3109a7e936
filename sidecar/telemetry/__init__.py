"""Observability: traces (tracing), Prometheus metrics (metrics), readiness (health) and the
trace links across the webhook's async gap (links). Every feature reports through the small
functions of these modules; docs/observability.md lists what they produce."""
