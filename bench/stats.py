"""Pure figures: percentiles, latency summaries, overhead, process CPU and memory from /proc."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values, as Fortio and HdrHistogram
    report it: the smallest value that q % of the samples do not exceed."""
    if not sorted_values:
        return math.nan
    if q <= 0:
        return sorted_values[0]
    # Rounded first: 99.9 / 100 * 1000 is 999.0000000000001 in floating point.
    rank = math.ceil(round(q / 100 * len(sorted_values), 9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    """Latencies of one run, in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    mean: float

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> Latency:
        ordered = sorted(values_ms)
        if not ordered:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, nan)
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p99=percentile(ordered, 99),
            p999=percentile(ordered, 99.9),
            max=ordered[-1],
            mean=sum(ordered) / len(ordered),
        )

    def minus(self, base: Latency) -> Latency:
        """The overhead of this run over `base`, percentile by percentile (Dapr's definition)."""
        return Latency(
            count=self.count,
            p50=self.p50 - base.p50,
            p90=self.p90 - base.p90,
            p99=self.p99 - base.p99,
            p999=self.p999 - base.p999,
            max=self.max - base.max,
            mean=self.mean - base.mean,
        )


@dataclass(frozen=True, slots=True)
class ProcSample:
    """One reading of a process's counters from /proc."""

    cpu_seconds: float  # user + system, all threads
    rss_bytes: int
    peak_rss_bytes: int  # VmHWM: the high-water mark since start
    anon_rss_bytes: int = 0  # RssAnon: the process's own memory, without mapped libraries


def parse_proc_stat(stat: str, clock_ticks: int) -> float:
    """CPU seconds (utime + stime) from the text of /proc/<pid>/stat."""
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / clock_ticks


def parse_proc_status(status: str) -> tuple[int, int, int]:
    """(VmRSS, VmHWM, RssAnon) in bytes from the text of /proc/<pid>/status."""
    values = {"VmRSS": 0, "VmHWM": 0, "RssAnon": 0}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0]) * 1024  # always kB
    return values["VmRSS"], values["VmHWM"], values["RssAnon"]


def cpu_share(before: ProcSample, after: ProcSample, wall_seconds: float) -> float:
    """Process CPU seconds over wall seconds: 1.0 is one vCPU busy all the time."""
    if wall_seconds <= 0:
        return math.nan
    return (after.cpu_seconds - before.cpu_seconds) / wall_seconds


def meets(value: float, limit: float) -> bool:
    return not math.isnan(value) and value <= limit
