"""Attendance from real deliveries (contract section 5): events go through POST /zoom/webhook, and the
derived participants and credit lines are read back from the database."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from tests.helpers.zoom_events import zoom_event
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Meeting, Participant, ZoomEvent

UUID = "4444AAAiAAAAAiAiAiiAii=="
ALICE = dict(
    user_id="16778240", user_name="Alice Ames", participant_uuid="Pp7YyHm2Q2uJbQk0bS1xWw", email="alice@example.org"
)


def started(at="2026-10-13T22:30:00Z", uuid=UUID):
    return zoom_event("meeting_started", meeting_start_time=at, meeting_uuid=uuid)


def ended(end="2026-10-14T00:30:00Z", start="2026-10-13T22:30:00Z", uuid=UUID):
    return zoom_event("meeting_ended", meeting_start_time=start, meeting_end_time=end, meeting_uuid=uuid)


def joined(at, uuid=UUID, **who):
    return zoom_event("participant_joined", join_time=at, meeting_uuid=uuid, **{**ALICE, **who})


def left(at, uuid=UUID, **who):
    return zoom_event("participant_left", leave_time=at, meeting_uuid=uuid, **{**ALICE, **who})


def play(post_event, events):
    for body in events:
        response = post_event(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["status"] in ("stored", "duplicate"), response.json


def participants(runtime, uuid=UUID) -> dict[str, Participant]:
    """The participants of the session this instance belongs to."""
    with runtime.db.begin() as session:
        session_id = session.scalar(select(Meeting.session_id).where(Meeting.uuid == uuid))
        return {
            p.identity_key: p for p in session.scalars(select(Participant).where(Participant.session_id == session_id))
        }


def records(runtime, uuid=UUID) -> dict[str, CreditLine]:
    """The credit lines of the session this instance belongs to."""
    with runtime.db.begin() as session:
        session_id = session.scalar(select(Meeting.session_id).where(Meeting.uuid == uuid))
        return {
            r.participant_key: r for r in session.scalars(select(CreditLine).where(CreditLine.session_id == session_id))
        }


def seconds(runtime, key="email:alice@example.org", uuid=UUID) -> int:
    return participants(runtime, uuid)[key].attended_seconds


def intervals(runtime, key="email:alice@example.org", uuid=UUID):
    return [tuple(i[:2]) for i in participants(runtime, uuid)[key].intervals]


def test_join_leave_end(post_event, runtime):
    play(post_event, [started(), joined("2026-10-13T22:30:10Z"), left("2026-10-14T00:25:00Z"), ended()])
    alice = participants(runtime)["email:alice@example.org"]
    assert alice.attended_seconds == 6890 and alice.devices == 1 and alice.is_host is False
    assert alice.name == "Alice Ames" and alice.email == "alice@example.org"
    assert alice.intervals == [["2026-10-13T22:30:10+00:00", "2026-10-14T00:25:00+00:00", "webhook"]]
    record = records(runtime)["email:alice@example.org"]
    assert record.status == "pending" and record.attended_seconds == 6890
    assert (float(record.growth_hours), float(record.training_hours)) == (1.75, 0.0)  # 114 min, 15-minute steps down


def test_out_of_order_delivery_gives_the_same_attendance(post_event, runtime):
    """Leave before join, and the meeting's end before any join: the result does not depend on order."""

    def meeting(uuid):
        return [
            started(uuid=uuid),
            joined("2026-10-13T22:30:10Z", uuid=uuid),
            left("2026-10-13T23:10:00Z", uuid=uuid),
            joined("2026-10-13T23:20:00Z", uuid=uuid, user_id="16778300"),
            left("2026-10-14T00:25:00Z", uuid=uuid, user_id="16778300"),
            joined(
                "2026-10-13T22:45:00Z",
                uuid=uuid,
                user_id="16778999",
                user_name="Bob Bell",
                email="bob@example.org",
                participant_uuid="BobDevice1",
            ),
            ended(uuid=uuid),
        ]

    in_order, reversed_order = "OrderedUuid1==", "ReversedUuid2=="
    play(post_event, meeting(in_order))
    with runtime.db.begin() as session:  # the same meeting id on the same day is one session: keep them apart
        session.execute(update(Meeting).values(zoom_meeting_id="81234567891"))
        session.execute(update(CreditSession).values(key="apart"))
    play(post_event, list(reversed(meeting(reversed_order))))

    def view(uuid):
        return {k: (p.attended_seconds, p.intervals, p.devices) for k, p in participants(runtime, uuid).items()}

    assert view(in_order) == view(reversed_order)
    assert view(in_order)["email:alice@example.org"][0] == 2390 + 3900
    assert view(in_order)["email:bob@example.org"][0] == 6300  # no leave: closed at the meeting's end

    def hours(uuid):
        return {k: (r.attended_seconds, r.growth_hours, r.status) for k, r in records(runtime, uuid).items()}

    assert hours(in_order) == hours(reversed_order)


