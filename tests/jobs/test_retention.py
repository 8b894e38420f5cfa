"""The retention job against a real database: settled, exported, old sessions lose their personal data;
credit lines, matches and the audit trail stay; running again (or rebuilding) changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from jobs.retention import strip_due
from tests.helpers.staff import _later
from tests.helpers.zoom_events import zoom_event
from zoombot.store import export, meetings, review
from zoombot.store.models import (
    AuditEntry,
    CreditLine,
    Meeting,
    Member,
    Participant,
    ParticipantAlias,
    ParticipantMerge,
    ZoomEvent,
)

PERSONAL = [
    "alice",
    "Alice",
    "Ames",
    "bob@",
    "Bob Brown",
    "+1 555 0100",
    "+15550100",
    "203.0.113.7",
    "x1yCzABCDEfg23HiJKl4mN",
    "reg-bob",
    "Springfield",
]
STAFF = "staff@example.org"


def _meeting_with_records(post_event, runtime, uuid="4444AAAiAAAAAiAiAiiAii==", *, days_later=0):
    """Alice (a member, by e-mail), Bob on a laptop and a phone, and a dial-in that staff merge into Bob.
    Returns the session's id (`days_later` moves the meeting to another day: another session)."""
    with runtime.db.begin() as session:
        if session.scalar(select(Member).where(Member.email == "alice@example.org")) is None:
            session.add(Member(name="Alice Ames", email="alice@example.org", registry_id="R-1"))
    bob = {
        "user_name": "Bob Brown",
        "email": "bob@example.org",
        "registrant_id": "reg-bob",
        "ip_address": "203.0.113.7",
        "location": "Springfield",
    }
    events = [
        zoom_event("meeting_started", meeting_uuid=uuid),
        zoom_event("participant_joined", meeting_uuid=uuid),
        zoom_event(
            "participant_joined",
            meeting_uuid=uuid,
            participant_uuid="bob-laptop",
            user_id="1001",
            join_time="2026-10-13T22:31:00Z",
            **bob,
        ),
        zoom_event(
            "participant_joined",
            meeting_uuid=uuid,
            participant_uuid="bob-phone",
            user_id="1002",
            join_time="2026-10-13T23:00:00Z",
            **bob,
        ),
        zoom_event("participant_joined_dial_in", meeting_uuid=uuid),
        zoom_event("participant_left", meeting_uuid=uuid),
        zoom_event(
            "participant_left",
            meeting_uuid=uuid,
            participant_uuid="bob-laptop",
            user_id="1001",
            leave_time="2026-10-13T23:45:00Z",
            leave_reason="Bob Brown left the meeting. Reason: left",
            **bob,
        ),
        zoom_event("meeting_ended", meeting_uuid=uuid),
    ]
    for body in events:
        assert post_event(_later(body, days_later) if days_later else body).status_code == 200
    now = runtime.now()
    with runtime.db.begin() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.uuid == uuid))
        keys = set(
            session.scalars(select(Participant.identity_key).where(Participant.session_id == meeting.session_id))
        )
        dial_in = next(k for k in keys if k.startswith("name:+1"))
        review.merge(
            session, meeting.session_id, dial_in, "registrant:reg-bob", actor=STAFF, now=now, settings=runtime.settings
        )
    return meeting.session_id


def _settle(runtime, session_id, *, export_them=True):
    now = runtime.now()
    with runtime.db.begin() as session:
        review.approve_session(session, session_id, actor=STAFF, now=now)
        if export_them:
            ids = session.scalars(select(CreditLine.id).where(CreditLine.session_id == session_id)).all()
            export.mark_exported(session, ids, actor=STAFF, now=now)


def _snapshot(runtime, session_id):
    with runtime.db.begin() as session:
        records = sorted(
            (
                r.participant_key,
                r.member_id,
                r.attended_seconds,
                str(r.growth_hours),
                str(r.training_hours),
                r.status,
                r.flagged,
            )
            for r in session.scalars(select(CreditLine).where(CreditLine.session_id == session_id))
        )
        people = sorted(
            (p.identity_key, p.name, p.email, p.member_id, p.attended_seconds, p.devices)
            for p in session.scalars(select(Participant).where(Participant.session_id == session_id))
        )
        audit = [
            (a.actor, a.action, a.from_value, a.to_value, a.reason)
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.session_id == session_id).order_by(AuditEntry.id)
            )
        ]
        bodies = session.execute(
            select(ZoomEvent.id, ZoomEvent.body, ZoomEvent.redacted_at).order_by(ZoomEvent.id)
        ).all()
    return records, people, audit, bodies


