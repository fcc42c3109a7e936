"""The webhook relay's decisions (pure): who relays where, how a relayed event is signed, what
an answer means, and how long to wait before the next attempt.

A relayed webhook must pass the app's own SDK verifier, which checks
`hex(HMAC-SHA256(key=SHA-256(token), body))` with the caller's token. The policy stores that
token as its SHA-256 in hex, and that digest *is* the HMAC key: the sidecar signs for a token it
never holds, and the real token's signature never leaves it.
"""

from __future__ import annotations

import enum
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sidecar import signature
from sidecar.policy.model import PolicySnapshot
from sidecar.webhooks.events import EventId

# The first retry comes after 0.25-0.5 s, then each wait doubles, up to 15-30 s: a receiver that
# is restarting gets the event within a second of being back; one that is down costs an attempt
# every half minute at most.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# A receiver's Retry-After is honoured (it may ask for more than BACKOFF_CAP) up to this, so a
# mistaken "Retry-After: 86400" cannot park a caller's events for a day.
RETRY_AFTER_CAP = 600.0
EVENT_ID_HEADER = "cryptopay-event-id"
USER_AGENT = "cryptopay-sidecar-relay"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one caller's events go, and the key they are signed with."""

    caller: str
    url: str
    timeout: float
    key: bytes = field(repr=False)

    @property
    def where(self) -> str:
        """scheme://host:port only, for logs: a path or query may carry a secret."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def targets(snapshot: PolicySnapshot) -> dict[str, Target]:
    """Every caller with a relay. The first token_sha256 signs: during a rotation, list the
    token the app verifies with first."""
    out = {}
    for name, rules in snapshot.callers.items():
        if rules.relay is None or not rules.token_sha256:
            continue  # lint refuses a relay without a token
        key = signature.key_from_token_sha256(rules.token_sha256[0])
        out[name] = Target(name, rules.relay.url, rules.relay.timeout, key)
    return out


def group(caller: str) -> str:
    """The consumer group (and lease) of a caller's relay."""
    return f"relay:{caller}"


def headers(target: Target, body: bytes, event_id: EventId) -> dict[str, str]:
    """What a relayed webhook carries: Crypto Pay's own content type and signature header,
    and the event id (stable across redeliveries, for receivers that deduplicate)."""
    return {
        "Content-Type": "application/json",
        signature.HEADER: signature.sign_with_key(target.key, body),
        EVENT_ID_HEADER: str(event_id),
        "User-Agent": USER_AGENT,
    }


class Outcome(enum.Enum):
    """What became of one attempt (the `outcome` label of the relay's metric)."""

    DELIVERED = "delivered"  # a 2xx: acknowledged, done
    REFUSED = "refused"  # any other status (3xx included: redirects are not followed)
    TIMEOUT = "timeout"  # no answer within the caller's relay timeout
    UNREACHABLE = "unreachable"  # connection refused, reset, DNS...
    SKIPPED = "skipped"  # an event without a body (an unreadable log entry): nothing to send
    LOST = "lost"  # removed by retention before it was delivered


def outcome_of(status: int) -> Outcome:
    return Outcome.DELIVERED if 200 <= status < 300 else Outcome.REFUSED


def backoff(failures: int, random: Callable[[], float]) -> float:
    """The wait after the `failures`-th failed attempt in a row: exponential with equal jitter
    (half fixed, half random), so replicas retrying at once drift apart but never hammer."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(max(failures, 1) - 1, 30))
    return ceiling / 2 + random() * ceiling / 2


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date); None if absent or
    unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def next_delay(failures: int, asked: float | None, random: Callable[[], float]) -> float:
    """The wait before the next attempt: the backoff, or longer if the receiver asked."""
    wait = backoff(failures, random)
    if asked is not None:
        wait = max(wait, min(asked, RETRY_AFTER_CAP))
    return wait