def test_rejoin_is_not_double_counted(post_event, runtime):
    play(
        post_event,
        [
            started(),
            joined("2026-10-13T22:30:10Z"),
            left("2026-10-13T23:00:00Z"),
            joined("2026-10-13T23:10:00Z", user_id="16778500"),
            left("2026-10-14T00:25:00Z", user_id="16778500"),
            ended(),
        ],
    )
    assert seconds(runtime) == 6890 - 600
    assert (
        participants(runtime)["email:alice@example.org"].devices,
        participants(runtime)["email:alice@example.org"].rejoins,
    ) == (1, 1)  # "rejoined", not "2 devices"
    assert intervals(runtime) == [
        ("2026-10-13T22:30:10+00:00", "2026-10-13T23:00:00+00:00"),
        ("2026-10-13T23:10:00+00:00", "2026-10-14T00:25:00+00:00"),
    ]


def test_two_devices_overlapping_count_as_a_union(post_event, runtime):
    phone = dict(user_id="16779000", participant_uuid="PhoneDevice9", user_name="Alice (iPhone)")
    play(
        post_event,
        [
            started(),
            joined("2026-10-13T22:30:10Z"),
            left("2026-10-14T00:25:00Z"),
            joined("2026-10-13T23:00:00Z", **phone),
            left("2026-10-14T00:29:00Z", **phone),
            ended(),
        ],
    )
    alice = participants(runtime)["email:alice@example.org"]
    assert alice.attended_seconds == 7130  # 22:30:10 -> 00:29:00, not 6890 + 5340
    assert (alice.devices, alice.rejoins) == (2, 0)
    assert len(participants(runtime)) == 1


def test_waiting_room_time_is_not_attendance(post_event, runtime):
    def waiting(name, at):
        return zoom_event(name, date_time=at, **ALICE)

    play(
        post_event,
        [
            started(),
            waiting("participant_joined_waiting_room", "2026-10-13T22:28:20Z"),
            waiting("participant_admitted", "2026-10-13T22:30:05Z"),
            joined("2026-10-13T22:30:10Z"),
            waiting("participant_put_in_waiting_room", "2026-10-13T23:30:00Z"),
            waiting("participant_left_waiting_room", "2026-10-13T23:40:00Z"),
            waiting("participant_admitted", "2026-10-13T23:40:00Z"),
            joined("2026-10-13T23:40:02Z", user_id="16778600"),
            left("2026-10-14T00:25:00Z", user_id="16778600"),
            ended(),
        ],
    )
    assert intervals(runtime) == [
        ("2026-10-13T22:30:05+00:00", "2026-10-13T23:30:00+00:00"),
        ("2026-10-13T23:40:00+00:00", "2026-10-14T00:25:00+00:00"),
    ]
    assert seconds(runtime) == 3595 + 2700


def test_waiting_room_only_is_no_attendance(post_event, runtime):
    play(
        post_event,
        [
            started(),
            zoom_event("participant_joined_waiting_room", date_time="2026-10-13T22:28:20Z", **ALICE),
            zoom_event("participant_left_waiting_room", date_time="2026-10-13T23:40:00Z", **ALICE),
            ended(),
        ],
    )
    assert participants(runtime) == {} and records(runtime) == {}


def test_dial_in_participant_without_email_is_keyed_by_name(post_event, runtime):
    phone = dict(
        user_id="16785408",
        user_name="+1 555 0100",
        id="",
        email="",
        participant_uuid="Dq3TtLm9R5aXcVb2nW8yZw",
        phone_number="+15550100",
    )
    play(
        post_event,
        [
            started(),
            zoom_event("participant_joined_dial_in"),  # 22:35:00
            left("2026-10-14T00:00:00Z", **phone),
            ended(),
        ],
    )
    dial_in = participants(runtime)["name:+1 555 0100"]
    assert dial_in.email is None and dial_in.attended_seconds == 5100
    assert records(runtime)["name:+1 555 0100"].attended_seconds == 5100


