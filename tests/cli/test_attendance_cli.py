"""`zoombot attendance show UUID [--format json]` and `zoombot attendance rebuild`, run as a user would
(the real command group, settings from the environment) against events delivered through the endpoint."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from tests.helpers.staff import _later
from tests.helpers.zoom_events import zoom_event
from zoombot.cli.main import main
from zoombot.store.models import CreditLine, CreditSession, Meeting, Participant

UUID = "4444AAAiAAAAAiAiAiiAii=="
BOB = dict(user_id="16779999", user_name="Bob Bell", email="bob@example.org", participant_uuid="BobDevice1")
DIAL_IN = dict(user_id="16785408", user_name="+1 555 0100", email="", participant_uuid="Dq3TtLm9R5aXcVb2nW8yZw")


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray ./config.toml

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env={"ZOOMBOT_DATABASE_URL": database_url, "ZOOMBOT_CONFIG": ""})

    return run


@pytest.fixture
def meeting(post_event):
    """A meeting with a rejoin, a second person, a dial-in and a join that never left."""
    events = [
        zoom_event("meeting_started"),
        zoom_event("participant_joined"),  # Alice 22:30:10
        zoom_event("participant_left", leave_time="2026-10-13T23:00:00Z"),
        zoom_event("participant_joined", join_time="2026-10-13T23:10:00Z", user_id="16778500"),
        zoom_event("participant_left", user_id="16778500"),  # 00:25:00
        zoom_event("participant_joined", join_time="2026-10-13T22:45:00Z", **BOB),  # no leave
        zoom_event("participant_joined_dial_in"),  # 22:35:00
        zoom_event("participant_left", leave_time="2026-10-14T00:00:00Z", **DIAL_IN),
        zoom_event("meeting_ended"),
    ]
    for body in events:
        assert post_event(body).status_code == 200
    return events


def session_of(runtime, uuid: str = UUID) -> CreditSession:
    with runtime.db.begin() as session:
        return session.scalar(select(CreditSession).join(Meeting).where(Meeting.uuid == uuid))


def test_show_json(cli, meeting, runtime):
    result = cli("attendance", "show", UUID, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["meeting_uuid"] == UUID and data["meeting_id"] == "81234567890" and data["status"] == "ended"
    assert data["session_id"] == session_of(runtime).id
    assert data["live"] == [["2026-10-13T22:30:00+00:00", "2026-10-14T00:30:00+00:00"]]
    people = {p["key"]: p for p in data["participants"]}
    assert set(people) == {"email:alice@example.org", "email:bob@example.org", "name:+1 555 0100"}
    alice = people["email:alice@example.org"]
    assert alice["attended_seconds"] == 1790 + 4500
    assert alice["intervals"] == [
        {"start": "2026-10-13T22:30:10+00:00", "end": "2026-10-13T23:00:00+00:00", "source": "webhook"},
        {"start": "2026-10-13T23:10:00+00:00", "end": "2026-10-14T00:25:00+00:00", "source": "webhook"},
    ]
    assert people["email:bob@example.org"]["attended_seconds"] == 6300
    assert people["name:+1 555 0100"]["attended_seconds"] == 5100
    assert people["name:+1 555 0100"]["email"] is None


def test_show_text(cli, meeting, runtime):
    result = cli("attendance", "show", UUID)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "81234567890" in lines[0] and "ended" in lines[0] and "7200 s" in lines[0]
    # the session is dated in [schedule] timezone (New York): 18:30 on 13 October there
    assert lines[0].endswith(f", session {session_of(runtime).id} (2026-10-13)")
    alice = next(line for line in lines if line.startswith("Alice Ames"))
    assert "6290 s" in alice and "22:30:10-23:00:00" in alice and "23:10:00-00:25:00" in alice
    assert any(line.startswith("Bob Bell") and "6300 s" in line for line in lines)


def test_show_unknown_meeting_is_one_line_and_non_zero(cli, meeting):
    result = cli("attendance", "show", "NoSuchUuid==")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "Error: no meeting instance with uuid NoSuchUuid=="


def snapshot(runtime):
    """Everything derived from the events, named by what does not depend on row ids (a session by its key)."""
    with runtime.db.begin() as session:
        people = sorted(
            (
                c.key,
                p.identity_key,
                p.name,
                p.email,
                p.registrant_id,
                p.zoom_user_id,
                p.is_host,
                p.devices,
                p.rejoins,
                p.attended_seconds,
                p.intervals,
                p.first_join,
                p.last_leave,
                p.member_id,
                p.match_method,
            )
            for p, c in session.execute(select(Participant, CreditSession).join(CreditSession))
        )
        records = sorted(
            (
                c.key,
                r.participant_key,
                r.attended_seconds,
                r.training_attended_seconds,
                r.proposed_growth_hours,
                r.proposed_training_hours,
                r.growth_hours,
                r.training_hours,
                r.no_credit_reason,
                r.status,
                r.flagged,
                r.member_id,
            )
            for r, c in session.execute(select(CreditLine, CreditSession).join(CreditSession))
        )
        meetings = sorted(
            (
                m.uuid,
                m.zoom_meeting_id,
                m.status,
                m.started_at,
                m.ended_at,
                m.scheduled_minutes,
                c.key,
                c.local_date,
                c.status,
                c.started_at,
                c.ended_at,
                c.scheduled_minutes,
                c.needs_review,
            )
            for m, c in session.execute(select(Meeting, CreditSession).join(CreditSession))
        )
    return people, records, meetings


def test_rebuild_after_deleting_participants_and_records_reproduces_them(cli, meeting, runtime):
    before = snapshot(runtime)
    assert len(before[0]) == 3 and len(before[1]) == 3
    with runtime.db.begin() as session:
        session.execute(delete(CreditLine))
        session.execute(delete(Participant))
    assert snapshot(runtime)[:2] == ([], [])
    result = cli("attendance", "rebuild")
    assert result.exit_code == 0, result.output
    assert "rebuilt 1 meeting" in result.stdout
    assert snapshot(runtime) == before


def test_rebuild_after_losing_the_meetings_too(cli, meeting, runtime):
    before = snapshot(runtime)
    with runtime.db.begin() as session:
        session.execute(delete(Meeting))
        session.execute(delete(CreditSession))  # participants and lines go with their session
        assert session.scalar(select(CreditLine.id)) is None and session.scalar(select(Participant.id)) is None
    assert snapshot(runtime) == ([], [], [])
    assert cli("attendance", "rebuild").exit_code == 0
    assert snapshot(runtime) == before


def test_rebuild_is_idempotent(cli, meeting, runtime):
    before = snapshot(runtime)
    assert cli("attendance", "rebuild").exit_code == 0
    assert cli("attendance", "rebuild").exit_code == 0
    assert snapshot(runtime) == before


def test_rebuild_in_chunks_gives_what_the_events_gave_one_meeting_at_a_time(cli, post_event, runtime, monkeypatch):
    """Five sessions on five days, a member matched by e-mail in each, and on the second day a host restart
    (a second instance of that evening's session), rebuilt two instances at a time (the statewide rebuild
    shares its statements across a chunk, and the restarted session straddles two chunks): the same
    meetings, sessions, participants and lines as the deliveries built instance by instance."""
    from zoombot.store import directory, meetings

    with runtime.db.begin() as session:
        directory.ensure_member(session, "bob@example.org", name="Bob Bell")
    for n in range(5):
        uuid = f"chunk{n}AAiAAAAAiAiAiiAii=="
        events = [
            zoom_event("meeting_started", meeting_uuid=uuid),
            zoom_event("participant_joined", meeting_uuid=uuid),
            zoom_event("participant_joined", join_time=f"2026-10-13T22:4{n}:00Z", meeting_uuid=uuid, **BOB),
            zoom_event("participant_left", leave_time=f"2026-10-13T23:5{n}:00Z", meeting_uuid=uuid, **BOB),
            zoom_event("meeting_ended", meeting_uuid=uuid),
        ]
        if n == 1:  # the host ended by mistake at 00:30 and started again at 00:40 (20:40 in New York)
            again = {"meeting_uuid": "chunk1RESTARTiAAAAAiAiA==", "meeting_start_time": "2026-10-14T00:40:00Z"}
            events += [
                zoom_event("meeting_started", **again),
                zoom_event("participant_joined", join_time="2026-10-14T00:41:00Z", **again, **BOB),
                zoom_event("participant_left", leave_time="2026-10-14T01:00:00Z", **again, **BOB),
                zoom_event("meeting_ended", meeting_end_time="2026-10-14T01:10:00Z", **again),
            ]
        for body in events:
            assert post_event(_later(body, n) if n else body).status_code == 200
    before = snapshot(runtime)
    assert len(before[2]) == 6 and len({m[6] for m in before[2]}) == 5 and len(before[1]) == 10
    assert {r[-1] for r in before[1] if r[1] == "email:bob@example.org"} != {None}  # matched to the member
    # Bob on the second day: 22:41 -> 23:51 and 00:41 -> 01:00, one line: 5340 s -> 1.25 h
    assert [(r[2], r[6]) for r in before[1] if r[0].endswith(":2026-10-14") and r[1] == "email:bob@example.org"] == [
        (5340, Decimal("1.25"))
    ]
    with runtime.db.begin() as session:
        session.execute(delete(Meeting))
        session.execute(delete(CreditSession))
    monkeypatch.setattr(meetings, "REBUILD_CHUNK", 2)
    result = cli("attendance", "rebuild")
    assert result.exit_code == 0, result.output
    assert "rebuilt 6 meeting instances" in result.stdout
    assert snapshot(runtime) == before
