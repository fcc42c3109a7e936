"""The webhook relay's pure decisions: signing for a token known only by its SHA-256, the
targets a policy defines, what an answer means, and the waits between attempts."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sidecar import signature
from sidecar.policy import build
from sidecar.policy.identity import key_digest, new_token
from sidecar.policy.loader import parse_text
from sidecar.webhooks import relay_rules
from sidecar.webhooks.events import EventId
from sidecar.webhooks.relay_rules import Outcome, Target
from tests.helpers import fixture, fixture_path


def test_the_stored_token_hash_signs_like_the_token_itself() -> None:
    # The test vector's key is given as the hex SHA-256 of its token: exactly what a policy holds.
    vector = fixture("webhook-signature-vector.json")
    body = fixture_path(vector["raw_body_file"]).read_bytes()
    key = signature.key_from_token_sha256(vector["secret_key_sha256_of_token_hex"])
    assert signature.sign_with_key(key, body) == vector["expected_signature_hex"]
    token = new_token()
    assert signature.sign_with_key(
        signature.key_from_token_sha256(key_digest(token)), body
    ) == signature.sign(token, body)


@pytest.mark.parametrize("text", ["", "ab" * 31, "ab" * 33, "zz" * 32])
def test_a_key_is_a_whole_sha256(text: str) -> None:
    with pytest.raises(ValueError):
        signature.key_from_token_sha256(text)


def test_targets_are_the_callers_with_a_relay_signed_with_their_first_token() -> None:
    new, old = new_token(), new_token()
    snapshot = build.snapshot(
        parse_text(
            textwrap.dedent(f"""
            version: 1
            defaults: {{}}
            callers:
              shop:
                token_sha256: [{key_digest(new)}, {key_digest(old)}]
                relay: {{url: "http://127.0.0.1:9000/hooks/s3cr3t?x=1", timeout: 1500ms}}
              bot:
                token_sha256: {key_digest(old)}
                relay: {{url: "https://bot.internal/webhook"}}
              reader:
                token_sha256: {"c" * 64}
            """),
            "p.yaml",
        ),
        "p.yaml",
    )
    found = relay_rules.targets(snapshot)
    assert sorted(found) == ["bot", "shop"]
    shop = found["shop"]
    assert (shop.url, shop.timeout) == ("http://127.0.0.1:9000/hooks/s3cr3t?x=1", 1.5)
    assert found["bot"].timeout == 10.0
    body = b'{"update_type":"invoice_paid"}'
    sent = relay_rules.headers(shop, body, EventId(5, 1))
    assert sent[signature.HEADER] == signature.sign(new, body)  # the first token of a rotation
    assert sent["Content-Type"] == "application/json"
    assert sent[relay_rules.EVENT_ID_HEADER] == "5-1"
    assert relay_rules.headers(found["bot"], body, EventId(5, 1))[
        signature.HEADER
    ] == signature.sign(old, body)
    # What logs may show: no path or query (a secret may hide there), and never the key.
    assert shop.where == "http://127.0.0.1:9000"
    assert shop.key.hex() not in repr(shop)
    assert relay_rules.group("shop") == "relay:shop"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (199, Outcome.REFUSED),
        (301, Outcome.REFUSED),  # a redirect is not a delivery
        (304, Outcome.REFUSED),
        (400, Outcome.REFUSED),
        (401, Outcome.REFUSED),
        (409, Outcome.REFUSED),
        (429, Outcome.REFUSED),
        (500, Outcome.REFUSED),
        (503, Outcome.REFUSED),
    ],
)
def test_only_a_2xx_delivers(status: int, outcome: Outcome) -> None:
    assert relay_rules.outcome_of(status) is outcome


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    low = [relay_rules.backoff(n, lambda: 0.0) for n in range(1, 10)]
    high = [relay_rules.backoff(n, lambda: 1.0) for n in range(1, 10)]
    assert high[:7] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert low == [h / 2 for h in high]  # half of each wait is random
    assert relay_rules.backoff(10_000, lambda: 1.0) == relay_rules.BACKOFF_CAP
    assert relay_rules.backoff(0, lambda: 1.0) == 0.5


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert relay_rules.retry_after({"Retry-After": "120"}, now) == 120.0
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert relay_rules.retry_after({"Retry-After": later}, now) == 90.0
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert relay_rules.retry_after({"Retry-After": earlier}, now) == 0.0
    assert relay_rules.retry_after({"Retry-After": "soon"}, now) is None
    assert relay_rules.retry_after({"Retry-After": "-5"}, now) is None
    assert relay_rules.retry_after({}, now) is None


def test_the_receiver_may_ask_for_a_longer_wait_within_a_cap() -> None:
    half = lambda: 0.5  # noqa: E731
    assert relay_rules.next_delay(1, None, half) == 0.375
    assert relay_rules.next_delay(1, 0.1, half) == 0.375  # never shorter than the backoff
    assert relay_rules.next_delay(1, 45.0, half) == 45.0  # beyond the backoff cap: honoured
    assert relay_rules.next_delay(1, 86_400.0, half) == relay_rules.RETRY_AFTER_CAP


def test_target_equality_sees_a_changed_key() -> None:
    a = Target("shop", "http://x/", 1.0, b"\x01" * 32)
    assert a == Target("shop", "http://x/", 1.0, b"\x01" * 32)
    assert a != Target("shop", "http://x/", 1.0, b"\x02" * 32)
