"""The Event value: what counts as a Zoom event, normalised identifiers, and the content-derived key."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhooks.event import BadPayload, Event

JOINED = {
    "event": "meeting.participant_joined",
    "event_ts": 1760394610037,
    "payload": {
        "account_id": "AbCdEfGh123",
        "object": {
            "id": "81234567890",
            "uuid": "4444AAAiAAAAAiAiAiiAii==",
            "host_id": "x1yCzABCDEfg23HiJKl4mN",
            "participant": {"user_id": "16778240", "user_name": "Alice Ames", "join_time": "2026-10-13T22:30:10Z"},
        },
    },
}


def test_parses_a_zoom_event():
    event = Event.from_body(json.dumps(JOINED).encode())
    assert event.name == "meeting.participant_joined"
    assert event.event_ts == 1760394610037
    assert event.account_id == "AbCdEfGh123"
    assert event.meeting_id == "81234567890"
    assert event.meeting_uuid == "4444AAAiAAAAAiAiAiiAii=="
    assert event.object["participant"]["user_name"] == "Alice Ames"


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"meeting.started"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b"{}", "no event name"),
        (b'{"event": ""}', "no event name"),
        (b'{"event": 5}', "no event name"),
        (b'{"payload": {"object": {}}}', "no event name"),
        (json.dumps({"event": "x" * 101}).encode(), "no event name"),
    ],
)
def test_bodies_that_are_not_zoom_events(raw, message):
    with pytest.raises(BadPayload, match=message):
        Event.from_body(raw)


def test_numeric_meeting_id_is_normalised_to_a_string():
    """created/updated/deleted carry the id as a number, participant events as a string."""
    as_number = Event.from_json({"event": "meeting.created", "payload": {"object": {"id": 81234567890}}})
    as_string = Event.from_json({"event": "meeting.created", "payload": {"object": {"id": "81234567890"}}})
    assert as_number.meeting_id == as_string.meeting_id == "81234567890"


@pytest.mark.parametrize(
    "body",
    [
        {"event": "app.deauthorized"},
        {"event": "meeting.started", "payload": "not an object"},
        {"event": "meeting.started", "payload": {"object": ["nope"]}},
        {"event": "meeting.started", "payload": {"object": {"id": "", "uuid": ""}}},
        {"event": "meeting.started", "payload": {"object": {"id": True}}},
    ],
)
def test_missing_or_odd_parts_read_as_absent(body):
    event = Event.from_json(body)
    assert event.meeting_id is None and event.meeting_uuid is None and event.account_id is None


@pytest.mark.parametrize(
    "ts, expected",
    [(None, 0), ("1760394610037", 1760394610037), ("soon", 0), (True, 0), (1760394610037.0, 1760394610037)],
)
def test_event_ts_tolerates_odd_values(ts, expected):
    assert Event.from_json({"event": "meeting.started", "event_ts": ts}).event_ts == expected


def test_dedupe_key_ignores_key_order_and_whitespace():
    """A retry is the same delivery even if a proxy re-serialised it."""
    reordered = json.loads(json.dumps(JOINED, sort_keys=True))
    compact = Event.from_body(json.dumps(JOINED, separators=(",", ":")).encode())
    spaced = Event.from_body(json.dumps(reordered, indent=4).encode())
    assert compact.dedupe_key == spaced.dedupe_key
    assert len(compact.dedupe_key) == 64


def test_dedupe_key_differs_for_different_events():
    base = Event.from_json(JOINED)
    later = json.loads(json.dumps(JOINED))
    later["event_ts"] += 1
    other_person = json.loads(json.dumps(JOINED))
    other_person["payload"]["object"]["participant"]["user_id"] = "16778241"
    renamed = dict(JOINED, event="meeting.participant_left")
    keys = {
        base.dedupe_key,
        Event.from_json(later).dedupe_key,
        Event.from_json(other_person).dedupe_key,
        Event.from_json(renamed).dedupe_key,
    }
    assert len(keys) == 4


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans()), max_size=6))
def test_dedupe_key_is_a_function_of_content(extra):
    body = {"event": "meeting.participant_joined", "event_ts": 1, "payload": {"object": extra}}
    copy = json.loads(json.dumps(body))
    assert Event.from_json(body).dedupe_key == Event.from_json(copy).dedupe_key


def test_lone_surrogate_escape_is_valid_json_and_becomes_a_replacement_character():
    event = Event.from_body(
        b'{"event": "meeting.participant_joined", "event_ts": 1, '
        b'"payload": {"object": {"participant": {"user_name": "\\ud800x"}}}}'
    )
    assert len(event.dedupe_key) == 64
    assert event.object["participant"]["user_name"] == "\ufffdx"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            b'{"event": "e\\u0000", "a": ["x\\u0000y", {"k\\u0000": "\\udc00\\ud800"}]}',
            {"event": "e\ufffd", "a": ["x\ufffdy", {"k\ufffd": "\ufffd\ufffd"}]},
        ),
        (
            b'{"event": "e", "pair": "\\ud83d\\ude00", "slash": "\\\\u0000"}',  # a real pair; an escaped backslash
            {"event": "e", "pair": "\U0001f600", "slash": "\\u0000"},
        ),
        ('{"event": "e", "raw": "\ud800"}'.encode("utf-8", "surrogatepass"), {"event": "e", "raw": "\ufffd"}),
        ('{"event": "e\ud800"}'.encode("utf-16-le", "surrogatepass"), {"event": "e\ufffd"}),
    ],
)
def test_nul_and_lone_surrogates_become_replacement_characters_wherever_they_are(raw, expected):
    assert Event.from_body(raw).body == expected


@given(
    st.recursive(
        st.none() | st.integers() | st.text(alphabet=st.characters(exclude_categories=())),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=12,
    )
)
def test_whatever_a_signed_body_holds_comes_out_as_encodable_text(value):
    body = {"event": "meeting.participant_joined", "payload": value}
    raw = json.dumps(body).encode()  # ASCII with \\uXXXX escapes, surrogates and NUL included
    event = Event.from_body(raw)
    text = json.dumps(event.body, ensure_ascii=False)
    text.encode("utf-8")  # raises for a lone surrogate
    assert "\x00" not in text
    assert Event.from_body(raw).dedupe_key == event.dedupe_key


def test_who_drops_unstorable_characters():
    from zoombot.core.attendance import Who

    assert Who.from_zoom({"user_name": " \ud800Ana ", "email": "ANA@example.org"}) == Who(
        email="ana@example.org", name="?Ana"
    )


any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=12)
json_without_floats = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=25,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)


@given(payload=json_without_floats)
def test_the_fast_dedupe_key_is_the_canonical_one_whenever_there_is_no_float(payload):
    from zoombot.core.event_identity import event_key

    assert event_key("meeting.participant_joined", 7, payload, no_floats=True) == event_key(
        "meeting.participant_joined", 7, payload
    )


@given(payload=json_values, indent=st.sampled_from([None, 1]), ascii_only=st.booleans())
def test_a_body_reads_and_keys_the_same_whichever_parser_reads_it(payload, indent, ascii_only):
    """orjson reads most bodies, json.loads the rest: the value and the key are json.loads' own (with
    NUL made storable)."""
    from webhooks.event import storable
    from zoombot.core.event_identity import event_key

    body = {"event": "meeting.participant_joined", "event_ts": 5, "payload": payload}
    raw = json.dumps(body, indent=indent, ensure_ascii=ascii_only).encode()
    expected = storable(json.loads(raw))
    event = Event.from_body(raw)
    assert event.body == expected
    assert [type(v) for v in _leaves(event.body)] == [type(v) for v in _leaves(expected)]
    assert event.dedupe_key == event_key("meeting.participant_joined", 5, expected["payload"])


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _leaves(value[k])]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@pytest.mark.parametrize(
    "payload, plain",
    [
        (b'{"object": {"uuid": "q2GYD8E/mnfddR9/r2Ae==", "id": "81234567890"}}', True),  # base64, no float
        (b'{"object": {"id": 81234567890, "duration": 60, "email": "ana.k9@example.org"}}', True),
        (b'{"score": 2.5}', False),
        (b'{"list": [1, -1e-7]}', False),
        (b'{"list": [\n  1.0\n]}', False),
        (b'{"x": -3E+2}', False),
    ],
)
def test_the_fast_dedupe_key_is_taken_only_where_no_float_can_be(payload, plain):
    """Event.plain_numbers: no float in the body (orjson keys it), or maybe one (json.dumps does)."""
    raw = b'{"event": "meeting.participant_joined", "event_ts": 1, "payload": ' + payload + b"}"
    assert Event.from_body(raw).plain_numbers is plain
