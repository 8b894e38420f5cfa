"""Fuzz POST /zoom/webhook: arbitrary bodies and headers never cause a 5xx, and only a verified event is
ever stored. Signed garbage is refused with 400 or kept (200) for audit or staff review, never a 500."""

from __future__ import annotations

import copy
import io
import json
import string
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.helpers.zoom_events import WEBHOOK_SECRET, load_fixture, signed_headers
from webhooks.event import Event
from webhooks.signature import sign
from zoombot.store.models import ZoomEvent

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIXTURES = [
    "meeting_started",
    "meeting_ended",
    "participant_joined",
    "participant_left",
    "participant_joined_waiting_room",
    "participant_admitted",
    "participant_put_in_waiting_room",
    "participant_left_waiting_room",
    "meeting_created",
    "meeting_updated",
    "meeting_deleted",
]
HANDLED = [load_fixture(name)["event"] for name in FIXTURES]

header_text = st.text(alphabet=string.printable.strip() + " ", max_size=80)
# ordinary text, and text with NUL and lone surrogates (valid JSON escapes that need storing with care)
any_text = st.text(max_size=40) | st.text(alphabet=st.characters(exclude_categories=()), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=20
)


def count_events(runtime) -> int:
    with runtime.db.begin() as session:
        return session.scalar(select(func.count()).select_from(ZoomEvent))


@st.composite
def mutated_fixture(draw):
    """A recorded Zoom payload with some leaves (or whole sub-objects) replaced by arbitrary JSON."""
    body = copy.deepcopy(load_fixture(draw(st.sampled_from(FIXTURES))))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        node = body
        path = []
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node)))
            path.append(key)
            node = node[key]
        target = body
        for key in path[:-1]:
            target = target[key]
        if path:
            target[path[-1]] = draw(json_values)
        else:
            body[draw(st.text(max_size=8))] = draw(json_values)
    return body


event_shaped = st.fixed_dictionaries(
    {"event": st.sampled_from(HANDLED) | st.text(max_size=30) | json_values},
    optional={
        "event_ts": json_values | st.integers(min_value=0, max_value=2**63),
        "payload": json_values
        | st.fixed_dictionaries(
            {
                "object": json_values
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "id",
                            "uuid",
                            "participant",
                            "start_time",
                            "end_time",
                            "occurrences",
                            "duration",
                            "timezone",
                            "join_url",
                        ]
                    ),
                    json_values,
                )
            },
            optional={"account_id": json_values},
        ),
    },
)

any_body = (
    st.binary(max_size=2000)
    | json_values.map(lambda v: json.dumps(v).encode())
    | event_shaped.map(lambda v: json.dumps(v).encode())
    | mutated_fixture().map(lambda v: json.dumps(v).encode())
)


@st.composite
def unverified_headers(draw, body: bytes):
    """Headers that do not prove the body came from Zoom: missing, random, wrong secret, stale, or a
    correct-looking `v0=<64 hex>` that is not the HMAC of this body."""
    now = int(time.time())
    kind = draw(st.sampled_from(["none", "random", "looks_right", "wrong_secret", "stale", "other_body"]))
    headers = {"content-type": "application/json"}
    if kind == "none":
        return headers
    ts = str(now)
    if kind == "random":
        if draw(st.booleans()):
            headers["x-zm-signature"] = draw(header_text)
        if draw(st.booleans()):
            headers["x-zm-request-timestamp"] = draw(header_text)
        return headers
    if kind == "looks_right":
        signature = "v0=" + draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
    elif kind == "wrong_secret":
        signature = sign(draw(st.text(min_size=1, max_size=20).filter(lambda s: s != WEBHOOK_SECRET)), ts, body)
    elif kind == "stale":
        ts = str(now - draw(st.integers(min_value=5401, max_value=10**9)) * draw(st.sampled_from([1, -1])))
        signature = sign(WEBHOOK_SECRET, ts, body)
    else:
        signature = sign(WEBHOOK_SECRET, ts, body + b" ")
    headers.update({"x-zm-signature": signature, "x-zm-request-timestamp": ts})
    return headers


@FUZZ
@given(data=st.data(), body=any_body)
def test_unverified_requests_are_refused_and_store_nothing(client, runtime, data, body):
    before = count_events(runtime)
    headers = data.draw(unverified_headers(body))
    response = client.post("/zoom/webhook", data=body, headers=headers)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert count_events(runtime) == before


