"""Attendance edge cases seen in Zoom's own samples and in real sessions (zoombot.core.attendance), by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zoombot.core.attendance import Instance, Signal, Who, compute, compute_session, signals_from_event

T0 = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
ALICE = Who(email="alice@example.org", name="Alice Ames")
PHONE = Who(name="+1 617-555-0142")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def live(a: float, b: float) -> list[Signal]:
    return [Signal("start", at(a)), Signal("end", at(a), until=at(b))]


def event(name: str, when: float, *, uuid: str = "U1==", **participant) -> dict:
    key = "leave_time" if "left" in name else "join_time"
    participant.setdefault(key, at(when).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return {"event": name, "payload": {"object": {"id": "81234567890", "uuid": uuid, "participant": participant}}}


def signals(*events: dict) -> list[Signal]:
    return [s for e in events for s in signals_from_event(e["event"], e)]


def test_a_join_and_a_leave_in_the_same_second_count_nothing():
    # ZoomNet's sample pair: joined and left at 21:44:51; the meeting then ran on for 76 minutes
    same = [Signal("leave", at(10), ALICE, "d1"), Signal("join", at(10), ALICE, "d1")]
    person = compute(live(0, 86) + same).people["email:alice@example.org"]
    assert person.attended_seconds == 0 and person.intervals == []


def test_overlapping_joins_under_one_device_nest():
    # Moodle mod_zoom's case: join 15:05, join 15:30, leave 15:35, leave 15:40 -> 35 minutes
    nested = [
        Signal("join", at(5), ALICE, "d1"),
        Signal("join", at(30), ALICE, "d1"),
        Signal("leave", at(35), ALICE, "d1"),
        Signal("leave", at(40), ALICE, "d1"),
    ]
    assert compute(live(0, 60) + nested).people["email:alice@example.org"].attended_seconds == 35 * 60


def test_a_breakout_room_round_trip_is_attendance_and_opens_nothing():
    trip = signals(
        event(
            "meeting.participant_joined", 0, user_name="Alice Ames", email="alice@example.org", participant_uuid="P1"
        ),
        event(
            "meeting.participant_left",
            30,
            user_name="Alice Ames",
            email="alice@example.org",
            participant_uuid="P1",
            leave_reason="Alice Ames left the meeting to join a breakout room.",
        ),
        event(
            "meeting.participant_joined_breakout_room",
            30,
            user_name="Alice Ames",
            email="alice@example.org",
            participant_uuid="P1",
        ),
        event(
            "meeting.participant_left_breakout_room",
            60,
            user_name="Alice Ames",
            email="alice@example.org",
            participant_uuid="P1",
        ),
        event(
            "meeting.participant_joined", 60, user_name="Alice Ames", email="alice@example.org", participant_uuid="P1"
        ),
        event(
            "meeting.participant_left",
            90,
            user_name="Alice Ames",
            email="alice@example.org",
            participant_uuid="P1",
            leave_reason="Alice Ames left the meeting.",
        ),
    )
    person = compute(live(0, 120) + trip).people["email:alice@example.org"]
    assert person.attended_seconds == 90 * 60  # not open until the end at 120
    assert (person.devices, person.rejoins) == (1, 0)


def test_leaving_from_the_waiting_room_is_not_an_incomplete_visit():
    left = signals(event("meeting.participant_left", 5, user_name="Guest", leave_reason="Leave waiting room."))
    assert compute(live(0, 60) + left).people == {}


def test_a_rejoin_from_the_same_device_is_not_two_devices():
    visits = [
        Signal("join", at(2), ALICE, "laptop"),
        Signal("leave", at(40), ALICE, "laptop"),
        Signal("join", at(43), ALICE, "laptop-2"),
        Signal("leave", at(120), ALICE, "laptop-2"),
    ]
    person = compute(live(0, 120) + visits).people["email:alice@example.org"]
    assert (person.devices, person.rejoins, person.attended_seconds) == (1, 1, 115 * 60)
    both = visits + [Signal("join", at(30), ALICE, "phone"), Signal("leave", at(60), ALICE, "phone")]
    assert compute(live(0, 120) + both).people["email:alice@example.org"].devices == 2


def test_a_restart_makes_one_session_and_an_open_join_closes_at_its_own_instance():
    first = live(0, 30) + [Signal("join", at(5), ALICE, "d1")]  # her leave never came: closes at 30
    second = live(33, 125) + [Signal("join", at(35), ALICE, "d2"), Signal("leave", at(127), ALICE, "d2")]
    result = compute_session({"U1==": Instance(first, at(30)), "U2==": Instance(second, at(125))})
    person = result.people["email:alice@example.org"]
    assert person.spans() == [(at(5), at(30)), (at(35), at(125))]  # clipped to each instance's live time
    assert person.attended_seconds == (25 + 90) * 60
    assert result.live == [(at(0), at(30)), (at(33), at(125))]


def test_zoom_binding_a_phone_caller_makes_one_person_unless_staff_undo_it():
    laptop = event(
        "meeting.participant_joined",
        0,
        user_name="Alice Ames",
        email="alice@example.org",
        participant_uuid="LAPTOP",
        user_id="16778240",
    )
    laptop_off = event(
        "meeting.participant_left",
        60,
        user_name="Alice Ames",
        email="alice@example.org",
        participant_uuid="LAPTOP",
        user_id="16778240",
    )
    phone = event(
        "meeting.participant_joined", 50, user_name="+1 617-555-0142", participant_uuid="PHONE", user_id="1234567890"
    )
    phone_off = event(
        "meeting.participant_left", 100, user_name="+1 617-555-0142", participant_uuid="PHONE", user_id="1234567890"
    )
    bind = {
        "event": "meeting.participant_bind",
        "payload": {
            "object": {
                "uuid": "U1==",
                "participant": {
                    "user_id": "1234567890",
                    "bind_user_id": "16778240",
                    "participant_uuid": "PHONE",
                    "bind_participant_uuid": "LAPTOP",
                    "date_time": at(52).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            }
        },
    }
    found = live(0, 120) + signals(laptop, laptop_off, phone, phone_off, bind)
    result = compute_session({"U1==": Instance(found, at(120))})
    assert set(result.people) == {"email:alice@example.org"}
    person = result.people["email:alice@example.org"]
    assert (person.attended_seconds, person.devices) == (100 * 60, 2)
    assert [(b.phone, b.bound, b.applied) for b in result.binds] == [
        ("name:+1 617-555-0142", "email:alice@example.org", True)
    ]
    undone = compute_session(
        {"U1==": Instance(found, at(120))}, unbinds={frozenset(("name:+1 617-555-0142", "email:alice@example.org"))}
    )
    assert {k: p.attended_seconds for k, p in undone.people.items()} == {
        "email:alice@example.org": 60 * 60,
        "name:+1 617-555-0142": 50 * 60,
    }
    assert not undone.binds[0].applied
    # one instance computed alone (reconciliation's views of it) honours the same undone bind
    alone = compute(found, until=at(120), unbinds={frozenset(("name:+1 617-555-0142", "email:alice@example.org"))})
    assert {k: p.attended_seconds for k, p in alone.people.items()} == {
        "email:alice@example.org": 60 * 60,
        "name:+1 617-555-0142": 50 * 60,
    }


def test_identifiers_too_long_for_their_columns_are_hashed_not_cut():
    who = Who.from_zoom({"registrant_id": "r" * 5000, "email": "x" * 4990 + "@example.org", "user_name": "N" * 5000})
    assert who.registrant_id.startswith("sha256:") and len(who.registrant_id) == 71
    assert who.email.startswith("sha256:") and len(who.email) == 71
    assert len(who.name) == 200
    other = Who.from_zoom({"registrant_id": "r" * 4999 + "s"})
    assert other.registrant_id != who.registrant_id  # a shared prefix does not make two people one


def test_a_staff_merge_keeps_the_identity_of_the_person_staff_named():
    """ "Fatima is the same person as Evan": Evan keeps his key (his line, his member) and gets both times,
    although "email:evan…" would lose to nothing and "email:fatima…" to nothing by rank alone; the other way
    round, Fatima keeps hers."""
    fatima = dict(user_name="Fatima Khan", email="fatima.khan@example.org", participant_uuid="F")
    evan = dict(user_name="Evan Brooks", email="zz.evan@example.org", participant_uuid="E")
    found = live(0, 120) + signals(
        event("meeting.participant_joined", 3, **fatima),
        event("meeting.participant_left", 23, **fatima),
        event("meeting.participant_joined", 50, **evan),
        event("meeting.participant_left", 125, **evan),
    )
    into_evan = compute(found, until=at(120), merges={"email:fatima.khan@example.org": "email:zz.evan@example.org"})
    assert {k: p.attended_seconds for k, p in into_evan.people.items()} == {"email:zz.evan@example.org": 90 * 60}
    # and his name and e-mail: the e-mail is what matches a member, so the credit stays his
    merged = into_evan.people["email:zz.evan@example.org"]
    assert (merged.name, merged.email) == ("Evan Brooks", "zz.evan@example.org")
    into_fatima = compute(found, until=at(120), merges={"email:zz.evan@example.org": "email:fatima.khan@example.org"})
    assert {k: p.attended_seconds for k, p in into_fatima.people.items()} == {"email:fatima.khan@example.org": 90 * 60}
    # without merges each keeps their own key
    alone = compute(found, until=at(120))
    assert set(alone.people) == {"email:fatima.khan@example.org", "email:zz.evan@example.org"}
