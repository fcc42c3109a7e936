"""WebhookService request validation and interpretation (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sidecar.gen.cryptopay.v1 import webhook_service_pb2 as pb
from sidecar.validation import Violation
from sidecar.webhooks.events import ZERO, Delivery, EventId, is_event_id

NAME = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
MAX_IDS = 1000
MAX_IN_FLIGHT = 1000
DEFAULT_IN_FLIGHT = 16
MIN_VISIBILITY_MS = 1_000
MAX_VISIBILITY_MS = 12 * 3600 * 1000
_FILTER_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Start:
    """Where reading begins: after `after`, or after the newest event when `after` is None.
    `earliest` means after the retention horizon (read once the log is known)."""

    after: EventId | None
    earliest: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    update_types: frozenset[str]
    assets: frozenset[str]

    def matches(self, update_type: str, asset: str) -> bool:
        if self.update_types and update_type not in self.update_types:
            return False
        return not self.assets or asset.upper() in self.assets

    def wants(self, delivery: Delivery) -> bool:
        record = delivery.event.record
        return self.matches(record.update_type, record.asset)


def _ids(field: str, ids: Sequence[str]) -> list[Violation]:
    if not ids:
        return [Violation(field, "give at least one event id")]
    if len(ids) > MAX_IDS:
        return [Violation(field, f"at most {MAX_IDS} event ids per call")]
    bad = [i for i in ids if not is_event_id(i)]
    if bad:
        return [Violation(field, f"{bad[0]!r} is not an event id (<milliseconds>-<sequence>)")]
    return []


def _group(group: str, required: bool) -> list[Violation]:
    if not group:
        return [Violation("group", "name the consumer group")] if required else []
    if not NAME.match(group):
        return [Violation("group", "use 1-64 letters, digits, '.', '_', ':' or '-'")]
    return []


def validate_subscribe(request: pb.SubscribeRequest) -> list[Violation]:
    out = _group(request.group, required=False)
    if request.after_event_id:
        if not is_event_id(request.after_event_id):
            out.append(
                Violation("after_event_id", "must be an event id (<milliseconds>-<sequence>)")
            )
        if request.start != pb.START_POSITION_UNSPECIFIED:
            out.append(Violation("start", "give either start or after_event_id, not both"))
    if request.consumer and not NAME.match(request.consumer):
        out.append(Violation("consumer", "use 1-64 letters, digits, '.', '_', ':' or '-'"))
    if request.consumer and not request.group:
        out.append(Violation("consumer", "a consumer name needs a group"))
    if request.max_in_flight > MAX_IN_FLIGHT:
        out.append(Violation("max_in_flight", f"at most {MAX_IN_FLIGHT}"))
    if request.max_in_flight and not request.group:
        out.append(Violation("max_in_flight", "applies to groups only"))
    if request.HasField("visibility_timeout"):
        ms = request.visibility_timeout.ToMilliseconds()
        if not request.group:
            out.append(Violation("visibility_timeout", "applies to groups only"))
        elif not MIN_VISIBILITY_MS <= ms <= MAX_VISIBILITY_MS:
            out.append(Violation("visibility_timeout", "must be between 1 s and 12 h"))
    for field, values in (("update_types", request.update_types), ("assets", request.assets)):
        bad = [v for v in values if not _FILTER_VALUE.match(v)]
        if bad:
            what = field[:-1].replace("_", " ")
            out.append(Violation(field, f"{bad[0]!r} is not a valid {what}"))
    return out


def validate_ids(request: pb.AckRequest | pb.NackRequest) -> list[Violation]:
    return _group(request.group, required=True) + _ids("event_ids", request.event_ids)


def start_of(request: pb.SubscribeRequest) -> Start:
    if request.after_event_id:
        return Start(EventId.parse(request.after_event_id))
    if request.start == pb.START_POSITION_EARLIEST:
        return Start(ZERO, earliest=True)
    return Start(None)


def filter_of(request: pb.SubscribeRequest) -> Filter:
    return Filter(frozenset(request.update_types), frozenset(a.upper() for a in request.assets))


def visibility_ms(request: pb.SubscribeRequest, default_seconds: float) -> int:
    if request.HasField("visibility_timeout"):
        return int(request.visibility_timeout.ToMilliseconds())
    return max(MIN_VISIBILITY_MS, int(default_seconds * 1000))


def in_flight(request: pb.SubscribeRequest) -> int:
    return request.max_in_flight or DEFAULT_IN_FLIGHT
