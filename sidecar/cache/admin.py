"""Operating the cache: the HTTP admin endpoints and the `cryptopay-sidecar cache` command.

POST /admin/cache/flush[?method=GetExchangeRates]   flush this app's answers (all replicas)
GET  /admin/cache                                    settings and counters of this replica

cryptopay-sidecar cache flush --redis-url URL [--method M] [--prefix P]
cryptopay-sidecar cache flush --admin-url http://127.0.0.1:8080 [--method M]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import asdict
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from sidecar.cache.config import CACHEABLE, CacheConfig
from sidecar.cache.step import CacheStep
from sidecar.secrets import Secret
from sidecar.store_base import StoreUnavailable

FLUSH_PATH = "/admin/cache/flush"
INFO_PATH = "/admin/cache"


def _method(value: str | None) -> str | None:
    if value in (None, "", "*"):
        return None
    if value not in CACHEABLE:
        raise ValueError(f"method must be one of {', '.join(CACHEABLE)}, got {value!r}")
    return value


def add_routes(app: web.Application, step: CacheStep) -> None:
    async def flush(request: web.Request) -> web.Response:
        try:
            method = _method(request.query.get("method"))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            deleted = await step.flush(method)
        except StoreUnavailable as exc:
            return web.json_response({"error": f"cache store unavailable: {exc}"}, status=503)
        return web.json_response({"flushed": deleted, "method": method or "*"})

    async def info(_request: web.Request) -> web.Response:
        return web.json_response(
            {"config": describe(step.config), "counters": step.counters.snapshot()}
        )

    app.router.add_post(FLUSH_PATH, flush)
    app.router.add_get(INFO_PATH, info)


def describe(config: CacheConfig) -> dict[str, Any]:
    return {
        "enabled": config.enabled,
        "lock_ttl": config.lock_ttl,
        "failure_cooldown": config.failure_cooldown,
        "allow_bypass": config.allow_bypass,
        "key_prefix": config.key_prefix,
        "methods": {rpc: asdict(rule) for rpc, rule in config.methods.items()},
    }


# --- command line ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cache_command", required=True)
    flush = actions.add_parser(
        "flush",
        help="delete cached answers: every app's in a Redis, or one sidecar's (its whole app)",
    )
    target = flush.add_mutually_exclusive_group()
    target.add_argument(
        "--redis-url",
        default=None,
        help="flush the shared cache in this Redis directly (env CRYPTOPAY_SIDECAR_REDIS_URL)",
    )
    target.add_argument(
        "--admin-url",
        default=None,
        help="ask a running sidecar to flush its app's answers, e.g. http://127.0.0.1:8080 "
        "(works with in-memory caches too)",
    )
    flush.add_argument("--method", default=None, choices=CACHEABLE, help="only this method")
    flush.add_argument(
        "--prefix",
        default=CacheConfig().key_prefix,
        help="key prefix of the cache in Redis (policy cache.key_prefix; default %(default)s)",
    )


async def _flush_redis(url: Secret, prefix: str, method: str | None) -> int:
    from sidecar.cache.redis import RedisStore
    from sidecar.redis_connection import connect

    store = RedisStore(connect(url))
    try:
        return await store.flush(prefix, None, method)
    finally:
        await store.close()


async def _flush_admin(base_url: str, method: str | None) -> int:
    params = {"method": method} if method else {}
    async with (
        ClientSession(timeout=ClientTimeout(total=10)) as session,
        session.post(base_url.rstrip("/") + FLUSH_PATH, params=params) as response,
    ):
        body = await response.json(content_type=None)
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body.get('error', body)}")
        return int(body["flushed"])


def run(args: argparse.Namespace) -> int:
    if args.cache_command != "flush":
        return 2
    redis_url = args.redis_url or os.environ.get("CRYPTOPAY_SIDECAR_REDIS_URL")
    try:
        if args.admin_url:
            deleted = asyncio.run(_flush_admin(args.admin_url, args.method))
        elif redis_url:
            deleted = asyncio.run(_flush_redis(Secret(redis_url), args.prefix, args.method))
        else:
            print(
                "cryptopay-sidecar cache flush: give --redis-url (or CRYPTOPAY_SIDECAR_REDIS_URL) "
                "or --admin-url",
                file=sys.stderr,
            )
            return 2
    except (StoreUnavailable, ClientError, RuntimeError, OSError, ValueError) as exc:
        # Never echo the Redis URL: it may carry a password.
        print(f"cryptopay-sidecar cache flush: failed: {exc}", file=sys.stderr)
        return 1
    print(f"flushed {deleted} cached answer(s)")
    return 0
