"""The benchmark scenarios. Each returns figures for the report, or the reason it cannot run.

1. overhead   - Dapr's method: the same open-loop load directly against the upstream's HTTP API
                and through the sidecar's gRPC API; the difference per percentile.
2. throughput - the highest rate the sidecar sustains on one core with p99 under 10 ms.
3. limiter    - rate-limit decision latency and Redis commands per decision.
4. webhooks   - ingest-to-subscriber latency with 10 subscribers, and events per second.
5. startup    - time from exec to SERVING, and idle RSS.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench import h2load, pyload
from bench.features import Features
from bench.limiter import LimiterResult
from bench.limiter import result_from as limiter_result
from bench.procs import (
    BENCH_TOKEN,
    BenchError,
    Cluster,
    Pinning,
    Proc,
    RunningSidecar,
    start_emulator,
    start_redis,
    start_sidecar,
    start_stub,
)
from bench.stats import Latency, cpu_share
from bench.webhooks import WebhookResult
from bench.webhooks import result_from as webhook_result

if TYPE_CHECKING:
    from sidecar.gen.cryptopay.v1.cryptopay_service_pb2 import CreateInvoiceRequest

PAYLOAD_BYTES = 1024  # Dapr's payload size: the JSON body of the direct request
THROUGHPUT_P99_MS = 10.0


@dataclass(frozen=True)
class Settings:
    rate: float = 1000.0
    connections: int = 16
    duration: float = 60.0
    warmup: float = 5.0
    upstreams: tuple[str, ...] = ("emulator", "stub")
    step_duration: float = 10.0  # each throughput step
    throughput_start: float = 500.0
    throughput_max: float = 6000.0
    startup_runs: int = 3
    idle_seconds: float = 2.0
    pin: bool = True


@dataclass
class Context:
    settings: Settings
    features: Features
    pinning: Pinning
    h2load: str | None  # None: the Python generator drives every run
    workdir: Path
    log: Callable[[str], None]
    policy_path: Path | None = None

    @property
    def generator(self) -> str:
        return h2load.describe(self.h2load) if self.h2load else pyload.GENERATOR


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One load run and what the sidecar spent on it (no sidecar figures for direct runs)."""

    label: str
    generator: str
    latency: Latency
    achieved_rate: float
    ok: bool
    notes: tuple[str, ...] = ()
    cpu: float | None = None  # vCPU
    cpu_us_per_request: float | None = None
    peak_rss_mb: float | None = None
    anon_rss_mb: float | None = None
    redis_per_request: tuple[float, float] | None = None  # (commands, script calls)


@dataclass(frozen=True)
class Comparison:
    label: str
    run: Run
    base: Run

    @property
    def difference(self) -> Latency:
        return self.run.latency.minus(self.base.latency)


@dataclass(frozen=True)
class Overhead:
    upstream: str
    path: str  # what the sidecar enabled
    runs: tuple[Run, ...]
    comparisons: tuple[Comparison, ...]

    @property
    def headline(self) -> Comparison:
        return self.comparisons[0]


@dataclass(frozen=True)
class ThroughputStep:
    rate: float
    achieved: float
    latency: Latency
    cpu: float
    passed: bool


@dataclass(frozen=True)
class ThroughputResult:
    upstream: str
    steps: tuple[ThroughputStep, ...]

    @property
    def best(self) -> ThroughputStep | None:
        passed = [s for s in self.steps if s.passed]
        return max(passed, key=lambda s: s.achieved) if passed else None


@dataclass(frozen=True)
class StartupResult:
    seconds: tuple[float, ...]
    idle_rss_mb: tuple[float, ...]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_idle_rss_mb(self) -> float:
        return statistics.median(self.idle_rss_mb)


@dataclass(frozen=True)
class NotAvailable:
    reason: str


@dataclass
class Results:
    overhead: list[Overhead] = field(default_factory=list)
    throughput: ThroughputResult | NotAvailable | None = None
    limiter: object = None
    webhooks: object = None
    startup: StartupResult | NotAvailable | None = None


# --- requests ------------------------------------------------------------------------------------


