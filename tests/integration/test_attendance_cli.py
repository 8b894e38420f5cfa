"""`zoombot attendance show UUID [--format json]` and `zoombot attendance rebuild`, run as a user would
(the real command group, settings from the environment) against events delivered through the endpoint."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from conftest import zoom_event
from zoombot.cli import main
from zoombot.models import HoursRecord, Meeting, Participant

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
    events = [zoom_event("meeting_started"),
              zoom_event("participant_joined"),                                            # Alice 22:30:10
              zoom_event("participant_left", leave_time="2026-10-13T23:00:00Z"),
              zoom_event("participant_joined", join_time="2026-10-13T23:10:00Z", user_id="16778500"),
              zoom_event("participant_left", user_id="16778500"),                          # 00:25:00
              zoom_event("participant_joined", join_time="2026-10-13T22:45:00Z", **BOB),    # no leave
              zoom_event("participant_joined_dial_in"),                                    # 22:35:00
              zoom_event("participant_left", leave_time="2026-10-14T00:00:00Z", **DIAL_IN),
              zoom_event("meeting_ended")]
    for body in events:
        assert post_event(body).status_code == 200
    return events


def test_show_json(cli, meeting):
    result = cli("attendance", "show", UUID, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["meeting_uuid"] == UUID and data["meeting_id"] == "81234567890" and data["status"] == "ended"
    assert data["live"] == [["2026-10-13T22:30:00+00:00", "2026-10-14T00:30:00+00:00"]]
    people = {p["key"]: p for p in data["participants"]}
    assert set(people) == {"email:alice@example.org", "email:bob@example.org", "name:+1 555 0100"}
    alice = people["email:alice@example.org"]
    assert alice["attended_seconds"] == 1790 + 4500
    assert alice["intervals"] == [
        {"start": "2026-10-13T22:30:10+00:00", "end": "2026-10-13T23:00:00+00:00", "source": "webhook"},
        {"start": "2026-10-13T23:10:00+00:00", "end": "2026-10-14T00:25:00+00:00", "source": "webhook"}]
    assert people["email:bob@example.org"]["attended_seconds"] == 6300
    assert people["name:+1 555 0100"]["attended_seconds"] == 5100
    assert people["name:+1 555 0100"]["email"] is None


def test_show_text(cli, meeting):
    result = cli("attendance", "show", UUID)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "81234567890" in lines[0] and "ended" in lines[0] and "7200 s" in lines[0]
    alice = next(line for line in lines if line.startswith("Alice Ames"))
    assert "6290 s" in alice and "22:30:10-23:00:00" in alice and "23:10:00-00:25:00" in alice
    assert any(line.startswith("Bob Bell") and "6300 s" in line for line in lines)


def test_show_unknown_meeting_is_one_line_and_non_zero(cli, meeting):
    result = cli("attendance", "show", "NoSuchUuid==")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "Error: no meeting instance with uuid NoSuchUuid=="


def snapshot(runtime):
    with runtime.db.begin() as session:
        people = sorted((m.uuid, p.identity_key, p.name, p.email, p.registrant_id, p.zoom_user_id, p.is_host,
                         p.devices, p.attended_seconds, p.intervals, p.first_join, p.last_leave, p.member_id,
                         p.match_method)
                        for p, m in session.execute(select(Participant, Meeting).join(Meeting)))
        records = sorted((m.uuid, r.participant_key, r.kind, r.attended_seconds, r.proposed_hours, r.hours,
                          r.status, r.flagged, r.member_id)
                         for r, m in session.execute(select(HoursRecord, Meeting).join(Meeting)))
        meetings = sorted((m.uuid, m.zoom_meeting_id, m.status, m.started_at, m.ended_at, m.scheduled_minutes)
                          for m in session.scalars(select(Meeting)))
    return people, records, meetings


def test_rebuild_after_deleting_participants_and_records_reproduces_them(cli, meeting, runtime):
    before = snapshot(runtime)
    assert len(before[0]) == 3 and len(before[1]) == 3
    with runtime.db.begin() as session:
        session.execute(delete(HoursRecord))
        session.execute(delete(Participant))
    assert snapshot(runtime)[:2] == ([], [])
    result = cli("attendance", "rebuild")
    assert result.exit_code == 0, result.output
    assert "rebuilt 1 meeting" in result.stdout
    assert snapshot(runtime) == before


def test_rebuild_after_losing_the_meetings_too(cli, meeting, runtime):
    before = snapshot(runtime)
    with runtime.db.begin() as session:
        session.execute(delete(Meeting))  # participants and records go with them
    assert snapshot(runtime) == ([], [], [])
    assert cli("attendance", "rebuild").exit_code == 0
    assert snapshot(runtime) == before


def test_rebuild_is_idempotent(cli, meeting, runtime):
    before = snapshot(runtime)
    assert cli("attendance", "rebuild").exit_code == 0
    assert cli("attendance", "rebuild").exit_code == 0
    assert snapshot(runtime) == before


def test_rebuild_in_chunks_gives_what_the_events_gave_one_meeting_at_a_time(cli, post_event, runtime, monkeypatch):
    """Five meeting instances, a member matched by e-mail in each, rebuilt two meetings at a time (the
    statewide rebuild shares its statements across a chunk): the same meetings, participants and records
    as the deliveries built meeting by meeting at `meeting.ended`."""
    from zoombot import directory, meetings

    with runtime.db.begin() as session:
        directory.ensure_member(session, "bob@example.org", name="Bob Bell")
    for n in range(5):
        uuid = f"chunk{n}AAiAAAAAiAiAiiAii=="
        for body in [zoom_event("meeting_started", meeting_uuid=uuid),
                     zoom_event("participant_joined", meeting_uuid=uuid),
                     zoom_event("participant_joined", join_time=f"2026-10-13T22:4{n}:00Z", meeting_uuid=uuid, **BOB),
                     zoom_event("participant_left", leave_time=f"2026-10-13T23:5{n}:00Z", meeting_uuid=uuid, **BOB),
                     zoom_event("meeting_ended", meeting_uuid=uuid)]:
            assert post_event(body).status_code == 200
    before = snapshot(runtime)
    assert len(before[2]) == 5 and len(before[1]) == 10
    assert {r[-1] for r in before[1] if r[1] == "email:bob@example.org"} != {None}  # matched to the member
    with runtime.db.begin() as session:
        session.execute(delete(Meeting))
    monkeypatch.setattr(meetings, "REBUILD_CHUNK", 2)
    result = cli("attendance", "rebuild")
    assert result.exit_code == 0, result.output
    assert "rebuilt 5 meeting instances" in result.stdout
    assert snapshot(runtime) == before