def test_same_display_name_dialling_in_twice_is_one_person(post_event, runtime):
    first = dict(user_id="16785408", user_name="Dana  Doe", id="", email="", participant_uuid="DialInA")
    second = dict(user_id="16785999", user_name="dana doe", id="", email="", participant_uuid="DialInB")
    play(
        post_event,
        [
            started(),
            joined("2026-10-13T22:35:00Z", **first),
            left("2026-10-13T23:00:00Z", **first),
            joined("2026-10-13T22:50:00Z", **second),
            left("2026-10-13T23:30:00Z", **second),
            ended(),
        ],
    )
    assert list(participants(runtime)) == ["name:dana doe"]
    assert seconds(runtime, "name:dana doe") == 55 * 60


def test_the_host_is_marked(post_event, runtime):
    host = dict(
        user_id="16777216",
        user_name="Hana Host",
        id="x1yCzABCDEfg23HiJKl4mN",
        email="hana@example.org",
        participant_uuid="HostDevice1",
        participant_user_id="x1yCzABCDEfg23HiJKl4mN",
    )
    play(
        post_event,
        [
            started(),
            joined("2026-10-13T22:30:00Z", **host),
            joined("2026-10-13T22:31:00Z"),
            left("2026-10-14T00:30:00Z", **host),
            ended(),
        ],
    )
    people = participants(runtime)
    assert people["email:hana@example.org"].is_host is True
    assert people["email:alice@example.org"].is_host is False
    assert people["email:hana@example.org"].attended_seconds == 7200


def test_breakout_room_time_is_attendance(post_event, runtime):
    play(
        post_event,
        [
            started(),
            joined("2026-10-13T22:30:10Z"),
            left("2026-10-13T23:00:00Z", leave_reason="left the meeting. Reason : join breakout room"),
            zoom_event("participant_joined_breakout_room"),  # 23:00:01, in-meeting user_id 33554432
            zoom_event("participant_left_breakout_room"),  # 23:20:00, the host closed the rooms
            joined("2026-10-13T23:20:02Z", user_id="16778800"),
            left("2026-10-14T00:25:00Z", user_id="16778800"),
            ended(),
        ],
    )
    # the main room was left for a breakout room, not the meeting: present throughout, the return included
    assert intervals(runtime) == [("2026-10-13T22:30:10+00:00", "2026-10-14T00:25:00+00:00")]
    assert seconds(runtime) == 6890


def test_join_without_leave_closes_at_meeting_end(post_event, runtime):
    play(post_event, [started(), joined("2026-10-13T22:30:10Z"), ended()])
    assert seconds(runtime) == 7190


def test_leave_without_seen_join_uses_the_reported_join_time(post_event, runtime):
    play(post_event, [started(), left("2026-10-14T00:25:00Z", join_time="2026-10-13T23:00:00Z"), ended()])
    assert seconds(runtime) == 5100


def test_leave_without_any_join_time_adds_nothing(post_event, runtime):
    play(post_event, [started(), left("2026-10-14T00:25:00Z"), ended()])
    assert seconds(runtime) == 0


def test_attendance_is_clipped_to_the_live_meeting(post_event, runtime):
    play(post_event, [started(), joined("2026-10-13T22:00:00Z"), left("2026-10-14T01:00:00Z"), ended()])
    assert intervals(runtime) == [("2026-10-13T22:30:00+00:00", "2026-10-14T00:30:00+00:00")]


def test_late_event_updates_a_pending_record(post_event, runtime):
    play(post_event, [started(), joined("2026-10-13T22:30:10Z"), ended()])
    assert records(runtime)["email:alice@example.org"].attended_seconds == 7190
    play(post_event, [left("2026-10-13T23:30:10Z")])  # arrives after meeting.ended
    record = records(runtime)["email:alice@example.org"]
    assert record.status == "pending" and record.attended_seconds == 3600 and float(record.growth_hours) == 1.0
    assert seconds(runtime) == 3600
    with runtime.db.begin() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == record.id).order_by(AuditEntry.id)
        ).all()
    assert actions == ["created", "recomputed"]


def test_late_event_reopens_an_approved_line_with_the_before_and_after(post_event, runtime):
    play(post_event, [started(), joined("2026-10-13T22:30:10Z"), ended()])
    with runtime.db.begin() as session:
        session.execute(update(CreditLine).values(status="approved", decided_by="staff@example.org"))
    play(post_event, [left("2026-10-13T23:30:10Z")])
    record = records(runtime)["email:alice@example.org"]
    assert record.status == "pending" and record.flagged is True
    assert (record.attended_seconds, record.growth_hours, record.proposed_growth_hours) == (3600, 1, 1)
    assert record.flag_reason == (
        "approved line reopened: was approved, 1:59 attended, 1.75 h growth; now 1.00 h growth proposed"
    )
    with runtime.db.begin() as session:
        assert session.scalar(select(CreditSession.needs_review)) is True
        assert session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == record.id).order_by(AuditEntry.id)
        ).all() == ["created", "reopened"]