def invoice_params(payload_bytes: int = PAYLOAD_BYTES) -> dict[str, str]:
    """createInvoice parameters whose JSON body is `payload_bytes` long (the description pads)."""
    base = {"asset": "USDT", "amount": "1.5", "description": ""}
    padding = payload_bytes - len(json.dumps(base))
    return {**base, "description": "x" * max(padding, 0)}


def invoice_message(params: dict[str, str]) -> CreateInvoiceRequest:
    from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb

    return pb.CreateInvoiceRequest(
        asset=params["asset"], amount=params["amount"], description=params["description"]
    )


def direct_target(upstream_url: str, params: dict[str, str]) -> h2load.Target:
    return h2load.Target(
        url=f"{upstream_url}/api/createInvoice",
        body=json.dumps(params).encode(),
        headers=(f"Crypto-Pay-API-Token: {BENCH_TOKEN}", "content-type: application/json"),
        http1=True,
    )


def grpc_target(sidecar: RunningSidecar, params: dict[str, str]) -> h2load.Target:
    message = invoice_message(params).SerializeToString()
    return h2load.Target(
        url=f"http://{sidecar.target}/cryptopay.v1.CryptoPayService/CreateInvoice",
        body=h2load.grpc_frame(message),
        headers=h2load.GRPC_HEADERS,
    )


def load(
    ctx: Context,
    target: h2load.Target,
    workdir: Path,
    *,
    rate: float | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    keys: bool = False,
) -> h2load.LoadResult:
    """One open-loop run with h2load, or with the Python workers when h2load is missing or
    each request needs its own idempotency-key."""
    s = ctx.settings
    rate = rate or s.rate
    duration = s.duration if duration is None else duration
    warmup = s.warmup if warmup is None else warmup
    if ctx.h2load and not keys:
        return h2load.run(
            target,
            rate=rate,
            connections=s.connections,
            duration_s=duration,
            warmup_s=warmup,
            workdir=workdir,
            cpus=ctx.pinning.others,
            binary=ctx.h2load,
        )
    if target.http1:
        address, body = target.url, target.body
    else:  # the Python workers send the bare message: strip the gRPC frame header
        address, body = target.url.split("//", 1)[1].split("/", 1)[0], target.body[5:]
    return pyload.run(
        address,
        body,
        rate=rate,
        connections=s.connections,
        duration_s=duration,
        warmup_s=warmup,
        workdir=workdir,
        cpus=ctx.pinning.others,
        keys=keys,
    )


def sustained(result: h2load.LoadResult) -> tuple[str, ...]:
    """A note when the run fell short of its rate: its latencies are then those of a
    saturated process, not of the rate asked for."""
    if result.achieved_rate >= 0.95 * result.target_rate:
        return ()
    return (f"reached {result.achieved_rate:.0f} of {result.target_rate:.0f} QPS",)


def check_call(sidecar: RunningSidecar, params: dict[str, str]) -> None:
    """One real call before the load: a misconfigured run fails here with the gRPC error."""
    import grpc

    from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc

    with grpc.insecure_channel(sidecar.target) as channel:
        stub = pb_grpc.CryptoPayServiceStub(channel)
        try:
            stub.CreateInvoice(invoice_message(params), timeout=10)
        except grpc.RpcError as exc:
            raise BenchError(f"CreateInvoice through the sidecar failed: {exc}") from None


def upstream_count(kind: str, url: str) -> int:
    if kind == "stub":
        request = urllib.request.Request(f"{url}/_stub/stats")
    else:
        request = urllib.request.Request(
            f"{url}/_emulator/stats", headers={"Crypto-Pay-API-Token": BENCH_TOKEN}
        )
    with urllib.request.urlopen(request, timeout=5) as response:
        data = json.loads(response.read())
    stats = data.get("result", data)
    return int(stats["total"])


SCRIPT_COMMANDS = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_fcall", "cmdstat_evalsha_ro")


