"""CPU per EVALSHA of the sidecar's own scripts, client by client.

Starts a private redis-server on a free port, then sends the scripts a keyed CreateInvoice
costs (the limiter's decision over 3 buckets, the idempotency claim) one call at a time from
one coroutine on uvloop, as the sidecar does, and reports the process's CPU (all threads, from
its own counters) per script call. Redis's own time is in another process and not counted.

    python bench/redis_clients.py [--calls 5000] [--rounds 3] [--alt DIR]

Rows: redis-py as the sidecar connects (`redis_connection.connect`: per-command socket timeout,
reconnect-once retry, blocking pool), redis-py without the socket timeout (no timeout wrapper
around each read), both scripts pipelined in one round trip, and coredis / valkey-glide when
importable (`--alt` adds a directory to the end of sys.path, e.g. one filled by
`pip install --target DIR coredis valkey-glide`). Minimum of interleaved rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ratelimit import free_port, start_redis
from sidecar.idempotency.redis import _CLAIM
from sidecar.ratelimit.redis import DECIDE
from sidecar.redis_connection import connect
from sidecar.secrets import Secret

KEYS = ["cpsc:rl:{b}:cooldown", "cpsc:rl:{b}:app", "cpsc:rl:{b}:caller:c", "cpsc:rl:{b}:rpc:r"]
# 1 token, no wait, 3 generous buckets (emission 1 us, burst 10^6): every call admits.
ARGS = ["1", "0", "1.0", "1000000", "1.0", "1000000", "1.0", "1000000"]

Send = Callable[[], Awaitable[object]]


def claim_args() -> tuple[list[str], list[str]]:
    # A fresh record per call: the claim path of a new idempotency-key.
    return [f"cpsc:idem:{{{uuid.uuid4().hex}}}"], ["fp", uuid.uuid4().hex, "30000", "60000"]


async def redis_py(url: str, socket_timeout: bool, pipelined: bool) -> tuple[Send, int]:
    options = {} if socket_timeout else {"socket_timeout": None}
    client = connect(Secret(url), traced=False, **options)
    decide, claim = client.register_script(DECIDE), client.register_script(_CLAIM)

    async def both() -> object:
        keys, args = claim_args()
        await claim(keys=keys, args=args)
        return await decide(keys=KEYS, args=ARGS)

    async def piped() -> object:
        keys, args = claim_args()
        pipe = client.pipeline(transaction=False)
        await claim(keys=keys, args=args, client=pipe)  # type: ignore[arg-type]
        await decide(keys=KEYS, args=ARGS, client=pipe)  # type: ignore[arg-type]
        return await pipe.execute()

    await both()  # loads the scripts
    return (piped if pipelined else both), 2


async def coredis_client(url: str) -> tuple[Send, int]:
    import coredis  # type: ignore[import-not-found]

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client = coredis.Redis(host="127.0.0.1", port=port, stream_timeout=0.5)
    await client.__aenter__()
    decide, claim = client.register_script(DECIDE), client.register_script(_CLAIM)

    async def both() -> object:
        keys, args = claim_args()
        await claim(keys=keys, args=args)
        return await decide(keys=KEYS, args=ARGS)

    await both()
    return both, 2


async def glide_client(url: str) -> tuple[Send, int]:
    from glide import (  # type: ignore[import-not-found]
        GlideClient,
        GlideClientConfiguration,
        NodeAddress,
        Script,
    )

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client = await GlideClient.create(
        GlideClientConfiguration([NodeAddress("127.0.0.1", port)], request_timeout=500)
    )
    decide, claim = Script(DECIDE), Script(_CLAIM)

    async def both() -> object:
        keys, args = claim_args()
        await client.invoke_script(claim, keys=keys, args=args)
        return await client.invoke_script(decide, keys=KEYS, args=ARGS)

    await both()
    return both, 2


async def measure(send: Send, calls: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await send()
    return time.process_time() - cpu, time.perf_counter() - wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=5000, help="keyed calls per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alt", type=Path, help="extra directory for coredis / valkey-glide")
    args = parser.parse_args()
    if args.alt:
        sys.path.append(str(args.alt))

    directory = tempfile.mkdtemp(prefix="redis-clients-")
    port = free_port()
    proc = start_redis(port, directory)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        clients: dict[str, tuple[Send, int]] = {
            "redis-py, as the sidecar connects": await redis_py(url, True, False),
            "redis-py, no socket timeout": await redis_py(url, False, False),
            "redis-py, both in one pipeline": await redis_py(url, True, True),
        }
        for name, factory in (("coredis", coredis_client), ("valkey-glide", glide_client)):
            try:
                clients[name] = await factory(url)
            except ImportError:
                print(f"({name} not importable: skipped)")
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.rounds):
            for name, (send, _scripts) in clients.items():
                cpu, wall = await measure(send, args.calls)
                old = best.get(name)
                best[name] = (min(cpu, old[0]), min(wall, old[1])) if old else (cpu, wall)
        print(f"\n{args.calls} keyed calls (claim + decide) per round, best of {args.rounds}\n")
        print("| client | CPU per script call | CPU per keyed call | wall per keyed call |")
        print("|---|---|---|---|")
        for name, (cpu, wall) in best.items():
            scripts = clients[name][1]
            per_call = cpu / args.calls * 1e6
            print(
                f"| {name} | {per_call / scripts:.0f} us | {per_call:.0f} us "
                f"| {wall / args.calls * 1e6:.0f} us |"
            )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
