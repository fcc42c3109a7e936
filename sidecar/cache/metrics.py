"""What the cache counts, behind a small interface so any metrics backend can be plugged in.

`CacheCounters` keeps the counts in process (the admin endpoint shows them) and forwards them;
`Exported` forwards them to the sidecar's Prometheus registry, as:

    cryptopay_sidecar_cache_requests_total{method, result}     hit|miss|stale|bypass
    cryptopay_sidecar_cache_stale_total{method, reason}        revalidating|upstream-error|timeout
    cryptopay_sidecar_cache_refreshes_total{method, mode}      foreground|background
    cryptopay_sidecar_cache_refresh_failures_total{method, reason}   the ErrorInfo reason
    cryptopay_sidecar_cache_store_errors_total{operation}      the store was unreachable
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from sidecar.telemetry import metrics

PREFIX = "cryptopay_sidecar_cache_"


class CacheMetrics(Protocol):
    def served(self, method: str, result: str) -> None: ...

    def stale(self, method: str, reason: str) -> None: ...

    def refreshed(self, method: str, mode: str) -> None: ...

    def refresh_failed(self, method: str, reason: str) -> None: ...

    def store_error(self, operation: str) -> None: ...


class Exported:
    """Reports to the sidecar's Prometheus registry (`GET /metrics`)."""

    def served(self, method: str, result: str) -> None:
        metrics.cache_request(method, result)

    def stale(self, method: str, reason: str) -> None:
        metrics.cache_stale(method, reason)

    def refreshed(self, method: str, mode: str) -> None:
        metrics.cache_refreshed(method, mode)

    def refresh_failed(self, method: str, reason: str) -> None:
        metrics.cache_refresh_failed(method, reason)

    def store_error(self, operation: str) -> None:
        metrics.cache_store_error(operation)


class CacheCounters:
    """In-process counters, keyed by (metric name, label values)."""

    def __init__(self, forward: CacheMetrics | None = None) -> None:
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._forward = forward

    def _add(self, name: str, **labels: str) -> None:
        self.counts[(PREFIX + name, tuple(sorted(labels.items())))] += 1

    def served(self, method: str, result: str) -> None:
        self._add("requests_total", method=method, result=result)
        if self._forward is not None:
            self._forward.served(method, result)

    def stale(self, method: str, reason: str) -> None:
        self._add("stale_total", method=method, reason=reason)
        if self._forward is not None:
            self._forward.stale(method, reason)

    def refreshed(self, method: str, mode: str) -> None:
        self._add("refreshes_total", method=method, mode=mode)
        if self._forward is not None:
            self._forward.refreshed(method, mode)

    def refresh_failed(self, method: str, reason: str) -> None:
        self._add("refresh_failures_total", method=method, reason=reason)
        if self._forward is not None:
            self._forward.refresh_failed(method, reason)

    def store_error(self, operation: str) -> None:
        self._add("store_errors_total", operation=operation)
        if self._forward is not None:
            self._forward.store_error(operation)

    def value(self, name: str, **labels: str) -> int:
        return self.counts[(PREFIX + name, tuple(sorted(labels.items())))]

    def snapshot(self) -> list[dict[str, object]]:
        """The counters as JSON-friendly rows, for the admin endpoint."""
        return [
            {"name": name, "labels": dict(labels), "value": value}
            for (name, labels), value in sorted(self.counts.items())
        ]
