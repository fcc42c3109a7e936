"""Loading the policy, holding the active snapshot, and hot reload.

A new policy is read and checked completely (schema, meaning, sections) before it replaces the
active one, in a single assignment: a call reads the snapshot once and keeps it, so calls in
flight finish under the policy they started with. An invalid policy is logged with every problem
and the last good one stays active.

The watcher polls the path's metadata (cheap `stat` calls) and reloads when it changes; that
catches in-place edits, editors' rename-and-replace, and Kubernetes ConfigMap updates, which
swap the `..data` symlink behind the mounted files (inotify on the file misses those). SIGHUP
asks for a reload at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sidecar.config_section import SectionError
from sidecar.policy import build
from sidecar.policy.lint import LintContext, errors, lint
from sidecar.policy.loader import policy_files, read
from sidecar.policy.model import PolicySnapshot
from sidecar.policy.problems import LintError
from sidecar.tasks import stop_task
from sidecar.telemetry import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    snapshot: PolicySnapshot | None  # None when the policy has errors
    problems: list[LintError]

    @property
    def errors(self) -> list[LintError]:
        return errors(self.problems)


def load(path: str | Path, context: LintContext | None = None) -> LoadResult:
    """Reads and checks a policy file or directory; a snapshot only if it has no errors."""
    document = read(path)
    problems = lint(document, context)
    if errors(problems):
        return LoadResult(None, problems)
    try:
        snapshot = build.snapshot(document, str(path))
    except SectionError as exc:
        # Lint runs the same section parsers, so this is a parser that disagrees with its own
        # check; still a load error, reported where lint would have put it.
        where = (exc.section, *exc.path)
        problem = LintError(where, str(exc).split(": ", 1)[-1], mark=document.mark(where))
        return LoadResult(None, [*problems, problem])
    return LoadResult(snapshot, problems)


class PolicyHolder:
    """The active snapshot of one sidecar."""

    def __init__(self, initial: PolicySnapshot) -> None:
        self._current = initial
        self.last_error: str | None = None  # why the last reload was refused
        global _active
        _active = self
        metrics.policy_loaded(initial.hash, initial.source)

    @property
    def current(self) -> PolicySnapshot:
        return self._current

    def swap(self, snapshot: PolicySnapshot) -> PolicySnapshot:
        previous, self._current = self._current, snapshot
        metrics.policy_loaded(snapshot.hash, snapshot.source)
        return previous


_active: PolicyHolder | None = None


def active() -> tuple[str, float] | None:
    """(hash, loaded_at) of the active policy of the sidecar in this process, for metrics."""
    if _active is None:
        return None
    snapshot = _active.current
    return snapshot.hash, snapshot.loaded_at


def describe(snapshot: PolicySnapshot) -> dict[str, object]:
    """What the HTTP side shows about the active policy (no keys, not even their hashes)."""
    return {
        "hash": snapshot.hash,
        "loaded_at": datetime.fromtimestamp(snapshot.loaded_at, UTC).isoformat(),
        "source": snapshot.source,
        "permissive": snapshot.permissive,
        "mode": snapshot.mode.value,
        "identity_required": snapshot.identity.required,
        "callers": sorted(snapshot.callers),
        "spend_caps": snapshot.has_spend_caps,
        "sections": sorted(snapshot.sections),
    }


def log_loaded(snapshot: PolicySnapshot, problems: list[LintError], previous: str | None) -> None:
    log.info(
        "policy loaded",
        extra={
            "policy_hash": snapshot.hash,
            "policy_source": snapshot.source,
            "loaded_at": datetime.fromtimestamp(snapshot.loaded_at, UTC).isoformat(),
            "previous_hash": previous,
            "callers": sorted(snapshot.callers),
            "mode": snapshot.mode.value,
        },
    )
    for problem in problems:
        log.warning("policy warning", extra={"problem": str(problem)})


Fingerprint = tuple[tuple[str, str, int, int, int], ...]


def fingerprint(path: Path) -> Fingerprint | None:
    """What changes when any file of the policy changes (None: unreadable right now)."""
    try:
        files = policy_files(path)
        out = []
        for f in files:
            st = f.stat()  # follows symlinks: a ConfigMap swap changes the target's inode
            out.append((str(f), os.path.realpath(f), st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)
    except OSError:
        return None


class PolicyWatcher:
    """Reloads the policy when its files change (polling) or when asked (SIGHUP)."""

    def __init__(
        self,
        holder: PolicyHolder,
        path: str | Path,
        context: LintContext,
        interval: float = 1.0,
    ) -> None:
        self._holder = holder
        self._path = Path(path)
        self._context = context
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._seen = fingerprint(self._path)
        self._lock = asyncio.Lock()
        self.reloads = 0  # successful swaps, for tests and diagnostics

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="policy-watcher")

    async def stop(self) -> None:
        await stop_task(self._task)

    def request_reload(self) -> None:
        """Reload now (SIGHUP)."""
        self._seen = None
        self._wake.set()

    async def _run(self) -> None:
        while True:
            timeout = self._interval if self._interval > 0 else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            try:
                await self.check()
            except Exception:  # the watcher must survive anything a file can do to it
                log.exception("policy reload failed")

    async def check(self) -> bool:
        """Reloads if the files changed since the last look; True if a new policy is active."""
        current = fingerprint(self._path)
        if current is not None and current == self._seen:
            return False
        return await self.reload(current)

    async def reload(self, seen: Fingerprint | None = None) -> bool:
        async with self._lock:
            started = time.monotonic()
            result = await asyncio.to_thread(load, self._path, self._context)
            self._seen = seen if seen is not None else fingerprint(self._path)
            if result.snapshot is None:
                active = self._holder.current
                self._holder.last_error = "; ".join(str(p) for p in result.errors[:20])
                metrics.policy_load_failed()
                log.error(
                    "policy rejected; the previous policy stays active",
                    extra={
                        "policy_source": str(self._path),
                        "active_hash": active.hash,
                        "errors": [str(p) for p in result.errors],
                    },
                )
                return False
            self._holder.last_error = None
            if result.snapshot.hash == self._holder.current.hash:
                return False
            previous = self._holder.swap(result.snapshot)
            self.reloads += 1
            log_loaded(result.snapshot, result.problems, previous.hash)
            log.debug("policy reload took", extra={"seconds": time.monotonic() - started})
            return True