def redis_commands(url: str) -> tuple[int, int]:
    """(commands, script calls) Redis has run so far. Commands run inside a script count too
    (that is how Redis counts them); script calls are the sidecar's round trips for them."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    # The harness's own INFO calls are not the sidecar's.
    mine = ("cmdstat_info", "cmdstat_ping")
    commands = sum(int(v["calls"]) for k, v in stats.items() if k not in mine)
    scripts = sum(int(v["calls"]) for k, v in stats.items() if k in SCRIPT_COMMANDS)
    return commands, scripts


# --- the sidecar's configuration -----------------------------------------------------------------


def sidecar_args(ctx: Context, redis_url: str | None) -> tuple[list[str], str]:
    """Flags for the real path (policy, limiter, idempotency on Redis) as far as they exist."""
    args: list[str] = []
    enabled = []
    if ctx.policy_path is not None:
        args += ["--policy", str(ctx.policy_path)]
        enabled.append("policy")
        if ctx.features.ratelimit:
            enabled.append("limiter")
    if redis_url is not None:
        args += ["--redis-url", redis_url]
        enabled.append("Redis")
    if ctx.features.idempotency:
        enabled.append("idempotency")
    if ctx.features.telemetry:
        enabled.append("metrics")
    return args, " + ".join(enabled) or "request path only"


def start_upstream(ctx: Context, cluster: Cluster, kind: str) -> tuple[Proc, str]:
    if kind == "stub":
        padding = len(invoice_params()["description"])
        return start_stub(cluster, ctx.pinning.others, padding)
    return start_emulator(cluster, ctx.pinning.others)


# --- 1. overhead ---------------------------------------------------------------------------------


def overhead(ctx: Context, kind: str, with_keys: bool) -> Overhead:
    """Direct vs through the sidecar; with `with_keys`, also the cost of an idempotency-key
    per request (Python workers with and without keys, as h2load cannot vary metadata)."""
    s = ctx.settings
    params = invoice_params()
    with Cluster(ctx.workdir / f"overhead-{kind}") as cluster:
        _, upstream_url = start_upstream(ctx, cluster, kind)
        redis_url = start_redis(cluster, ctx.pinning.others)[1] if ctx.features.redis else None
        args, path = sidecar_args(ctx, redis_url)
        sidecar = start_sidecar(cluster, ctx.pinning.sidecar, upstream_url, args)
        check_call(sidecar, params)

        ctx.log(f"overhead/{kind}: direct, {s.rate:g} QPS x {s.duration:g}s")
        result = load(ctx, direct_target(upstream_url, params), cluster.workdir)
        direct = Run(
            "direct (HTTP/1.1)",
            result.generator,
            result.latency,
            result.achieved_rate,
            result.ok and not sustained(result),
            result.notes + sustained(result),
        )

        def through(label: str, keys: bool) -> Run:
            ctx.log(f"overhead/{kind}: {label}")
            calls_before = upstream_count(kind, upstream_url)
            redis_before = redis_commands(redis_url) if redis_url else (0, 0)
            before, started = sidecar.proc.sample(), time.monotonic()
            result = load(ctx, grpc_target(sidecar, params), cluster.workdir, keys=keys)
            after, wall = sidecar.proc.sample(), time.monotonic() - started
            calls = upstream_count(kind, upstream_url) - calls_before
            redis_per_request = None
            if redis_url:
                commands, scripts = redis_commands(redis_url)
                redis_per_request = (
                    (commands - redis_before[0]) / result.sent,
                    (scripts - redis_before[1]) / result.sent,
                )
            notes = result.notes + sustained(result)
            if calls != result.sent:
                notes += (f"{result.sent} sent, {calls} reached the upstream",)
            return Run(
                label,
                result.generator,
                result.latency,
                result.achieved_rate,
                result.ok and calls == result.sent and not sustained(result),
                notes,
                cpu=cpu_share(before, after, wall),
                cpu_us_per_request=(after.cpu_seconds - before.cpu_seconds) / result.sent * 1e6,
                peak_rss_mb=after.peak_rss_bytes / 2**20,
                anon_rss_mb=after.anon_rss_bytes / 2**20,
                redis_per_request=redis_per_request,
            )

        sidecar_run = through("through the sidecar (gRPC)", keys=False)
        runs = [direct, sidecar_run]
        comparisons = [Comparison("**overhead**", sidecar_run, direct)]
        if with_keys:
            plain = through("through the sidecar, Python workers, no key", keys=False)
            keyed = through("through the sidecar, Python workers, idempotency-key", keys=True)
            runs += [plain, keyed]
            comparisons.append(Comparison("idempotency-key cost", keyed, plain))
    return Overhead(kind, path, tuple(runs), tuple(comparisons))


# --- 2. throughput -------------------------------------------------------------------------------


def throughput(ctx: Context, kind: str = "stub") -> ThroughputResult:
    """Raises the rate step by step until p99 passes 10 ms or the rate is not reached."""
    s = ctx.settings
    params = invoice_params()
    steps: list[ThroughputStep] = []
    with Cluster(ctx.workdir / "throughput") as cluster:
        _, upstream_url = start_upstream(ctx, cluster, kind)
        redis_url = start_redis(cluster, ctx.pinning.others)[1] if ctx.features.redis else None
        args, _ = sidecar_args(ctx, redis_url)
        sidecar = start_sidecar(cluster, ctx.pinning.sidecar, upstream_url, args)
        check_call(sidecar, params)
        target = grpc_target(sidecar, params)
        rate: float | None = s.throughput_start
        passed_at: float | None = None
        failed_at: float | None = None
        while rate is not None:
            ctx.log(f"throughput: {rate:g} QPS x {s.step_duration:g}s")
            before, started = sidecar.proc.sample(), time.monotonic()
            result = load(
                ctx,
                target,
                cluster.workdir,
                rate=rate,
                duration=s.step_duration,
                warmup=min(2.0, s.step_duration / 2),
            )
            cpu = cpu_share(before, sidecar.proc.sample(), time.monotonic() - started)
            passed = (
                result.ok
                and result.latency.p99 <= THROUGHPUT_P99_MS
                and result.achieved_rate >= 0.97 * rate
            )
            steps.append(ThroughputStep(rate, result.achieved_rate, result.latency, cpu, passed))
            if passed:
                passed_at = rate
            else:
                failed_at = rate
            rate = next_step(passed_at, failed_at, s.throughput_max)
    return ThroughputResult(kind, tuple(steps))


def next_rate(rate: float) -> float:
    """Steps of 250 QPS up to 2,000, then 500: fine where the answer is likely to be."""
    return rate + (250 if rate < 2000 else 500)


def next_step(passed_at: float | None, failed_at: float | None, ceiling: float) -> float | None:
    """The next rate to try, or None when the answer is known within 50 QPS: up in steps
    while every step passes, then halfway between the best pass and the first failure (or
    halving when even the first step failed)."""
    if failed_at is None:
        assert passed_at is not None
        up = next_rate(passed_at)
        return up if up <= ceiling else None
    if passed_at is None:
        down = failed_at / 2
        return down if down >= 25 else None
    if failed_at - passed_at <= 50:
        return None
    return float(round((passed_at + failed_at) / 2 / 25) * 25)


# --- 5. startup ----------------------------------------------------------------------------------


def startup(ctx: Context) -> StartupResult:
    s = ctx.settings
    seconds: list[float] = []
    idle: list[float] = []
    with Cluster(ctx.workdir / "startup") as cluster:
        _, upstream_url = start_upstream(ctx, cluster, "stub")
        redis_url = start_redis(cluster, ctx.pinning.others)[1] if ctx.features.redis else None
        args, _ = sidecar_args(ctx, redis_url)
        for i in range(s.startup_runs):
            ctx.log(f"startup: run {i + 1}/{s.startup_runs}")
            sidecar = start_sidecar(
                cluster, ctx.pinning.sidecar, upstream_url, args, name=f"sidecar-{i}"
            )
            seconds.append(sidecar.startup_seconds)
            time.sleep(s.idle_seconds)
            idle.append(sidecar.proc.sample().rss_bytes / 2**20)
            cluster.stop(sidecar.proc)
    return StartupResult(tuple(seconds), tuple(idle))


# --- policy --------------------------------------------------------------------------------------


def write_policy(ctx: Context) -> Path | None:
    """A generous policy for the real path, when the sidecar has policies: every rule is
    evaluated on every call, none denies, and the limiter's buckets never run dry at the
    benchmark's rates."""
    if not ctx.features.policy:
        return None
    path = ctx.workdir / "bench-policy.yaml"
    path.write_text(POLICY + (RATE_LIMITS if ctx.features.ratelimit else ""))
    return path


