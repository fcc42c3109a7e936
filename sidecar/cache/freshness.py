"""When a cached answer may be served, and what to do when it may not (pure).

An answer's age puts it in one of four states:

    age < ttl                              FRESH       served as a hit
    age < ttl + stale_while_revalidate     REVALIDATE  served at once (stale) while one caller
                                                       refreshes it in the background
    age < max_stale                        STALE       a caller refreshes it; the others wait for
                                                       that, and get it (stale) only if the
                                                       refresh fails or outlasts their deadline
    absent, or older                       UNUSABLE    never served
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import grpc
from google.protobuf.message import Message

from sidecar.cache.config import MethodRule
from sidecar.gen.cryptopay.v1 import types_pb2 as types


class Freshness(enum.Enum):
    FRESH = "fresh"
    REVALIDATE = "revalidate"
    STALE = "stale"
    UNUSABLE = "unusable"


class Served(enum.Enum):
    """What the `cryptopay-cache` trailer tells the caller."""

    HIT = "hit"  # a fresh cached answer
    MISS = "miss"  # fetched from the upstream (and stored)
    STALE = "stale"  # an answer older than its ttl
    BYPASS = "bypass"  # the caller asked for the upstream (cache-control)


class StaleReason(enum.Enum):
    """Why a stale answer was served (the `cryptopay-cache-stale` trailer)."""

    REVALIDATING = "revalidating"  # within stale_while_revalidate; a refresh is under way
    UPSTREAM_ERROR = "upstream-error"  # the refresh failed (or failed moments ago)
    TIMEOUT = "timeout"  # the refresh by another caller outlasted this caller's deadline


class Contention(enum.Enum):
    """Why this caller did not get the lease to refresh a key."""

    HELD = "held"  # another caller is refreshing it
    COOLDOWN = "cooldown"  # a refresh failed moments ago
    CHANGED = "changed"  # a newer answer arrived since this caller looked


class Next(enum.Enum):
    """What a caller that did not get the lease does."""

    SERVE_STALE = "serve_stale"
    WAIT = "wait"
    FETCH_ALONE = "fetch_alone"  # fetch without the lease (nothing usable to serve)
    LOOK_AGAIN = "look_again"
    GIVE_UP = "give_up"  # nothing to serve and no time left


def effective_rule(
    rule: MethodRule, *, degraded: bool = False, max_age: float | None = None
) -> MethodRule:
    """The rule for one answer and one caller.

    `degraded`: the upstream marked part of the answer invalid, so it is fresh only for
    `invalid_ttl`. `max_age`: the caller accepts nothing older (cache-control: max-age=N), not
    even when the upstream fails.
    """
    if degraded and rule.invalid_ttl is not None:
        rule = replace(rule, ttl=min(rule.ttl, rule.invalid_ttl))
    if max_age is not None:
        rule = replace(
            rule,
            ttl=min(rule.ttl, max_age),
            stale_while_revalidate=0.0,
            max_stale=min(rule.max_stale, max_age),
        )
    return rule


def classify(age: float | None, rule: MethodRule) -> Freshness:
    if age is None:
        return Freshness.UNUSABLE
    age = max(age, 0.0)  # a store clock that stepped back: treat as just fetched
    if age >= max(rule.max_stale, rule.ttl):
        return Freshness.UNUSABLE
    if age < rule.ttl:
        return Freshness.FRESH
    if age < rule.ttl + rule.stale_while_revalidate:
        return Freshness.REVALIDATE
    return Freshness.STALE


def after_contention(
    freshness: Freshness, contention: Contention, can_wait: bool, can_fetch: bool
) -> Next:
    """The next step of a caller that needs a refresh but did not get the lease.

    `can_wait`: time is left to wait for the holder's answer. `can_fetch`: time is left for an
    upstream call of its own.
    """
    if contention is Contention.CHANGED:
        return Next.LOOK_AGAIN
    usable = freshness is not Freshness.UNUSABLE
    if contention is Contention.COOLDOWN:
        # The upstream failed moments ago: serve what there is rather than hammer it; with
        # nothing to serve, try it (rate limits still apply).
        if usable:
            return Next.SERVE_STALE
        return Next.FETCH_ALONE if can_fetch else Next.GIVE_UP
    if freshness is Freshness.REVALIDATE:
        return Next.SERVE_STALE
    if can_wait:
        return Next.WAIT
    if usable:
        return Next.SERVE_STALE
    return Next.FETCH_ALONE if can_fetch else Next.GIVE_UP


def stale_reason(freshness: Freshness, contention: Contention) -> StaleReason:
    """Why a caller that did not refresh serves a stale answer."""
    if contention is Contention.COOLDOWN:
        return StaleReason.UPSTREAM_ERROR
    if freshness is Freshness.REVALIDATE:
        return StaleReason.REVALIDATING
    return StaleReason.TIMEOUT


# Failures after which a stale answer is better than the error: the upstream (or the path to
# it, rate limits included) is unavailable for now. Definite answers (a revoked token, a
# disabled method) are returned as they are.
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.UNKNOWN,
    }
)


def stale_on_error(code: grpc.StatusCode) -> bool:
    return code in _TRANSIENT


def has_invalid_rates(response: Message) -> bool:
    """Whether the upstream marked any exchange rate in the answer as invalid."""
    items = getattr(response, "items", None)
    if items is None:
        return False
    return any(isinstance(item, types.ExchangeRate) and not item.is_valid for item in items)


@dataclass(frozen=True, slots=True)
class CacheControl:
    """The caller's `cache-control` metadata (the HTTP directives that make sense here)."""

    no_cache: bool = False  # ask the upstream, then store its answer for everyone
    no_store: bool = False  # ask the upstream, store nothing
    max_age: float | None = None  # accept a cached answer at most this old

    @property
    def bypass(self) -> bool:
        return self.no_cache or self.no_store


def parse_cache_control(value: str | None) -> CacheControl:
    """Parses `no-cache`, `no-store` and `max-age=N`; other directives are ignored, as in HTTP."""
    if not value:
        return CacheControl()
    no_cache = no_store = False
    max_age: float | None = None
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        name = name.strip().lower()
        if name == "no-cache":
            no_cache = True
        elif name == "no-store":
            no_store = True
        elif name == "max-age":
            digits = argument.strip().strip('"')
            if digits.isdigit():
                age = float(digits)
                max_age = age if max_age is None else min(max_age, age)
            else:
                no_cache = True  # RFC 9111: an invalid max-age means the answer is stale
    if max_age == 0:
        no_cache = True
    return CacheControl(no_cache=no_cache, no_store=no_store, max_age=max_age)