def test_settled_old_meeting_is_stripped_and_keeps_records_and_audit(post_event, runtime, clock):
    meeting_id = _meeting_with_records(post_event, runtime)
    _settle(runtime, meeting_id)
    records_before, people_before, audit_before, _ = _snapshot(runtime, meeting_id)
    assert any("alice@example.org" in str(p) for p in people_before)
    # one line each for Alice and Bob (the dial-in merged into him: its own line was never decided, so it went)
    assert [(r[2], r[3], r[5]) for r in records_before] == [(6890, "1.75", "approved"), (7140, "1.75", "approved")]

    clock.set(clock() + timedelta(days=366))
    summary = strip_due(runtime)
    assert (summary.sessions, summary.failed) == (1, [])
    assert summary.events == 8

    records, people, audit, bodies = _snapshot(runtime, meeting_id)
    # the hours and decisions are untouched; only the keys became pseudonyms
    assert sorted((r[1:] for r in records), key=str) == sorted((r[1:] for r in records_before), key=str)
    assert all(r[0].startswith("user:anon:") for r in records)
    assert sorted((p[3:] for p in people), key=str) == sorted((p[3:] for p in people_before), key=str)
    assert all(p[0].startswith("user:anon:") and p[1] == "" and p[2] is None for p in people)
    assert {r[0] for r in records} <= {p[0] for p in people}
    # the audit trail keeps every entry (who, what, when) plus one saying what retention did
    assert len(audit) == len(audit_before) + 1
    assert [(a[0], a[1]) for a in audit[:-1]] == [(a[0], a[1]) for a in audit_before]
    assert audit[-1][:2] == ("system", "redacted")
    assert all(a[0] == b[0] for a, b in zip(audit, audit_before, strict=False))  # staff stay accountable by name
    text = json.dumps(
        [[b for b in row[1:4] + (row[4] or "",)] for row in audit]
        + [list(p) for p in people]
        + [row.body for row in bodies],
        default=str,
    )
    for value in PERSONAL:
        assert value not in text, value
    assert all(row.redacted_at is not None for row in bodies)
    with runtime.db.begin() as session:
        merge = session.scalars(select(ParticipantMerge)).one()
        assert merge.source_key.startswith("anon:") and merge.target_key.startswith("anon:")
        assert merge.created_by == STAFF
        alice = session.scalar(select(Member).where(Member.email == "alice@example.org"))
        assert (
            session.scalar(select(ParticipantAlias.member_id).where(ParticipantAlias.identity_key.like("user:anon:%")))
            == alice.id
        )
        rows = export.export_rows(session, settings=runtime.settings)
    assert {row["status"] for row in rows} == {"approved"}
    assert any(row["registry_id"] == "R-1" for row in rows)  # the member's own data is the directory's


def test_running_again_and_rebuilding_change_nothing(post_event, runtime, clock):
    meeting_id = _meeting_with_records(post_event, runtime)
    _settle(runtime, meeting_id)
    clock.set(clock() + timedelta(days=366))
    strip_due(runtime)
    first = _snapshot(runtime, meeting_id)

    clock.set(clock() + timedelta(days=1))
    assert strip_due(runtime).sessions == 0
    assert _snapshot(runtime, meeting_id) == first

    with runtime.db.begin() as session:
        meetings.rebuild(session, runtime.settings, runtime.now())
    records, people, audit, bodies = _snapshot(runtime, meeting_id)
    assert records == first[0]  # same keys, hours, status; nothing flagged, nothing new
    assert people == first[1]


def test_meetings_not_settled_exported_or_old_enough_keep_their_data(post_event, runtime, clock, make_settings):
    # three sessions (one instance of the same Zoom meeting on each of three days): `pending` and `unexported`
    # are the older ones, so only their state keeps them
    pending = _meeting_with_records(post_event, runtime, uuid="pending==", days_later=-2)
    unexported = _meeting_with_records(post_event, runtime, uuid="unexported==", days_later=-1)
    _settle(runtime, unexported, export_them=False)
    recent = _meeting_with_records(post_event, runtime, uuid="recent==")
    _settle(runtime, recent)
    assert len({pending, unexported, recent}) == 3

    clock.set(clock() + timedelta(days=364))
    assert strip_due(runtime).sessions == 0
    clock.set(clock() + timedelta(days=2))
    assert strip_due(runtime).sessions == 1  # only `recent`, now old enough
    with runtime.db.begin() as session:
        stripped = dict(session.execute(select(Meeting.session_id, Meeting.uuid)).all())
        unstripped = set(session.scalars(select(ZoomEvent.meeting_uuid).where(ZoomEvent.redacted_at.is_(None))))
        names = set(session.scalars(select(Participant.name).where(Participant.session_id.in_([pending, unexported]))))
    assert unstripped == {stripped[pending], stripped[unexported]}
    assert "Alice Ames" in names


def test_disabled_retention_strips_nothing(post_event, runtime, clock, make_settings):
    meeting_id = _meeting_with_records(post_event, runtime)
    _settle(runtime, meeting_id)
    clock.set(clock() + timedelta(days=3000))
    runtime.settings = make_settings(retention={"enabled": False})
    assert strip_due(runtime).sessions == 0
    runtime.settings = make_settings(retention={"days": 4000})
    assert strip_due(runtime).sessions == 0
    with runtime.db.begin() as session:
        assert session.scalar(select(ZoomEvent.id).where(ZoomEvent.redacted_at.is_not(None))) is None


def test_old_events_of_no_meeting_instance_are_stripped(post_event, runtime, clock):
    body = {
        "event": "meeting.registration_created",
        "event_ts": 1760000000000,
        "payload": {
            "account_id": "acc",
            "operator": "op@example.org",
            "object": {
                "id": 81234567890,
                "uuid": "series==",
                "topic": "CoP",
                "registrant": {"first_name": "Dana", "email": "dana@example.org", "status": "approved"},
            },
        },
    }
    assert post_event(body).json == {"status": "ignored"}
    clock.set(clock() + timedelta(days=366))
    assert strip_due(runtime).orphan_events == 1
    with runtime.db.begin() as session:
        row = session.scalars(select(ZoomEvent)).one()
    assert row.redacted_at is not None
    assert "dana" not in json.dumps(row.body).lower() and "op@" not in json.dumps(row.body)
    assert row.body["payload"]["object"]["registrant"] == {"status": "approved"}