POLICY = """\
# Generous on purpose: every rule is evaluated on every call, none denies.
version: 1
mode: enforce
defaults:
  rpcs:
    allow: [GetMe, CreateInvoice, DeleteInvoice, CreateCheck, DeleteCheck, Transfer, GetInvoices,
            GetTransfers, GetChecks, GetBalance, GetExchangeRates, GetCurrencies, GetStats]
  assets:
    allow: [USDT, TON, BTC, ETH]
  amounts:
    USDT: {min: "0.01", max: "1000000"}
"""

# The app, caller and RPC buckets a CreateInvoice draws from, far above the benchmark's rates.
RATE_LIMITS = """\
rate_limits:
  app: {rate: 1000000/s, burst: 100000}
  callers:
    "*": 1000000/s
  rpcs:
    CreateInvoice: 1000000/s
"""


# --- 3. limiter ----------------------------------------------------------------------------------


def limiter(ctx: Context) -> LimiterResult | NotAvailable:
    if not ctx.features.ratelimit:
        return NotAvailable("the sidecar has no rate limiter (sidecar/ratelimit) yet")
    if not ctx.features.redis:
        return NotAvailable("the sidecar has no Redis support")
    decisions = 500 if ctx.settings.duration < 10 else 5000
    concurrency = 16
    with Cluster(ctx.workdir / "limiter") as cluster:
        _, redis_url = start_redis(cluster, ctx.pinning.others)
        ctx.log(f"limiter: {decisions} decisions on Redis")
        command = [sys.executable, "-m", "bench.limiter", "--redis-url", redis_url]
        command += ["--decisions", str(decisions), "--concurrency", str(concurrency)]
        proc = cluster.spawn("limiter", command, ctx.pinning.sidecar)
        proc.popen.wait(300)
        lines = proc.log_tail(10_000_000).strip().splitlines()
    try:
        data = json.loads(lines[-1])
    except (IndexError, ValueError):
        return NotAvailable(f"the limiter benchmark failed: {' '.join(lines[-3:])[:300]}")
    if "error" in data:
        return NotAvailable(f"the limiter's interface is not the one this knows ({data['error']})")
    return limiter_result(data, concurrency)


