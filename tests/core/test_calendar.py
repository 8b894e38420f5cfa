"""Unit tests for zoombot.core.calendar: the .ics bytes are parsed back with icalendar and checked property
by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core.calendar import PRODID, build_ics, event_uid

UTC = UTC
NY = ZoneInfo("America/New_York")
JOIN = "https://us02web.zoom.us/j/85512345678?pwd=AbCdEf123"
STAMP = datetime(2025, 2, 20, 12, 0, 5, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ics(**overrides) -> bytes:
    values = dict(
        uid="cop-7-20250311T223000Z@cop.example.org",
        sequence=0,
        start=utc(2025, 3, 11, 22, 30),
        end=utc(2025, 3, 12, 0, 30),
        tzid="America/New_York",
        summary="Infant & Toddler CoP",
        description="Monthly Community of Practice meeting.",
        join_url=JOIN,
        organizer_email="facilitator@example.org",
        organizer_name="Dana Facilitator",
        attendee_email="member@example.org",
        stamp=STAMP,
    )
    values.update(overrides)
    return build_ics(**values)


def parse(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1
    return cal, events[0]


# --- UID ------------------------------------------------------------------------------------------


def test_event_uid_format():
    assert event_uid(7, utc(2025, 3, 11, 22, 30), "cop.example.org") == "cop-7-20250311T223000Z@cop.example.org"


def test_event_uid_is_stable_across_zones_and_calls():
    instant = utc(2025, 3, 11, 22, 30)
    assert event_uid(7, instant, "cop.example.org") == event_uid(7, instant.astimezone(NY), "cop.example.org")
    assert event_uid(7, instant, "COP.example.org") == event_uid(7, instant, "cop.example.org")
    assert event_uid(7, instant, "x.org") != event_uid(8, instant, "x.org")
    assert event_uid(7, instant, "x.org") != event_uid(7, instant + timedelta(days=28), "x.org")


@pytest.mark.parametrize(
    "args",
    [
        (7, datetime(2025, 3, 11, 22, 30), "x.org"),  # naive
        (-1, utc(2025, 3, 11), "x.org"),
        (True, utc(2025, 3, 11), "x.org"),
        ("7", utc(2025, 3, 11), "x.org"),
        (7, utc(2025, 3, 11), ""),
        (7, utc(2025, 3, 11), "a b.org"),
        (7, utc(2025, 3, 11), "x.org\r\nX-EVIL:1"),
        (7, utc(2025, 3, 11), "user@x.org"),
    ],
)
def test_event_uid_rejects_bad_input(args):
    with pytest.raises(ValueError):
        event_uid(*args)


# --- Calendar and event properties ----------------------------------------------------------------


def test_calendar_properties():
    cal, _ = parse(ics())
    assert str(cal["PRODID"]) == PRODID == "-//zoombot//CoP meetings//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(cal["CALSCALE"]) == "GREGORIAN"


def test_every_event_property():
    _, event = parse(ics(sequence=3))
    assert str(event["UID"]) == "cop-7-20250311T223000Z@cop.example.org"
    assert int(event["SEQUENCE"]) == 3
    assert event.decoded("DTSTAMP") == STAMP
    assert str(event["SUMMARY"]) == "Infant & Toddler CoP"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Monthly Community of Practice meeting.")
    assert JOIN in description
    assert str(event["LOCATION"]) == JOIN
    assert str(event["URL"]) == JOIN
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["TRANSP"]) == "OPAQUE"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:facilitator@example.org"
    assert organizer.params["CN"] == "Dana Facilitator"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:member@example.org"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_dtstart_dtend_are_local_with_tzid_and_the_same_instant():
    _, event = parse(ics())
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["DTEND"].params["TZID"] == "America/New_York"
    assert event["DTSTART"].to_ical() == b"20250311T183000"
    assert event["DTEND"].to_ical() == b"20250311T203000"
    assert event.decoded("DTSTART").astimezone(UTC) == utc(2025, 3, 11, 22, 30)
    assert event.decoded("DTEND").astimezone(UTC) == utc(2025, 3, 12, 0, 30)


def test_raw_text_has_tzid_stamp_in_utc_and_crlf_lines():
    data = ics()
    assert b"DTSTART;TZID=America/New_York:20250311T183000\r\n" in data
    assert b"DTEND;TZID=America/New_York:20250311T203000\r\n" in data
    assert b"DTSTAMP:20250220T120005Z\r\n" in data
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_vtimezone_for_tzid_comes_before_the_event_and_covers_dst():
    cal, _ = parse(ics())
    names = [c.name for c in cal.subcomponents]
    assert names == ["VTIMEZONE", "VEVENT"]
    (vtz,) = cal.walk("VTIMEZONE")
    assert str(vtz["TZID"]) == "America/New_York"
    assert {c.name for c in vtz.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert vtz.to_tz().utcoffset(datetime(2025, 7, 1)) == timedelta(hours=-4)
    assert vtz.to_tz().utcoffset(datetime(2025, 12, 1)) == timedelta(hours=-5)


def test_lines_are_folded_at_75_octets():
    data = ics(description="A long description. " * 40, summary="Ü" * 60)
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
    _, event = parse(data)
    assert str(event["DESCRIPTION"]).startswith(("A long description. " * 40).rstrip())
    assert str(event["SUMMARY"]) == "Ü" * 60


@pytest.mark.parametrize(
    "start, local, tzid",
    [
        (utc(2025, 1, 14, 23, 30), "20250114T183000", "America/New_York"),  # EST
        (utc(2025, 3, 11, 22, 30), "20250311T183000", "America/New_York"),  # EDT, two days after the change
        (utc(2025, 11, 4, 23, 30), "20251104T183000", "America/New_York"),  # EST, two days after the change
        (utc(2025, 3, 30, 17, 30), "20250330T193000", "Europe/Berlin"),  # CEST from that morning
        (utc(2025, 4, 6, 9, 0), "20250406T190000", "Australia/Sydney"),  # AEST from that morning
        (utc(2025, 6, 1, 13, 0), "20250601T183000", "Asia/Kolkata"),  # no DST, half-hour offset
    ],
)
def test_dst_crossing_dates_round_trip(start, local, tzid):
    _, event = parse(ics(start=start, end=start + timedelta(hours=2), tzid=tzid))
    assert event["DTSTART"].params["TZID"] == tzid
    assert event["DTSTART"].to_ical().decode() == local
    assert event.decoded("DTSTART").astimezone(UTC) == start
    assert event.decoded("DTEND").astimezone(UTC) == start + timedelta(hours=2)


def test_meeting_spanning_a_dst_change():
    # 00:30-03:30 local on the night New York falls back: 3 h local wall span, 4 h real.
    start = datetime(2025, 11, 2, 0, 30, tzinfo=NY)
    end = start.astimezone(UTC) + timedelta(hours=4)
    _, event = parse(ics(start=start, end=end))
    assert event.decoded("DTSTART").astimezone(UTC) == start.astimezone(UTC)
    assert event.decoded("DTEND").astimezone(UTC) == end
    assert event["DTEND"].to_ical() == b"20251102T033000"


def test_event_in_next_year_gets_a_vtimezone_covering_it():
    start = utc(2027, 7, 13, 22, 30)
    cal, event = parse(ics(start=start, end=start + timedelta(hours=2)))
    (vtz,) = cal.walk("VTIMEZONE")
    assert vtz.to_tz().utcoffset(datetime(2027, 7, 13, 18, 30)) == timedelta(hours=-4)
    assert event.decoded("DTSTART").astimezone(UTC) == start


def test_utc_zone_is_written_in_utc_form():
    cal, event = parse(ics(tzid="UTC"))
    assert list(cal.walk("VTIMEZONE")) == []
    assert event["DTSTART"].to_ical() == b"20250311T223000Z"
    assert event.decoded("DTSTART") == utc(2025, 3, 11, 22, 30)


def test_start_given_in_another_zone_is_converted_to_tzid():
    _, event = parse(ics(start=utc(2025, 3, 11, 22, 30).astimezone(ZoneInfo("Asia/Tokyo"))))
    assert event["DTSTART"].to_ical() == b"20250311T183000"


# --- Cancel / status ------------------------------------------------------------------------------


def test_cancel_carries_status_cancelled():
    cal, event = parse(ics(method="CANCEL", sequence=2))
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2
    assert str(event["UID"]) == "cop-7-20250311T223000Z@cop.example.org"
    assert "RSVP" not in event["ATTENDEE"].params  # nobody replies to a cancellation
    assert str(event["ATTENDEE"]) == "mailto:member@example.org"


def test_cancel_overrides_an_explicit_status():
    _, event = parse(ics(method="cancel", status="CONFIRMED"))
    assert str(event["STATUS"]) == "CANCELLED"


def test_request_with_tentative_status():
    _, event = parse(ics(status="tentative"))
    assert str(event["STATUS"]) == "TENTATIVE"


def test_same_uid_for_update_and_cancel():
    uid = event_uid(7, utc(2025, 3, 11, 22, 30), "cop.example.org")
    moved = utc(2025, 3, 12, 22, 30)
    _, first = parse(ics(uid=uid, sequence=0))
    _, update = parse(ics(uid=uid, sequence=1, start=moved, end=moved + timedelta(hours=2)))
    _, cancel = parse(ics(uid=uid, sequence=2, method="CANCEL"))
    assert str(first["UID"]) == str(update["UID"]) == str(cancel["UID"]) == uid
    assert [int(e["SEQUENCE"]) for e in (first, update, cancel)] == [0, 1, 2]


# --- Optional parts -------------------------------------------------------------------------------


def test_without_join_url_attendee_or_organizer_name():
    _, event = parse(ics(join_url=None, attendee_email=None, organizer_name=None))
    assert "LOCATION" not in event and "URL" not in event and "ATTENDEE" not in event
    assert "CN" not in event["ORGANIZER"].params
    assert str(event["DESCRIPTION"]) == "Monthly Community of Practice meeting."


def test_join_url_already_in_description_is_not_repeated():
    _, event = parse(ics(description=f"Join: {JOIN}"))
    assert str(event["DESCRIPTION"]) == f"Join: {JOIN}"


def test_empty_description_gets_the_join_link():
    _, event = parse(ics(description=""))
    assert str(event["DESCRIPTION"]) == f"Join the meeting: {JOIN}"


def test_deterministic_output():
    assert ics() == ics()


# --- Text escaping --------------------------------------------------------------------------------


def test_special_text_survives_round_trip():
    summary = "Infant, toddler; & preschool: CoP \\ “quotes” — niños 👶"
    description = "Line one, with comma; semicolon\nLine two: ünïcödé 幼儿\n\nBackslash \\ end"
    name = 'O\'Brien, "Dee"; Facilitator'
    _, event = parse(ics(summary=summary, description=description, organizer_name=name, join_url=None))
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description
    assert event["ORGANIZER"].params["CN"] == name


def test_summary_is_one_line_and_control_characters_are_dropped():
    _, event = parse(ics(summary="Two\r\nlines\x00", description="a\r\nb\x07c\td", organizer_name="Dee\nX"))
    assert str(event["SUMMARY"]) == "Two lines"
    assert str(event["DESCRIPTION"]).startswith("a\nbc\td")
    assert event["ORGANIZER"].params["CN"] == "Dee X"


def test_lone_surrogates_are_dropped():
    _, event = parse(ics(summary="a\ud800b"))
    assert str(event["SUMMARY"]) == "ab"


def test_header_injection_is_impossible_through_text():
    data = ics(summary="x\r\nATTENDEE:mailto:evil@example.org", description="y\r\nEND:VEVENT")
    _, event = parse(data)
    assert str(event["ATTENDEE"]) == "mailto:member@example.org"
    assert b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" == data[-len(b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") :]
    assert data.count(b"\r\nEND:VEVENT") == 1


@settings(max_examples=100, deadline=None)
@given(
    summary=st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=120).map(lambda s: " ".join(s.split())),
    description=st.text(st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\t"), max_size=300),
)
def test_text_round_trip_property(summary, description):
    _, event = parse(ics(summary=summary, description=description, join_url=None))
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)),
    tzid=st.sampled_from(
        [
            "America/New_York",
            "America/Los_Angeles",
            "Europe/London",
            "Australia/Sydney",
            "Asia/Kolkata",
            "America/Sao_Paulo",
            "Pacific/Auckland",
        ]
    ),
    minutes=st.integers(min_value=1, max_value=300),
)
def test_instants_round_trip_property(start, tzid, minutes):
    start = start.replace(microsecond=0)
    end = start + timedelta(minutes=minutes)
    _, event = parse(ics(start=start, end=end, tzid=tzid))
    local = start.astimezone(ZoneInfo(tzid))
    repeated_hour = local.fold and local.replace(fold=0).astimezone(UTC) != start
    # named by its zone, except the second pass of the hour clocks go back (RFC 5545 would read the first)
    assert event["DTSTART"].params.get("TZID") == (None if repeated_hour else tzid)
    assert event.decoded("DTSTART").astimezone(UTC) == start
    assert event.decoded("DTEND").astimezone(UTC) == end


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"method": "PUBLISH"},
        {"method": ""},
        {"status": "DONE"},
        {"sequence": -1},
        {"sequence": True},
        {"uid": ""},
        {"uid": "a\r\nb"},
        {"start": datetime(2025, 3, 11, 18, 30)},
        {"end": datetime(2025, 3, 11, 20, 30)},
        {"stamp": datetime(2025, 2, 20)},
        {"end": utc(2025, 3, 11, 22, 30)},
        {"end": utc(2025, 3, 11, 21, 30)},
        {"tzid": "Mars/Olympus_Mons"},
        {"tzid": ""},
        {"organizer_email": "not-an-address"},
        {"organizer_email": "a@example.org\r\nX-EVIL:1"},
        {"organizer_email": "a@example.org;RSVP=TRUE"},
        {"attendee_email": "two@@example.org"},
        {"attendee_email": "a b@example.org"},
        {"join_url": "https://x.example\r\nX-EVIL:1"},
        {"join_url": "  "},
        {"join_url": ""},
        {"join_url": "javascript:alert(1)"},
        {"join_url": "https://x.example/a b"},
    ],
)
def test_invalid_input_is_rejected(overrides):
    with pytest.raises(ValueError):
        ics(**overrides)


def test_the_default_sender_address_is_a_usable_organizer():
    """`[mail] from_address` defaults to zoombot@localhost: invites must build with it."""
    from zoombot.config import MailSettings

    _, event = parse(ics(organizer_email=MailSettings().from_address))
    assert str(event["ORGANIZER"]) == f"mailto:{MailSettings().from_address}"


def test_the_second_pass_of_the_hour_clocks_go_back_is_written_in_utc():
    """01:00 in Los Angeles happens twice on 5 November 2028; the second (09:00 UTC) cannot be named by TZID."""
    first, second = utc(2028, 11, 5, 8, 0), utc(2028, 11, 5, 9, 0)
    _, event = parse(ics(start=first, end=first + timedelta(minutes=30), tzid="America/Los_Angeles"))
    assert (
        event["DTSTART"].params["TZID"] == "America/Los_Angeles" and event.decoded("DTSTART").astimezone(UTC) == first
    )
    _, event = parse(ics(start=second, end=second + timedelta(minutes=30), tzid="America/Los_Angeles"))
    assert "TZID" not in event["DTSTART"].params and event.decoded("DTSTART") == second
