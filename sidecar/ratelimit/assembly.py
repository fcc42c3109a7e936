"""Builds the rate-limit step for one sidecar process from its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from sidecar.config import ConfigError
from sidecar.ratelimit.backend import Backend
from sidecar.ratelimit.config import SECTION, RateLimitConfig, RateLimitConfigError
from sidecar.ratelimit.config import parse_rate_limits as parse
from sidecar.ratelimit.fallback import FallbackBackend
from sidecar.ratelimit.limiter import RateLimiter
from sidecar.ratelimit.memory import MemoryBackend
from sidecar.ratelimit.redis import RedisBackend
from sidecar.redis_connection import Redis
from sidecar.secrets import Secret


def scope_for(token: Secret, upstream_url: str) -> str:
    """Whose budget the buckets hold: the Crypto Pay app (the token's public numeric prefix,
    so a rotated token keeps the same budget) at one upstream (mainnet and testnet differ)."""
    app_id = token.reveal().partition(":")[0] or "app"
    return f"{app_id}@{urlsplit(upstream_url).netloc or upstream_url}"


def read_section(policy_path: str | None) -> Any:
    """The raw `rate_limits` section of a policy file (or of the first file of a policy
    directory that has one); None when there is none."""
    if not policy_path:
        return None
    path = Path(policy_path)
    files = (
        sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if path.is_dir()
        else [path]
    )
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read the policy file {file}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"the policy file {file} is not valid YAML: {exc}") from None
        if isinstance(document, dict) and document.get(SECTION) is not None:
            return document[SECTION]
    return None


def load_config(policy_path: str | None) -> RateLimitConfig | None:
    """The parsed section, None when the policy has none; ConfigError naming the bad paths."""
    raw = read_section(policy_path)
    if raw is None:
        return None
    try:
        return parse(raw)
    except RateLimitConfigError as exc:
        raise ConfigError(f"invalid policy {policy_path}: {exc}") from None


def build_limiter(
    *,
    token: Secret,
    upstream_url: str,
    policy_path: str | None,
    redis: Redis | None,
) -> RateLimiter:
    backend: Backend = MemoryBackend() if redis is None else FallbackBackend(RedisBackend(redis))
    return RateLimiter(
        backend, scope=scope_for(token, upstream_url), config=load_config(policy_path)
    )