# --- 4. webhooks ---------------------------------------------------------------------------------


WEBHOOK_PATH = "/webhooks/cryptopay"


def webhooks(ctx: Context) -> WebhookResult | NotAvailable:
    if not ctx.features.webhooks:
        return NotAvailable("the sidecar has no webhook ingest and Subscribe stream yet")
    quick = ctx.settings.duration < 10
    events, rate, subscribers = (200, 100.0, 10) if quick else (3000, 200.0, 10)
    with Cluster(ctx.workdir / "webhooks") as cluster:
        _, upstream_url = start_upstream(ctx, cluster, "stub")
        redis_url = start_redis(cluster, ctx.pinning.others)[1] if ctx.features.redis else None
        args, path = sidecar_args(ctx, redis_url)
        if "--webhook-path" in ctx.features.flags:
            args += ["--webhook-path", WEBHOOK_PATH]
        sidecar = start_sidecar(cluster, ctx.pinning.sidecar, upstream_url, args)
        ctx.log(f"webhooks: {events} updates at {rate:g}/s, then {events} at once")
        command = [sys.executable, "-m", "bench.webhooks", "--grpc", sidecar.target]
        command += ["--http", f"http://127.0.0.1:{sidecar.http_port}{WEBHOOK_PATH}"]
        command += ["--token", BENCH_TOKEN, "--subscribers", str(subscribers)]
        command += ["--rate", str(rate), "--events", str(events), "--burst", str(events)]
        proc = cluster.spawn("webhooks", command, ctx.pinning.others)
        proc.popen.wait(600)
        lines = proc.log_tail(50_000_000).strip().splitlines()
    try:
        data = json.loads(lines[-1])
    except (IndexError, ValueError):
        return NotAvailable(f"the webhook benchmark failed: {' '.join(lines[-3:])[:300]}")
    if "error" in data:
        return NotAvailable(f"the webhook interface is not the one this knows ({data['error']})")
    if data.get("refused"):
        return NotAvailable(f"the ingest endpoint refused {data['refused']} updates ({path})")
    return webhook_result(data, subscribers, rate)
