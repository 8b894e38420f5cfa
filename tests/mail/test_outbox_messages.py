"""Pure parts of sending: message building (escaping, headers, calendar parts), signed member links,
backoff, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.config import MailSettings
from zoombot.core import agenda
from zoombot.core.member_tokens import MemberLink, make_token, read_token
from zoombot.mail.messages import Attendance, HoursLine, MeetingFacts, MessageFacts, build, duration, when
from zoombot.mail.sending import redact
from zoombot.store.outbox import retry_delay

UTC = UTC
NOW = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
MAIL = MailSettings(from_address="cop@zoombot.example.org")
MEETING = MeetingFacts(
    community="Infant-Toddler <CoP>",
    community_id=7,
    original_start=datetime(2026, 11, 10, 23, 30, tzinfo=UTC),
    start=datetime(2026, 11, 10, 23, 30, tzinfo=UTC),
    end=datetime(2026, 11, 11, 1, 30, tzinfo=UTC),
    timezone="America/New_York",
    sequence=2,
    join_url="https://zoom.us/j/1?pwd=a&b=c",
)


def facts(kind: str, **extra) -> MessageFacts:
    return MessageFacts(
        kind=kind,
        recipient_name="Alice <b>Ames</b>",
        recipient_address="alice@example.org",
        meeting=MEETING,
        unsubscribe_url="https://cop.example.org/unsubscribe/tok",
        resources_url="https://cop.example.org/resources/tok",
        **extra,
    )


def parts(message):
    return {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}


def test_html_is_escaped_and_text_is_verbatim():
    draft = agenda.Agenda(
        objectives=("<script>alert(1)</script>",),
        topics=(),
        expectations=("Be kind",),
        confidentiality=("Stays here",),
        resources=(agenda.Resource("Guide", "https://e.org/g"),),
        parking_lot=("Why?",),
        next_steps=(),
    )
    message = build(facts("agenda", agenda=draft), MAIL, NOW)
    found = parts(message)
    html = found["text/html"].get_content()
    text = found["text/plain"].get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Alice &lt;b&gt;Ames&lt;/b&gt;" in html and "Infant-Toddler &lt;CoP&gt;" in html
    assert '<a href="https://e.org/g">Guide</a>' in html
    assert "&lt;" not in text and "- <script>alert(1)</script>" in text  # plain text is never HTML
    assert "Guide: https://e.org/g" in text and "Why?" in text
    assert "text/calendar" not in found  # only invites, updates and cancellations carry a calendar file


@pytest.mark.parametrize("kind,method", [("invite", "REQUEST"), ("update", "REQUEST"), ("cancellation", "CANCEL")])
def test_calendar_kinds_carry_an_ics_inline_and_attached(kind, method):
    message = build(facts(kind), MAIL, NOW)
    found = parts(message)
    inline = found["text/calendar"]
    assert inline.get_param("method") == method
    cal = icalendar.Calendar.from_ical(inline.get_payload(decode=True))
    event = next(c for c in cal.walk() if c.name == "VEVENT")
    assert event["SEQUENCE"] == 2 and str(event["UID"]) == "cop-7-20261110T233000Z@zoombot.example.org"
    attached = found["application/ics"]
    assert attached.get_filename() == ("cancel.ics" if method == "CANCEL" else "invite.ics")
    assert attached.get_payload(decode=True) == inline.get_payload(decode=True)


def test_headers():
    message = build(facts("reminder"), MAIL, NOW)
    assert message["From"] == "cop@zoombot.example.org" and message["To"] == "alice@example.org"
    assert message["Date"] == "Wed, 28 Oct 2026 12:00:00 +0000"
    assert message["Message-ID"].endswith("@zoombot.example.org>")
    assert message["List-Unsubscribe"] == "<https://cop.example.org/unsubscribe/tok>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "Starting soon: Infant-Toddler <CoP> at 6:30 PM EST"
    assert build(facts("reminder"), MAIL, NOW)["Message-ID"] != message["Message-ID"]


def test_followup_shows_the_attendees_time_and_hours():
    attended = Attendance(attended_seconds=6890, hours=(HoursLine("growth", Decimal("1.75"), "pending"),))
    text = parts(build(facts("followup", attendance=attended), MAIL, NOW))["text/plain"].get_content()
    assert "Your attendance: 1 h 54 min" in text and "Growth hours: 1.75 (pending)" in text
    missed = parts(build(facts("followup"), MAIL, NOW))["text/plain"].get_content()
    assert "We missed you" in missed and "Your attendance" not in missed


def test_local_times_follow_the_zone():
    assert (
        when(datetime(2026, 10, 13, 22, 30, tzinfo=UTC), "America/New_York")
        == "Tuesday, October 13, 2026 at 6:30 PM EDT"
    )
    assert (
        when(datetime(2026, 11, 10, 23, 30, tzinfo=UTC), "America/New_York")
        == "Tuesday, November 10, 2026 at 6:30 PM EST"
    )
    assert duration(59 * 60) == "59 min" and duration(3600) == "1 h 00 min"


@given(st.integers(min_value=1, max_value=2**40), st.integers(min_value=1, max_value=2**40))
def test_member_tokens_round_trip_and_resist_tampering(member_id, community_id):
    link = MemberLink(member_id, community_id)
    token = make_token("secret", "unsubscribe", link)
    assert read_token("secret", "unsubscribe", token) == link
    assert read_token("other secret", "unsubscribe", token) is None
    assert read_token("secret", "resources", token) is None
    # Someone else's ids under this signature: refused.
    forged = make_token("secret", "unsubscribe", MemberLink(member_id + 1, community_id)).rpartition(".")[0]
    assert read_token("secret", "unsubscribe", f"{forged}.{token.rpartition('.')[2]}") is None


@given(
    st.integers(min_value=1, max_value=2**40),
    st.integers(min_value=1, max_value=2**40),
    st.integers(min_value=1, max_value=2**40),
)
def test_closure_links_name_the_meeting_and_fit_no_other_purpose(member_id, community_id, occurrence_id):
    link = MemberLink(member_id, community_id, occurrence_id)
    token = make_token("secret", "closure", link)
    assert read_token("secret", "closure", token) == link
    for purpose in ("unsubscribe", "facilitator_unsubscribe", "resources"):
        assert read_token("secret", purpose, token) is None
        other = make_token("secret", purpose, MemberLink(member_id, community_id))
        assert read_token("secret", "closure", other) is None
    with pytest.raises(ValueError, match="names a meeting"):
        make_token("secret", "closure", MemberLink(member_id, community_id))


def test_backoff_doubles_up_to_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert retry_delay(30) == timedelta(hours=6)


def test_redaction_removes_addresses():
    assert redact("550 5.1.1 <bob@example.org>: no\nsuch user") == "550 5.1.1 <<address>>: no such user"
