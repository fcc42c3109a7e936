"""What the figures were measured on: the machine, the versions, the load and its shape."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path

from bench.scenarios import PAYLOAD_BYTES, Context, invoice_message, invoice_params


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def protobuf_backend() -> str:
    from google.protobuf.internal import api_implementation

    return str(api_implementation.Type())


def describe(ctx: Context) -> list[str]:
    s = ctx.settings
    grpc_bytes = len(invoice_message(invoice_params()).SerializeToString())
    return [
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"Machine: {cpu_model()}, {os.cpu_count()} vCPU, {memory_gib():.0f} GiB, "
        f"Linux {platform.release()}",
        f"Software: Python {platform.python_version()}, grpcio {version('grpcio')}, "
        f"protobuf {version('protobuf')} ({protobuf_backend()}), aiohttp {version('aiohttp')}, "
        f"uvloop {version('uvloop')}, redis-py {version('redis')}",
        f"Load generator: {ctx.generator}; {s.connections} connections, one request in flight "
        f"on each, fixed total rate, requests evenly spaced; {s.duration:g} s measured after "
        f"{s.warmup:g} s of warm-up",
        f"Request: CreateInvoice, {PAYLOAD_BYTES}-byte JSON body direct, "
        f"{grpc_bytes}-byte protobuf through the sidecar",
        f"Pinning: {ctx.pinning.describe()}",
        f"Sidecar capabilities found: {ctx.features.summary()}",
    ]