def _check_signed(client, runtime, body: bytes) -> None:
    before = count_events(runtime)
    response = client.post("/zoom/webhook", data=body, headers=signed_headers(body))
    assert response.status_code in (200, 400), (response.status_code, response.get_data(as_text=True))
    if response.status_code == 400:
        assert count_events(runtime) == before
        return
    answer = response.get_json()
    if "encryptedToken" in answer:  # a url_validation challenge is answered, never stored
        assert count_events(runtime) == before
        return
    outcome = answer["status"]
    assert outcome in {"stored", "ignored", "failed", "duplicate"}
    key = Event.from_body(body).dedupe_key
    with runtime.db.begin() as session:
        rows = session.scalars(select(ZoomEvent).where(ZoomEvent.dedupe_key == key)).all()
    assert len(rows) == 1
    expected = {
        "stored": {"processed"},
        "ignored": {"ignored"},
        "failed": {"failed"},
        "duplicate": {"processed", "ignored", "failed"},
    }[outcome]
    assert rows[0].status in expected
    if outcome == "failed":
        assert rows[0].error  # kept for staff review, with the reason
    assert count_events(runtime) == before + (0 if outcome == "duplicate" else 1)


@FUZZ
@given(body=any_body)
@example(body=b"[" * 100_000 + b"]" * 100_000)
@example(body=b'{"event": "meeting.participant_joined", "event_ts": NaN, "payload": {"x": Infinity}}')
@example(body=b'{"event": "meeting.started\\u0000", "payload": {"object": {"uuid": "a\\u0000b", "id": 1}}}')
@example(body=b'{"event": "meeting.started", "payload": {"object": {"uuid": "' + b"u" * 500 + b'", "id": "1"}}}')
@example(
    body=b'{"event": "meeting.participant_left", "payload": {"object": {"uuid": "x", "id": "1", '
    b'"participant": {"leave_time": "2026-13-45T99:99:99Z", "join_time": 7}}}}'
)
@example(body=b'{"event": "endpoint.url_validation", "payload": {"plainToken": {"a": 1}}}')
@example(body=b'{"event": "endpoint.url_validation", "payload": {"plainToken": "\\ud800"}}')
@example(
    body=b'{"event": "meeting.participant_joined", "payload": {"object": {"uuid": "u\\u0000", "id": 1, '
    b'"participant": {"user_name": "\\udfff\\u0000"}}}}'
)
@example(body=b'\xef\xbb\xbf{"event": "x"}')
def test_signed_garbage_is_refused_or_kept_never_a_server_error(client, runtime, body):
    _check_signed(client, runtime, body)


@FUZZ
@given(body=mutated_fixture() | event_shaped)
def test_signed_event_shaped_garbage_is_kept_for_review_or_refused(client, runtime, body):
    _check_signed(client, runtime, json.dumps(body).encode())


timestamps = (
    st.text(alphabet="0123456789", min_size=1, max_size=500)
    | header_text
    | st.integers(min_value=-(10**6), max_value=10**6).map(lambda offset: str(int(time.time()) + offset))
    | st.integers(min_value=-(10**6), max_value=10**6).map(lambda ms: str(int(time.time()) * 1000 + ms))
    | st.text(alphabet="0123456789", min_size=1, max_size=30).map(lambda d: f" -{d} ")
)
header_names = st.sampled_from(["content-type", "content-encoding", "x-zm-trackingid", "authorization", "x-extra"])


@FUZZ
@given(data=st.data(), body=any_body | mutated_fixture().map(lambda v: json.dumps(v).encode()))
@example(data=None, body=b'{"event": "meeting.started"}')
def test_any_headers_give_no_server_error_and_store_nothing_unless_signed(client, runtime, data, body):
    """Whatever the timestamp (400 digits, negative, milliseconds, text), however the body arrives
    (Content-Length or chunked) and whatever else the headers say: never a 5xx, and nothing stored
    unless the signature is Zoom's, under our secret, over these bytes and this timestamp."""
    if data is None:  # the explicit example: the timestamp of 400 nines, correctly signed
        timestamp, signed, extra, chunked = "9" * 400, True, {}, False
    else:
        timestamp = data.draw(timestamps)
        signed = data.draw(st.booleans())
        extra = data.draw(st.dictionaries(header_names, header_text, max_size=3))
        chunked = data.draw(st.booleans())
    headers = {**extra, "x-zm-request-timestamp": timestamp}
    headers["x-zm-signature"] = sign(WEBHOOK_SECRET, timestamp.strip(), body) if signed else data.draw(header_text)
    before = count_events(runtime)
    if chunked:
        response = client.post(
            "/zoom/webhook",
            input_stream=io.BytesIO(body),
            headers=headers,
            environ_overrides={"wsgi.input_terminated": True},
        )
    else:
        response = client.post("/zoom/webhook", data=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True))
    if not signed:
        assert response.status_code == 401
    if response.status_code != 200:
        assert count_events(runtime) == before
    else:
        assert count_events(runtime) - before in (0, 1)  # a challenge, a redelivery, or the one event