def test_a_late_event_that_leaves_the_credit_as_it_was_keeps_the_decision(post_event, runtime):
    play(post_event, [started(), joined("2026-10-13T22:30:10Z"), ended()])
    with runtime.db.begin() as session:
        session.execute(update(CreditLine).values(status="approved"))
    play(post_event, [left("2026-10-14T00:25:00Z")])  # 7190 s -> 6890 s: still 1.75 h
    record = records(runtime)["email:alice@example.org"]
    assert (record.status, record.flagged, record.attended_seconds, float(record.growth_hours)) == (
        "approved",
        False,
        6890,
        1.75,
    )
    with runtime.db.begin() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == record.id).order_by(AuditEntry.id.desc())
        ).first()
    assert (entry.action, entry.from_value, entry.to_value) == (
        "recomputed",
        "approved, 1:59 attended, 1.75 h growth",
        "approved, 1:54 attended, 1.75 h growth",
    )


def test_meeting_restarted_after_its_end(post_event, runtime):
    """Two started/ended pairs under one UUID: the gap between them is not attendance."""
    play(
        post_event,
        [
            started("2026-10-13T22:30:00Z"),
            joined("2026-10-13T22:40:00Z"),
            ended("2026-10-13T23:00:00Z", "2026-10-13T22:30:00Z"),
            started("2026-10-13T23:30:00Z"),
            left("2026-10-14T00:10:00Z"),
            ended("2026-10-14T00:30:00Z", "2026-10-13T23:30:00Z"),
        ],
    )
    assert seconds(runtime) == 20 * 60 + 40 * 60
    with runtime.db.begin() as session:
        meeting = session.scalars(select(Meeting).where(Meeting.uuid == UUID)).one()
        assert meeting.status == "ended"
        assert meeting.ended_at.isoformat().startswith("2026-10-14T00:30:00")
    assert records(runtime)["email:alice@example.org"].attended_seconds == 3600


def test_duplicate_deliveries_change_nothing(post_event, runtime):
    events = [started(), joined("2026-10-13T22:30:10Z"), left("2026-10-14T00:25:00Z"), ended()]
    play(post_event, events + events + [events[1]])
    assert seconds(runtime) == 6890
    with runtime.db.begin() as session:
        assert len(session.scalars(select(ZoomEvent)).all()) == 4
        assert len(session.scalars(select(CreditLine)).all()) == 1


def test_meeting_id_as_number_and_string_are_one_meeting(post_event, runtime):
    body = started()
    body["payload"]["object"]["id"] = 81234567890
    play(post_event, [body, joined("2026-10-13T22:30:10Z"), ended()])
    with runtime.db.begin() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert meeting.zoom_meeting_id == "81234567890"
        assert {e for e in session.scalars(select(ZoomEvent.meeting_id))} == {"81234567890"}


def test_stored_event_keeps_the_body_as_sent(post_event, runtime):
    body = joined("2026-10-13T22:30:10Z")
    play(post_event, [body])
    with runtime.db.begin() as session:
        stored = session.scalars(select(ZoomEvent)).one()
        assert stored.body == json.loads(json.dumps(body))
        assert stored.event_ts == body["event_ts"]


def test_names_beyond_ascii_survive_the_hot_path(post_event, runtime, client):
    """Participant events of a live meeting take the one-statement path; what they store is the same."""
    from tests.helpers.zoom_events import signed_headers

    play(
        post_event,
        [
            started(),
            joined(
                "2026-10-13T22:30:10Z",
                user_name="Zoë Ñúñez 李小龍",
                email="zoe@example.org",
                participant_uuid="ZoeDevice",
            ),
        ],
    )
    odd = json.dumps(
        joined("2026-10-13T22:31:00Z", user_name="", email="odd@example.org", participant_uuid="OddDevice")
    ).replace('"user_name": ""', '"user_name": "\\ud800x"')
    response = client.post("/zoom/webhook", data=odd.encode(), headers=signed_headers(odd.encode()))
    assert response.status_code == 200 and response.json == {"status": "stored"}
    play(post_event, [ended()])
    assert participants(runtime)["email:zoe@example.org"].name == "Zoë Ñúñez 李小龍"
    with runtime.db.begin() as session:
        statuses = set(session.scalars(select(ZoomEvent.status)))
    assert statuses == {"processed"}
