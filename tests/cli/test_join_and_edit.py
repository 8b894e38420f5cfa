"""Join links and `zoombot community edit`, against a real SMTP server with every calendar file parsed:
the standard link and the passcode reach every invite, update, agenda, reminder and calendar file; an edited
link or schedule reaches people who hold the invitation as an update (same UID, higher SEQUENCE), and a
meeting the new schedule drops as a cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.helpers.mail import EVERYONE, at, by_kind, runtime, smtp  # noqa: F401
from tests.helpers.staff import add_staff, login, token_from
from zoombot.core.calendar import event_uid
from zoombot.runtime import Runtime
from zoombot.store.models import Community, Occurrence

UTC = UTC
NY = ZoneInfo("America/New_York")
NOV10 = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # 18:30 EST
STANDARD = "https://zoom.us/j/81234567890"


@pytest.fixture
def cli(zoombot_cli, clock, monkeypatch, tmp_path):
    monkeypatch.setattr(Runtime, "now", lambda self: clock())  # the commands' clock is the test's
    invoke = zoombot_cli("[schedule]\nhorizon_days = 30\n")
    members = tmp_path / "members.csv"
    members.write_text(
        "name,email,registry_id,community,role\n"
        "Alice Ames,alice@example.org,,Infant-Toddler CoP,member\n"
        "Bob Brown,bob@example.org,,Infant-Toddler CoP,member\n"
        "Fran Facil,fran@example.org,,Infant-Toddler CoP,facilitator\n"
    )

    def run(*args: str, code: int = 0) -> str:
        result = invoke(*args)
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.stderr

    out = run(
        "community",
        "add",
        "Infant-Toddler CoP",
        "--zoom-meeting-id",
        "812 3456 7890",
        "--facilitator",
        "fran@example.org",
        "--start",
        "2026-11-10T18:30",
        "--duration",
        "120",
        "--rrule",
        "FREQ=MONTHLY;BYDAY=2TU",
        "--timezone",
        "America/New_York",
        "--passcode",
        "7x2B*q",
    )
    assert f"join link: {STANDARD} (passcode 7x2B*q)" in out
    run("members", "import", str(members))
    return run


def invited(cli, clock, smtp, runtime) -> dict:
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    got = at(clock, smtp, runtime, NOV10 - timedelta(days=14))
    assert by_kind(got) == {"invite": EVERYONE}
    return {r.to[0]: r for r in got}


def community_id(runtime) -> int:
    with runtime.db.begin() as s:
        return s.scalar(select(Community.id))


def test_every_message_and_calendar_file_carries_the_standard_link_and_the_passcode(cli, runtime, clock, smtp):
    invite = invited(cli, clock, smtp, runtime)["alice@example.org"]
    event = invite.event
    assert str(event["LOCATION"]) == STANDARD and str(event["URL"]) == STANDARD
    description = str(event["DESCRIPTION"])
    assert f"Join on Zoom: {STANDARD}" in description
    assert "Meeting ID: 812 3456 7890" in description and "Passcode: 7x2B*q" in description
    assert f"Join on Zoom: {STANDARD}" in invite.text and "Meeting ID: 812 3456 7890, passcode: 7x2B*q" in invite.text
    assert f'<a href="{STANDARD}">{STANDARD}</a>' in invite.html and "<strong>Passcode:</strong> 7x2B*q" in invite.html
    assert "(120 minutes)" in invite.text

    [prep] = at(clock, smtp, runtime, NOV10 - timedelta(days=7))
    assert prep.kind == "facilitator_prep" and STANDARD in prep.text and "7x2B*q" in prep.text
    assert "The agenda goes to every member 2 days before the meeting." in prep.text
    for when, kind in ((NOV10 - timedelta(days=2), "agenda"), (NOV10 - timedelta(minutes=60), "reminder")):
        got = at(clock, smtp, runtime, when)
        assert by_kind(got) == {kind: EVERYONE}
        for message in got:
            assert f"Join on Zoom: {STANDARD}" in message.text and "passcode: 7x2B*q" in message.text
            assert f'href="{STANDARD}"' in message.html and "7x2B*q" in message.html


def test_a_new_link_from_the_staff_page_reaches_every_calendar_as_an_update(cli, runtime, clock, smtp, client):
    first = invited(cli, clock, smtp, runtime)["bob@example.org"]
    add_staff(runtime, "staff@example.org")
    assert login(client, "staff@example.org").status_code == 302
    page = client.get(f"/staff/communities/{community_id(runtime)}").get_data(as_text=True)
    assert STANDARD in page and "7x2B*q" in page and "(the standard link for the meeting id)" in page
    token = token_from(page)
    url = f"/staff/communities/{community_id(runtime)}/join"
    wrong = client.post(url, data={"csrf_token": token, "join_url": "https://zoom.us/j/999999999", "passcode": ""})
    assert "The join link is for Zoom meeting 999999999" in client.get(wrong.headers["Location"]).get_data(as_text=True)
    assert at(clock, smtp, runtime, clock() + timedelta(minutes=1)) == []  # refused: nothing changed, nobody told

    copied = "https://us02web.zoom.us/j/81234567890?pwd=ZmFrZUVuY3J5cHRlZA.1"  # as copied from Zoom
    saved = client.post(url, data={"csrf_token": token, "join_url": copied, "passcode": "  "})
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Join details saved. 1 upcoming meeting will be updated in members&#39; calendars." in shown
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=1))
    assert by_kind(got) == {"update": EVERYONE}
    update = next(r for r in got if r.to == ["bob@example.org"])
    assert str(update.event["UID"]) == str(first.event["UID"]) and update.event["SEQUENCE"] == 1
    assert str(update.event["LOCATION"]) == copied and str(update.event["URL"]) == copied
    assert "Passcode" not in str(update.event["DESCRIPTION"]) and "passcode" not in update.text
    assert update.message["Subject"].strip() == "Updated: Infant-Toddler CoP, Tuesday, November 10, 2026 at 6:30 PM EST"
    assert "has changed: here are its current details" in update.text
    later = at(clock, smtp, runtime, NOV10 - timedelta(minutes=60))  # prep, agenda and reminder all carry it
    assert by_kind(later) == {"facilitator_prep": ["fran@example.org"], "agenda": EVERYONE, "reminder": EVERYONE}
    assert all(f"Join on Zoom: {copied}" in r.text and "passcode" not in r.text.lower() for r in later)


def test_a_new_time_moves_the_meeting_and_a_new_weekday_cancels_it(cli, runtime, clock, smtp):
    first = invited(cli, clock, smtp, runtime)["alice@example.org"]
    out = cli("community", "edit", "infant-toddler cop", "--start", "2026-11-10T19:00", "--duration", "90")
    assert "updated community 'Infant-Toddler CoP': start, duration" in out
    assert "upcoming meetings: 1 moved, 0 cancelled, 0 newly planned" in out
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=1))
    assert by_kind(got) == {"update": EVERYONE}
    update = next(r for r in got if r.to == ["alice@example.org"])
    event = update.event
    assert (
        str(event["UID"]) == str(first.event["UID"]) == event_uid(community_id(runtime), NOV10, "zoombot.example.org")
    )
    assert event["SEQUENCE"] == 1
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (
        datetime(2026, 11, 10, 19, 0, tzinfo=NY),
        datetime(2026, 11, 10, 20, 30, tzinfo=NY),
    )
    assert update.message["Subject"].strip() == "Moved: Infant-Toddler CoP to Tuesday, November 10, 2026 at 7:00 PM EST"
    assert "planned for Tuesday, November 10, 2026 at 6:30 PM EST has moved" in update.text
    assert "(90 minutes)" in update.text
    # The reminder follows: an hour before 19:00 (NOV10 - 30 min), not before 18:30.
    before = at(clock, smtp, runtime, NOV10 - timedelta(minutes=31))
    assert by_kind(before) == {"facilitator_prep": ["fran@example.org"], "agenda": EVERYONE}
    assert "Tuesday, November 10, 2026 at 7:00 PM EST" in before[0].text
    assert by_kind(at(clock, smtp, runtime, NOV10 - timedelta(minutes=30))) == {"reminder": EVERYONE}


def test_a_new_weekday_cancels_the_meeting_and_invites_to_the_new_one(cli, runtime, clock, smtp):
    first = invited(cli, clock, smtp, runtime)["alice@example.org"]
    cli("community", "edit", "infant-toddler cop", "--start", "2026-11-10T19:00")  # moved first: SEQUENCE 1
    assert by_kind(at(clock, smtp, runtime, clock() + timedelta(minutes=1))) == {"update": EVERYONE}
    cli("community", "edit", "Infant-Toddler CoP", "--start", "2026-11-17T19:00", "--rrule", "FREQ=MONTHLY;BYDAY=3TU")
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=1))
    assert by_kind(got) == {"cancellation": EVERYONE}
    cancel = got[0].event
    assert str(cancel["UID"]) == str(first.event["UID"]) and cancel["SEQUENCE"] == 2
    assert str(cancel["STATUS"]) == "CANCELLED" and str(got[0].ics["METHOD"]) == "CANCEL"
    with runtime.db.begin() as s:
        rows = {o.original_start: (o.status, o.start) for o in s.scalars(select(Occurrence))}
    assert rows[NOV10][0] == "cancelled"
    nov17 = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)  # 19:00 EST
    assert rows[nov17] == ("scheduled", nov17)
    got = at(clock, smtp, runtime, nov17 - timedelta(days=14))
    assert by_kind(got) == {"invite": EVERYONE} and got[0].event["SEQUENCE"] == 0


def test_edit_refuses_what_would_mislead_members_and_changes_nothing(cli, runtime):
    assert "Error: no community named 'Preschool CoP'" in cli(
        "community", "edit", "Preschool CoP", "--region", "N", code=1
    )
    assert "nothing to change" in cli("community", "edit", "Infant-Toddler CoP", code=1)
    assert "--passcode must be at most 10" in cli(
        "community", "edit", "Infant-Toddler CoP", "--passcode", "has a space", code=1
    )
    assert "needs the new meeting's --passcode too" in cli(
        "community", "edit", "Infant-Toddler CoP", "--zoom-meeting-id", "81234567891", code=1
    )
    assert "Error: --rrule:" in cli("community", "edit", "Infant-Toddler CoP", "--rrule", "FREQ=HOURLY", code=1)
    with runtime.db.begin() as s:
        c = s.scalar(select(Community))
        assert (c.zoom_meeting_id, c.passcode, c.rrule) == ("81234567890", "7x2B*q", "FREQ=MONTHLY;BYDAY=2TU")
    out = cli(
        "community",
        "edit",
        "Infant-Toddler CoP",
        "--zoom-meeting-id",
        "81234567891",
        "--passcode",
        "",
        "--name",
        "Toddler CoP",
        "--facilitator",
        "alice@example.org",
        "--audience",
        "Teachers",
    )
    assert "updated community 'Toddler CoP': name, Zoom meeting id, facilitator, audience, passcode" in out
    assert "join link: https://zoom.us/j/81234567891\n" in out
    from zoombot.store.models import Member, Membership

    with runtime.db.begin() as s:
        roles = dict(s.execute(select(Member.email, Membership.role).join(Membership)).all())
    assert roles == {"alice@example.org": "facilitator", "bob@example.org": "member", "fran@example.org": "member"}
