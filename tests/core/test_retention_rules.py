"""Pure retention rules: when a meeting may be stripped, and that stripping keeps attendance exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core import attendance
from zoombot.core.retention import (
    REDACTED,
    LineState,
    anonymous_key,
    inert_key,
    is_due,
    mask_text,
    plan_meeting,
    pseudonym,
)

SECRET = "installation-secret"
NOW = datetime(2027, 12, 1, tzinfo=UTC)
START = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- when ----------------------------------------------------------------------------------------


def test_due_only_when_every_record_is_settled_and_the_period_has_passed():
    old = NOW - timedelta(days=31)
    exported = LineState("approved", NOW - timedelta(days=20))
    assert is_due(old, [exported, LineState("rejected", None)], now=NOW, days=30)
    assert is_due(old, [], now=NOW, days=30)  # nobody earned hours: only the period counts
    assert not is_due(old, [exported, LineState("pending", None)], now=NOW, days=30)
    assert not is_due(old, [LineState("approved", None)], now=NOW, days=30)  # approved, not yet exported
    assert not is_due(NOW - timedelta(days=29), [exported], now=NOW, days=30)
    assert not is_due(None, [], now=NOW, days=30)  # never ended
    assert not is_due(old, [exported], now=NOW, days=30, claims_open=True)  # a member's claim waits for staff


@given(
    st.lists(st.tuples(st.sampled_from(["pending", "approved", "rejected"]), st.booleans()), max_size=6),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=1, max_value=365),
)
def test_due_is_exactly_settled_and_old(records, age_days, days):
    states = [LineState(status, NOW if exported else None) for status, exported in records]
    settled = all(s == "rejected" or (s == "approved" and e) for s, e in records)
    old = age_days >= days
    assert is_due(NOW - timedelta(days=age_days), states, now=NOW, days=days) == (settled and old)


# --- pseudonyms and masking -------------------------------------------------------------------------


def test_pseudonyms_are_stable_keyed_and_idempotent():
    key = "email:alice@example.org"
    assert pseudonym(SECRET, key) == pseudonym(SECRET, key)
    assert pseudonym(SECRET, key) != pseudonym("another-installation", key)
    assert pseudonym(SECRET, key).startswith("anon:") and len(pseudonym(SECRET, key)) == 21
    anon = anonymous_key(SECRET, key)
    assert anon.startswith("user:anon:") and "alice" not in anon
    assert anonymous_key(SECRET, anon) == anon
    assert inert_key(SECRET, inert_key(SECRET, key)) == inert_key(SECRET, key)
    assert inert_key(SECRET, key) != anon


def test_mask_text_masks_emails_ips_and_known_values_only():
    text = "Alice Ames <alice@example.org> from 192.168.10.20 joined at 2026-10-13T22:30:10Z; Alicea stays"
    masked = mask_text(text, {"Alice Ames", "Alicea Bob"})
    assert masked == f"{REDACTED} <{REDACTED}> from {REDACTED} joined at 2026-10-13T22:30:10Z; Alicea stays"


# --- stripping keeps attendance ---------------------------------------------------------------------

PEOPLE = st.lists(
    st.fixed_dictionaries(
        {
            "registrant_id": st.sampled_from(["", "", "reg-1", "reg-2"]),
            "email": st.sampled_from(["", "alice@example.org", "bob@example.org", "Carol@Example.org"]),
            "id": st.sampled_from(["", "", "zoomuser1", "zoomuser2", "HOSTID"]),
            "participant_user_id": st.sampled_from(["", "", "puid-9"]),
            "user_name": st.sampled_from(["", "Alice Ames", "Bob Brown", "Carol Cruz", "iPhone"]),
            "device": st.sampled_from(["", "dev-a", "dev-b", "dev-c"]),
            "phone_number": st.sampled_from(["", "+1 555 0100"]),
        }
    ),
    min_size=1,
    max_size=6,
)

ACTIONS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5),  # whose device
        st.sampled_from(
            [
                "participant_joined",
                "participant_left",
                "participant_admitted",
                "participant_put_in_waiting_room",
                "participant_joined_waiting_room",
                "report",
            ]
        ),
        st.integers(min_value=-10, max_value=150),  # minute
        st.integers(min_value=1, max_value=60),  # report span length
        st.booleans(),
    ),
    max_size=14,
)


def _participant(person: dict, minute: int, kind: str, span: int) -> dict:
    at = iso(START + timedelta(minutes=minute))
    p = {
        "user_name": person["user_name"],
        "email": person["email"],
        "registrant_id": person["registrant_id"],
        "id": person["id"],
        "participant_user_id": person["participant_user_id"],
        "phone_number": person["phone_number"],
        "ip_address": "10.1.2.3",
        "location": "Springfield",
    }
    if person["device"]:
        p["participant_uuid"] = person["device"]
    if kind == "report":
        p.update(
            join_time=at,
            leave_time=iso(START + timedelta(minutes=minute + span)),
            name=p.pop("user_name"),
            user_email=p.pop("email"),
            status="in_meeting",
        )
    elif kind == "participant_left":
        p.update(leave_time=at, leave_reason=f"{person['user_name']} left the meeting. Reason: left")
    elif "waiting_room" in kind and kind != "participant_put_in_waiting_room":
        p["date_time"] = at
    else:
        p["join_time"] = at
    return p


def _meeting_events(people, actions, ended: bool):
    obj = {
        "id": "81234567890",
        "uuid": "U==",
        "host_id": "HOSTID",
        "topic": "Infant-Toddler CoP",
        "start_time": iso(START),
        "duration": 120,
        "host_email": "host@example.org",
    }
    events = [("meeting.started", {"event": "meeting.started", "payload": {"account_id": "acc", "object": dict(obj)}})]
    if ended:
        events.append(
            (
                "meeting.ended",
                {
                    "event": "meeting.ended",
                    "payload": {"account_id": "acc", "object": dict(obj, end_time=iso(START + timedelta(minutes=120)))},
                },
            )
        )
    for i, (who, kind, minute, span, _) in enumerate(actions):
        person = people[who % len(people)]
        name = "report.participant" if kind == "report" else f"meeting.{kind}"
        events.append(
            (
                name,
                {
                    "event": name,
                    "event_ts": i,
                    "payload": {
                        "account_id": "acc",
                        "operator": "staff@example.org",
                        "object": dict(obj, participant=_participant(person, minute, kind, span)),
                    },
                },
            )
        )
    return events


def _attendance(events, merges, until):
    signals = [s for name, body in events for s in attendance.signals_from_event(name, body)]
    return attendance.compute(signals, until=until, merges=merges)


@settings(max_examples=300, deadline=None)
@given(
    people=PEOPLE,
    actions=ACTIONS,
    ended=st.booleans(),
    merge=st.one_of(st.none(), st.tuples(st.integers(0, 5), st.integers(0, 5))),
)
def test_stripping_keeps_every_persons_attendance_under_a_new_key(people, actions, ended, merge):
    events = _meeting_events(people, actions, ended)
    until = START + timedelta(minutes=90)
    before = _attendance(events, {}, until)
    merges = {}
    if merge and len(before.people) >= 2:
        keys = sorted(before.people)
        merges = {keys[merge[0] % len(keys)]: keys[merge[1] % len(keys)]}
        merges = {s: t for s, t in merges.items() if s != t}
        before = _attendance(events, merges, until)
    plan = plan_meeting(
        [(i, name, body, False) for i, (name, body) in enumerate(events)], merges, before.people, secret=SECRET
    )
    stripped = [(name, plan.bodies[i]) for i, (name, _) in enumerate(events)]
    after = _attendance(stripped, {inert_key(SECRET, s): inert_key(SECRET, t) for s, t in merges.items()}, until)

    assert sorted(after.people) == sorted(plan.key(k) for k in before.people)
    assert after.live == before.live
    for key, person in before.people.items():
        new = after.people[plan.key(key)]
        assert new.key.startswith("user:anon:")
        assert (new.attended_seconds, new.spans(), new.devices, new.is_host, new.incomplete) == (
            person.attended_seconds,
            person.spans(),
            person.devices,
            person.is_host,
            person.incomplete,
        )
        assert (new.name, new.email, new.registrant_id) == ("", "", "")
    text = json.dumps([body for _, body in stripped])
    for secret_value in (
        "alice@",
        "bob@",
        "Carol@",
        "Alice",
        "Bob",
        "Carol",
        "reg-1",
        "reg-2",
        "zoomuser",
        "puid-9",
        "HOSTID",
        "555 0100",
        "10.1.2.3",
        "Springfield",
        "host@",
        "staff@",
        "dev-a",
    ):
        assert secret_value not in text


def test_stripping_twice_changes_nothing_more():
    people = [
        {
            "registrant_id": "",
            "email": "alice@example.org",
            "id": "",
            "participant_user_id": "",
            "user_name": "Alice Ames",
            "device": "dev-a",
            "phone_number": "",
        }
    ]
    events = _meeting_events(
        people, [(0, "participant_joined", 5, 1, False), (0, "participant_left", 50, 1, False)], True
    )
    first = plan_meeting(
        [(i, n, b, False) for i, (n, b) in enumerate(events)], {}, ["email:alice@example.org"], secret=SECRET
    )
    again = plan_meeting(
        [(i, n, first.bodies[i], True) for i, (n, _) in enumerate(events)],
        {},
        [first.key("email:alice@example.org")],
        secret=SECRET,
    )
    assert again.bodies == {}  # events already stripped are left alone
    assert again.key(first.key("email:alice@example.org")) == first.key("email:alice@example.org")


def test_unknown_events_lose_personal_fields_and_addresses_in_text():
    body = {
        "event": "meeting.registration_created",
        "payload": {
            "account_id": "acc",
            "operator": "op@example.org",
            "object": {
                "id": 81234567890,
                "uuid": "U==",
                "topic": "CoP",
                "registrant": {
                    "first_name": "Dana",
                    "last_name": "Diaz",
                    "email": "dana@example.org",
                    "address": "1 Main St",
                    "phone": "555",
                    "join_url": "https://zoom.us/w/1?tk=x",
                    "custom_questions": [{"title": "Org", "value": "Kids"}],
                    "status": "approved",
                },
                "note": "contact dana@example.org from 203.0.113.9",
            },
        },
    }
    plan = plan_meeting([(1, body["event"], body, False)], {}, [], secret=SECRET)
    stripped = plan.bodies[1]
    assert stripped == {
        "event": "meeting.registration_created",
        "payload": {
            "account_id": "acc",
            "object": {
                "id": 81234567890,
                "uuid": "U==",
                "topic": "CoP",
                "registrant": {"status": "approved"},
                "note": f"contact {REDACTED} from {REDACTED}",
            },
        },
    }
