"""The whole message sequence of one meeting, against a real SMTP server, with the clock driven by hand:
each kind arrives once, to the right people, when it is due, and never again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers.mail import (
    EVERYONE,  # noqa: F401
    FACILITATOR,
    JOIN_URL,
    add_community,
    at,
    by_kind,
    outbox_rows,
    runtime,  # noqa: F401 (fixture: the runtime wired to the test SMTP server)
    smtp,  # noqa: F401 (fixture)
)
from tests.helpers.zoom_events import zoom_event
from zoombot.core import agenda
from zoombot.store.models import Agenda, JobStatus, Occurrence

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # 18:30 in New York (EST)
UUID = "nov10meetinguuid=="


def meeting_events():
    common = {"meeting_uuid": UUID, "meeting_id": "81234567890", "meeting_start_time": "2026-11-10T23:30:00Z"}
    alice = dict(user_name="Alice Ames", email="alice@example.org", participant_uuid="dev-alice-1", user_id="101")
    fran = dict(user_name="Fran Facil", email="fran@example.org", participant_uuid="dev-fran-1", user_id="102")
    return [
        zoom_event("meeting_started", **common),
        zoom_event("participant_joined", join_time="2026-11-10T23:29:00Z", **fran, **common),
        zoom_event("participant_joined", join_time="2026-11-10T23:30:10Z", **alice, **common),
        zoom_event("participant_left", leave_time="2026-11-11T01:25:00Z", **alice, **common),
        zoom_event("participant_left", leave_time="2026-11-11T01:30:00Z", **fran, **common),
        zoom_event("meeting_ended", meeting_end_time="2026-11-11T01:30:00Z", **common),
    ]


def test_each_kind_arrives_once_to_the_right_people_when_due(runtime, clock, smtp, post_event):
    add_community(runtime)
    assert at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC)) == []
    with runtime.db.begin() as s:
        starts = [o.start for o in s.scalars(select(Occurrence).order_by(Occurrence.start))]
    assert starts == [START]  # horizon 30 days: only the November meeting so far

    invite_due = START - timedelta(days=14)
    assert at(clock, smtp, runtime, invite_due - timedelta(minutes=1)) == []
    got = at(clock, smtp, runtime, invite_due)
    assert by_kind(got) == {"invite": EVERYONE}
    assert at(clock, smtp, runtime, invite_due + timedelta(hours=1)) == []

    prep_due = START - timedelta(days=7)
    assert at(clock, smtp, runtime, prep_due - timedelta(minutes=1)) == []
    got = at(clock, smtp, runtime, prep_due)
    assert by_kind(got) == {"facilitator_prep": [FACILITATOR[1]]}
    assert "https://cop.example.org/staff/agendas/" in got[0].text

    with runtime.db.begin() as s:  # the facilitator records next steps (the editor has its own tests)
        row = s.scalar(select(Agenda))
        content = agenda.from_dict(row.content)
        row.content = agenda.to_dict(
            agenda.Agenda(
                objectives=("Share routines",),
                topics=content.topics,
                expectations=content.expectations,
                confidentiality=content.confidentiality,
                resources=content.resources,
                parking_lot=(),
                next_steps=("Try one new transition song",),
            )
        )

    agenda_due = START - timedelta(days=2)
    assert at(clock, smtp, runtime, agenda_due - timedelta(minutes=1)) == []
    got = at(clock, smtp, runtime, agenda_due)
    assert by_kind(got) == {"agenda": EVERYONE}
    assert "Share routines" in got[0].text and "What is shared here stays here." in got[0].text

    reminder_due = START - timedelta(minutes=60)
    assert at(clock, smtp, runtime, reminder_due - timedelta(minutes=1)) == []
    got = at(clock, smtp, runtime, reminder_due)
    assert by_kind(got) == {"reminder": EVERYONE}
    assert JOIN_URL in got[0].text and "6:30 PM EST" in got[0].text

    end = START + timedelta(minutes=120)
    assert at(clock, smtp, runtime, end - timedelta(minutes=1)) == []
    got = at(clock, smtp, runtime, end)  # the facilitator is asked to record the closure
    assert by_kind(got) == {"facilitator_closure": [FACILITATOR[1]]}

    followup_due = end + timedelta(hours=2)
    # The session has no credit lines yet: the follow-up waits instead of going out empty.
    assert at(clock, smtp, runtime, followup_due) == []
    assert {r.last_error for r in outbox_rows(runtime, kind="followup") if r.due_at <= clock()} == {
        "waiting for the session's credit lines"
    }
    for body in meeting_events():
        assert post_event(body).status_code == 200
    # Records are there; nobody recorded the closure: the follow-up waits for it up to 24 hours...
    assert at(clock, smtp, runtime, followup_due + timedelta(minutes=30)) == []
    assert {r.last_error for r in outbox_rows(runtime, kind="followup") if r.due_at <= clock()} == {
        "waiting for the meeting's closure"
    }
    assert at(clock, smtp, runtime, followup_due + timedelta(hours=23, minutes=59)) == []
    # ...then goes with what there is: the next steps the agenda planned.
    got = at(clock, smtp, runtime, followup_due + timedelta(hours=24))
    assert by_kind(got) == {"followup": EVERYONE}
    texts = {r.to[0]: r.text for r in got}
    assert "Your attendance: 1 h 54 min" in texts["alice@example.org"]
    assert "Growth hours: 1.75 (pending review)" in texts["alice@example.org"]
    assert "We missed you" in texts["bob@example.org"]
    assert "Try one new transition song" in texts["bob@example.org"]

    # Nothing is ever sent twice, however often the jobs run.
    for days in (2, 3, 6):
        assert at(clock, smtp, runtime, followup_due + timedelta(days=days)) == []
    sent = outbox_rows(runtime, status="sent")
    assert sorted((r.kind, r.recipient) for r in sent) == sorted(
        [("invite", a) for a in EVERYONE]
        + [("facilitator_prep", FACILITATOR[1])]
        + [("agenda", a) for a in EVERYONE]
        + [("reminder", a) for a in EVERYONE]
        + [("facilitator_closure", FACILITATOR[1])]
        + [("followup", a) for a in EVERYONE]
    )
    assert all(r.message_id and r.message_id.startswith("<") for r in sent)
    with runtime.db.begin() as s:
        status = {j.name: j for j in s.scalars(select(JobStatus))}
    assert status["send"].runs >= 10 and status["send"].failures == 0 and status["send"].last_ok is True


def test_runner_down_for_two_days_sends_only_what_is_still_useful(runtime, clock, smtp, post_event):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    got = at(clock, smtp, runtime, START - timedelta(days=8))  # invites went out on time
    assert by_kind(got) == {"invite": EVERYONE}
    # Down from two days before the meeting until the day after: the prep went out before that...
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=2, hours=1))) == {
        "facilitator_prep": [FACILITATOR[1]]
    }
    for body in meeting_events():
        assert post_event(body).status_code == 200
    # ...but the agenda and the reminder are stale once the meeting has begun; the closure request is not...
    got = at(clock, smtp, runtime, START + timedelta(days=1))
    assert by_kind(got) == {"facilitator_closure": [FACILITATOR[1]]}
    skipped = {(r.kind, r.last_error) for r in outbox_rows(runtime, status="skipped")}
    assert skipped == {("agenda", "expired before it could be sent"), ("reminder", "expired before it could be sent")}
    # ...and the follow-up, due 2 hours after the end, goes once its 24 hours of waiting for a closure are over.
    assert at(clock, smtp, runtime, START + timedelta(hours=27, minutes=59)) == []
    assert by_kind(at(clock, smtp, runtime, START + timedelta(hours=28))) == {"followup": EVERYONE}
    assert at(clock, smtp, runtime, START + timedelta(days=2)) == []


def test_no_stale_invites_when_the_runner_was_down_across_the_meeting(runtime, clock, smtp):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))  # planned, nothing due yet
    got = at(clock, smtp, runtime, START + timedelta(hours=1))  # back up while the meeting runs
    assert got == []
    with runtime.db.begin() as s:
        november = s.scalar(select(Occurrence.id).where(Occurrence.start == START))
    rows = outbox_rows(runtime, occurrence_id=november)
    assert {(r.kind, r.status) for r in rows} == {
        (kind, "skipped") for kind in ("invite", "facilitator_prep", "agenda", "reminder")
    } | {("facilitator_closure", "pending"), ("followup", "pending")}
    assert "sent" not in {r.status for r in outbox_rows(runtime)}
