"""Random bodies and headers at the real endpoint: no 5xx, nothing published unless signed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidecar.signature import HEADER, sign
from tests.conftest import RunningSidecar
from tests.webhooks.conftest import ingest_url, iso, last_id

HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@st.composite
def updates(draw: st.DrawFn) -> bytes:
    """Bodies that look like updates, with random holes and wrong types."""
    update: dict[str, Any] = {
        "update_id": draw(st.one_of(st.integers(), JSON_VALUES)),
        "update_type": draw(st.sampled_from(["invoice_paid", "other_type", ""]) | JSON_VALUES),
        "request_date": draw(
            st.sampled_from(
                [
                    iso(datetime.now(UTC)),
                    iso(datetime.now(UTC) - timedelta(days=3)),
                    "2024-13-45T99:00:00Z",
                ]
            )
            | JSON_VALUES
        ),
        "payload": draw(
            st.fixed_dictionaries(
                {"invoice_id": st.integers(min_value=-5, max_value=10**12) | JSON_VALUES},
                optional={"asset": JSON_VALUES, "status": JSON_VALUES},
            )
            | JSON_VALUES
        ),
    }
    for key in draw(st.sets(st.sampled_from(sorted(update)))):
        del update[key]
    return json.dumps(update).encode()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(st.binary(max_size=2048), updates()),
    signing=st.sampled_from(["valid", "random", "absent", "other-token"]),
    random_signature=HEADER_TEXT,
    content_type=st.none()
    | st.sampled_from(["application/json", "application/json; charset=utf-8"])
    | HEADER_TEXT,
    extra=st.dictionaries(
        st.sampled_from(["Content-Encoding", "X-Forwarded-For", "Accept", "Expect"]),
        HEADER_TEXT,
        max_size=2,
    ),
)
async def test_random_requests_never_crash_and_unsigned_ones_never_publish(
    sidecar: RunningSidecar,
    http_session: aiohttp.ClientSession,
    body: bytes,
    signing: str,
    random_signature: str,
    content_type: str | None,
    extra: dict[str, str],
) -> None:
    headers = dict(extra)
    if content_type is not None:
        headers["Content-Type"] = content_type
    signed = signing == "valid"
    if signed:
        headers[HEADER] = sign(sidecar.token, body)
    elif signing == "random":
        headers[HEADER] = random_signature
    elif signing == "other-token":
        headers[HEADER] = sign("1:" + "Z" * 35, body)
    before = await last_id(sidecar)
    async with http_session.post(
        ingest_url(sidecar), data=body, headers=headers, skip_auto_headers=["Content-Type"]
    ) as response:
        await response.read()
        status = response.status
    assert status < 500, (status, body, headers)
    if not signed:
        assert status != 200
        assert await last_id(sidecar) == before
