"""What the sidecar under test can do, detected rather than assumed.

The harness runs against whatever the checkout holds: a capability counts when its package is
importable and the `serve` command has the flag that turns it on. Scenarios that need a missing
capability report "n/a" with the reason instead of failing.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass

from bench.procs import REPO


def _module(name: str) -> bool:
    """Whether the checkout under test has this module (a package or a .py file).

    Looked up as files under the repository, not with importlib: an editable install of
    another checkout would otherwise answer for it."""
    if not name.startswith("sidecar."):
        return importlib.util.find_spec(name) is not None
    path = REPO.joinpath(*name.split("."))
    return (path / "__init__.py").exists() or path.with_suffix(".py").exists()


def serve_flags() -> frozenset[str]:
    done = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    return frozenset(re.findall(r"(--[a-z][a-z0-9-]+)", done.stdout))


@dataclass(frozen=True)
class Features:
    flags: frozenset[str]
    policy: bool
    redis: bool
    ratelimit: bool
    idempotency: bool
    retries: bool
    webhooks: bool
    telemetry: bool

    @classmethod
    def detect(cls) -> Features:
        flags = serve_flags()
        policy = _module("sidecar.policy") and "--policy" in flags
        return cls(
            flags=flags,
            policy=policy,
            redis="--redis-url" in flags and _module("redis"),
            ratelimit=_module("sidecar.ratelimit") and policy,
            idempotency=_module("sidecar.idempotency"),
            retries=_module("sidecar.retry"),
            webhooks=_module("sidecar.webhooks")
            and _module("sidecar.gen.cryptopay.v1.webhook_service_pb2"),
            telemetry=_module("sidecar.telemetry"),
        )

    def summary(self) -> str:
        names = ("policy", "redis", "ratelimit", "idempotency", "retries", "webhooks", "telemetry")
        return ", ".join(f"{n} {'yes' if getattr(self, n) else 'no'}" for n in names)
