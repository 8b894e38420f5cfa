"""Calendar files that real clients accept: stable UID, TZID, SEQUENCE, the join link; DST-correct local
times; a moved occurrence sends an update with a higher SEQUENCE, a cancelled one a METHOD:CANCEL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.helpers.mail import EVERYONE, JOIN_URL, add_community, at, by_kind, outbox_rows, runtime, smtp  # noqa: F401
from tests.helpers.zoom_events import load_fixture
from zoombot.core.calendar import event_uid
from zoombot.store.models import Community, Occurrence

UTC = UTC
NY = ZoneInfo("America/New_York")
NOV10 = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
NOV10_MS = str(int(NOV10.timestamp() * 1000))  # Zoom's occurrence_id: the original start in epoch ms


def zoom_change(name: str) -> dict:
    """The recorded meeting.updated / meeting.deleted, naming the November 10, 2026 occurrence."""
    body = load_fixture(name)
    for key in ("object", "old_object"):
        for item in body["payload"].get(key, {}).get("occurrences", []):
            item["occurrence_id"] = NOV10_MS
    return body


def invites_sent_for_november(runtime, clock, smtp):
    community_id = add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    got = at(clock, smtp, runtime, datetime(2026, 10, 28, 12, 0, tzinfo=UTC))
    assert by_kind(got) == {"invite": EVERYONE}
    return community_id, got


def test_invite_carries_an_ics_that_parses_with_uid_tzid_sequence_and_join_link(runtime, clock, smtp):
    community_id, got = invites_sent_for_november(runtime, clock, smtp)
    invite = next(r for r in got if r.to == ["alice@example.org"])
    part = invite.part("text/calendar")
    assert part.get_param("method") == "REQUEST" and part.get_content_charset() == "utf-8"
    assert any(p.get_filename() == "invite.ics" for p in invite.message.walk())
    cal = invite.ics
    assert str(cal["METHOD"]) == "REQUEST"
    event = invite.event
    assert str(event["UID"]) == event_uid(community_id, NOV10, "zoombot.example.org")
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["DTSTART"].dt == NOV10.astimezone(NY) and event["DTSTART"].dt.hour == 18
    assert str(event["LOCATION"]) == JOIN_URL and str(event["URL"]) == JOIN_URL
    assert "mailto:alice@example.org" in str(event["ATTENDEE"]).lower()
    assert any(c.name == "VTIMEZONE" for c in cal.walk())
    # Headers every message carries.
    m = invite.message
    assert m["From"] == "cop@zoombot.example.org" and m["To"] == "alice@example.org"
    assert m["Date"].datetime == datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    assert m["List-Unsubscribe"].strip().startswith("<https://cop.example.org/unsubscribe/")
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stored = {r.recipient: r.message_id for r in outbox_rows(runtime, kind="invite", status="sent")}
    assert stored["alice@example.org"] == m["Message-ID"].strip()
    assert m["List-Unsubscribe"].strip().strip("<>") in invite.text
    assert m["List-Unsubscribe"].strip().strip("<>") in invite.html


def test_a_schedule_across_the_dst_change_keeps_the_local_hour(runtime, clock, smtp):
    add_community(runtime, start=datetime(2026, 10, 13, 18, 30))  # EDT; November's meeting is in EST
    assert at(clock, smtp, runtime, datetime(2026, 9, 20, 12, 0, tzinfo=UTC)) == []
    october = at(clock, smtp, runtime, datetime(2026, 9, 29, 22, 30, tzinfo=UTC))
    november = at(clock, smtp, runtime, datetime(2026, 10, 27, 23, 30, tzinfo=UTC))
    with runtime.db.begin() as s:
        starts = [o.start for o in s.scalars(select(Occurrence).order_by(Occurrence.start))]
    assert starts == [datetime(2026, 10, 13, 22, 30, tzinfo=UTC), datetime(2026, 11, 10, 23, 30, tzinfo=UTC)]
    for got, utc_hour in ((october, 22), (november, 23)):
        assert by_kind(got) == {"invite": EVERYONE}
        start = got[0].event["DTSTART"].dt
        assert (start.hour, start.minute, start.astimezone(UTC).hour) == (18, 30, utc_hour)
        assert "6:30 PM" in got[0].text


def test_a_moved_occurrence_sends_an_update_with_a_higher_sequence(runtime, clock, smtp, post_event):
    community_id, _ = invites_sent_for_november(runtime, clock, smtp)
    assert post_event(zoom_change("meeting_updated")).status_code == 200  # Nov 10 -> Nov 12, 23:30 UTC
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=1))
    assert by_kind(got) == {"update": EVERYONE}
    event = got[0].event
    assert str(event["UID"]) == event_uid(community_id, NOV10, "zoombot.example.org")  # same entry, updated
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == datetime(2026, 11, 12, 18, 30, tzinfo=NY)
    assert got[0].part("text/calendar").get_param("method") == "REQUEST"
    assert at(clock, smtp, runtime, clock() + timedelta(hours=1)) == []
    # The reminder follows the new time, not the old one.
    assert "reminder" not in by_kind(at(clock, smtp, runtime, NOV10 - timedelta(minutes=60)))
    reminders = at(clock, smtp, runtime, datetime(2026, 11, 12, 22, 30, tzinfo=UTC))
    assert by_kind(reminders).get("reminder") == EVERYONE
    assert [r.kind for r in outbox_rows(runtime, status="sent", kind="reminder")] == ["reminder"] * 3


def test_a_member_invited_after_the_move_gets_the_current_invite_not_an_update(runtime, clock, smtp, post_event):
    invites_sent_for_november(runtime, clock, smtp)
    assert post_event(zoom_change("meeting_updated")).status_code == 200
    with runtime.db.begin() as s:
        from zoombot.store.models import Member, Membership

        community = s.scalar(select(Community))
        carol = Member(name="Carol Cole", email="carol@example.org")
        s.add(carol)
        s.flush()
        s.add(Membership(community_id=community.id, member_id=carol.id, role="member"))
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=1))
    assert by_kind(got) == {"update": EVERYONE}
    # Carol's invite follows the new time: 14 days before November 12.
    got = at(clock, smtp, runtime, datetime(2026, 10, 29, 23, 30, tzinfo=UTC))
    assert by_kind(got) == {"invite": ["carol@example.org"]}
    carol_invite = next(r for r in got if r.kind == "invite")
    assert carol_invite.event["SEQUENCE"] == 1


def test_a_cancelled_occurrence_sends_a_cancel_notice(runtime, clock, smtp, post_event):
    community_id, _ = invites_sent_for_november(runtime, clock, smtp)
    assert post_event(zoom_change("meeting_deleted")).status_code == 200
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=1))
    assert by_kind(got) == {"cancellation": EVERYONE}
    cancel = got[0]
    assert cancel.part("text/calendar").get_param("method") == "CANCEL"
    assert str(cancel.ics["METHOD"]) == "CANCEL"
    assert str(cancel.event["STATUS"]) == "CANCELLED" and cancel.event["SEQUENCE"] == 1
    assert str(cancel.event["UID"]) == event_uid(community_id, NOV10, "zoombot.example.org")
    # Nothing else about that meeting ever goes out.
    for when in (
        NOV10 - timedelta(days=7),
        NOV10 - timedelta(days=2),
        NOV10 - timedelta(minutes=30),
        NOV10 + timedelta(hours=5),
    ):
        assert at(clock, smtp, runtime, when) == []


def test_a_meeting_the_cadence_no_longer_produces_is_cancelled(runtime, clock, smtp):
    community_id, _ = invites_sent_for_november(runtime, clock, smtp)
    with runtime.db.begin() as s:
        community = s.get(Community, community_id)  # the series moves to the third Tuesday
        community.first_start_local, community.rrule = datetime(2026, 11, 17, 18, 30), "FREQ=MONTHLY;BYDAY=3TU"
    got = at(clock, smtp, runtime, clock() + timedelta(minutes=5))
    assert by_kind(got) == {"cancellation": EVERYONE}
    with runtime.db.begin() as s:
        rows = {o.start: (o.status, o.sequence) for o in s.scalars(select(Occurrence))}
    assert rows[NOV10] == ("cancelled", 1)
    assert rows[datetime(2026, 11, 17, 23, 30, tzinfo=UTC)] == ("scheduled", 0)
    got = at(clock, smtp, runtime, datetime(2026, 11, 3, 23, 30, tzinfo=UTC))
    assert by_kind(got) == {"invite": EVERYONE}  # the third Tuesday's invite, 14 days ahead
