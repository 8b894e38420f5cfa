"""Unit tests for zoombot.core.schedule: occurrences (DST, RRULE bounds, windows) and message planning."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core.schedule import (
    FOLLOWUP_LIFETIME,
    MESSAGE_KINDS,
    Cadence,
    Occurrence,
    Offsets,
    PlannedMessage,
    is_sendable,
    occurrences,
    plan_messages,
    validate_cadence,
    validate_rrule,
    zone,
)

UTC = UTC
NY = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cadence(first: datetime, rrule: str | None, tz: str = "America/New_York", minutes: int = 120) -> Cadence:
    return Cadence(first_start_local=first, timezone=tz, duration_minutes=minutes, rrule=rrule)


YEAR_2025 = (utc(2025, 1, 1), utc(2026, 1, 1))


# --- DST ------------------------------------------------------------------------------------------


def test_monthly_second_tuesday_keeps_local_time_across_both_dst_changes():
    occs = occurrences(cadence(datetime(2025, 1, 14, 18, 30), "FREQ=MONTHLY;BYDAY=2TU"), *YEAR_2025)
    expected_days = [
        (1, 14),
        (2, 11),
        (3, 11),
        (4, 8),
        (5, 13),
        (6, 10),
        (7, 8),
        (8, 12),
        (9, 9),
        (10, 14),
        (11, 11),
        (12, 9),
    ]
    assert [(o.local_start.month, o.local_start.day) for o in occs] == expected_days
    for occ in occs:
        assert occ.local_start.weekday() == 1  # Tuesday
        assert 8 <= occ.local_start.day <= 14  # the second one of the month
        assert occ.local_start.time() == time(18, 30)
        assert occ.local_start.tzinfo == NY
        # EDT from 2025-03-09 to 2025-11-02, EST otherwise
        in_dst = datetime(2025, 3, 9, tzinfo=UTC) < occ.start < datetime(2025, 11, 2, tzinfo=UTC)
        offset = timedelta(hours=-4 if in_dst else -5)
        assert occ.local_start.utcoffset() == offset
        assert occ.start == occ.local_start.astimezone(UTC)
        assert occ.start.tzinfo is UTC and occ.end.tzinfo is UTC and occ.original_start.tzinfo is UTC
        assert occ.end - occ.start == timedelta(minutes=120)
        assert occ.original_start == occ.start
    assert occs[1].start == utc(2025, 2, 11, 23, 30)  # EST: 18:30 + 5 h
    assert occs[2].start == utc(2025, 3, 11, 22, 30)  # EDT: 18:30 + 4 h
    assert occs[9].start == utc(2025, 10, 14, 22, 30)
    assert occs[10].start == utc(2025, 11, 11, 23, 30)


def test_southern_hemisphere_dst_keeps_local_time():
    occs = occurrences(
        cadence(datetime(2025, 3, 5, 19, 0), "FREQ=WEEKLY", tz="Australia/Sydney"), utc(2025, 3, 1), utc(2025, 4, 30)
    )
    assert {o.local_start.time() for o in occs} == {time(19, 0)}
    offsets = {o.local_start.utcoffset() for o in occs}
    assert offsets == {timedelta(hours=11), timedelta(hours=10)}  # AEDT until 2025-04-06, then AEST


def test_spring_forward_gap_shifts_forward_by_the_gap():
    # 02:30 does not exist in New York on 2025-03-09: read with the pre-jump offset (EST) it is 07:30 UTC,
    # which is 03:30 EDT.
    occs = occurrences(cadence(datetime(2025, 3, 7, 2, 30), "FREQ=DAILY;COUNT=4", minutes=30), *YEAR_2025)
    assert [o.start for o in occs] == [
        utc(2025, 3, 7, 7, 30),
        utc(2025, 3, 8, 7, 30),
        utc(2025, 3, 9, 7, 30),
        utc(2025, 3, 10, 6, 30),
    ]
    assert [o.local_start.time() for o in occs] == [time(2, 30), time(2, 30), time(3, 30), time(2, 30)]


def test_fall_back_overlap_takes_the_first_occurrence_of_the_wall_time():
    occs = occurrences(cadence(datetime(2025, 11, 2, 1, 30), None, minutes=60), *YEAR_2025)
    assert [o.start for o in occs] == [utc(2025, 11, 2, 5, 30)]  # 01:30 EDT, not 01:30 EST (06:30Z)
    assert occs[0].local_start.utcoffset() == timedelta(hours=-4)


# --- Rules ----------------------------------------------------------------------------------------


def test_weekly():
    occs = occurrences(cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY;BYDAY=TU"), utc(2025, 1, 1), utc(2025, 2, 1))
    assert [o.local_start.day for o in occs] == [7, 14, 21, 28]
    assert all(o.local_start.time() == time(9, 0) for o in occs)


def test_biweekly_interval():
    occs = occurrences(cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY;INTERVAL=2"), utc(2025, 1, 1), utc(2025, 3, 1))
    assert [o.local_start.date().isoformat() for o in occs] == ["2025-01-07", "2025-01-21", "2025-02-04", "2025-02-18"]


def test_last_friday_monthly():
    occs = occurrences(
        cadence(datetime(2025, 1, 31, 12, 0), "FREQ=MONTHLY;BYDAY=-1FR"), utc(2025, 1, 1), utc(2025, 4, 1)
    )
    assert [o.local_start.day for o in occs] == [31, 28, 28]


def test_single_meeting():
    occs = occurrences(cadence(datetime(2025, 6, 3, 18, 30), None, minutes=90), *YEAR_2025)
    assert len(occs) == 1
    (occ,) = occs
    assert occ == Occurrence(
        original_start=utc(2025, 6, 3, 22, 30),
        start=utc(2025, 6, 3, 22, 30),
        end=utc(2025, 6, 4, 0, 0),
        local_start=datetime(2025, 6, 3, 18, 30, tzinfo=NY),
    )
    assert occurrences(cadence(datetime(2025, 6, 3, 18, 30), None), utc(2025, 7, 1), utc(2025, 8, 1)) == []


def test_count_is_honoured():
    occs = occurrences(cadence(datetime(2025, 1, 14, 18, 30), "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"), *YEAR_2025)
    assert [o.local_start.month for o in occs] == [1, 2, 3]


def test_count_is_honoured_when_the_window_starts_later():
    occs = occurrences(
        cadence(datetime(2025, 1, 14, 18, 30), "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"), utc(2025, 2, 15), utc(2026, 1, 1)
    )
    assert [o.local_start.month for o in occs] == [3]


def test_first_meeting_off_pattern_is_an_occurrence_and_counts_towards_count():
    # RFC 5545: DTSTART is always the first occurrence and counts in COUNT.
    occs = occurrences(cadence(datetime(2025, 1, 13, 18, 30), "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"), *YEAR_2025)
    assert [o.local_start.date().isoformat() for o in occs] == ["2025-01-13", "2025-01-14", "2025-02-11"]
    only = occurrences(cadence(datetime(2025, 1, 13, 18, 30), "FREQ=MONTHLY;BYDAY=2TU;COUNT=1"), *YEAR_2025)
    assert [o.local_start.date().isoformat() for o in only] == ["2025-01-13"]


def test_until_in_utc_is_inclusive():
    rule = "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20250311T223000Z"  # exactly the March meeting (18:30 EDT)
    occs = occurrences(cadence(datetime(2025, 1, 14, 18, 30), rule), *YEAR_2025)
    assert [o.local_start.month for o in occs] == [1, 2, 3]
    rule = "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20250311T222959Z"
    occs = occurrences(cadence(datetime(2025, 1, 14, 18, 30), rule), *YEAR_2025)
    assert [o.local_start.month for o in occs] == [1, 2]


def test_until_as_a_date_means_the_end_of_that_local_day():
    # The meeting on 2025-03-11 at 20:00 New York is 00:00Z on the 12th: still "until 2025-03-11" locally.
    occs = occurrences(cadence(datetime(2025, 1, 14, 20, 0), "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20250311"), *YEAR_2025)
    assert [o.local_start.month for o in occs] == [1, 2, 3]
    occs = occurrences(cadence(datetime(2025, 1, 14, 20, 0), "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20250310"), *YEAR_2025)
    assert [o.local_start.month for o in occs] == [1, 2]


def test_floating_until_is_local_wall_time():
    first = datetime(2025, 1, 14, 18, 30)
    assert len(occurrences(cadence(first, "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20250311T183000"), *YEAR_2025)) == 3
    assert len(occurrences(cadence(first, "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20250311T182959"), *YEAR_2025)) == 2


def test_rrule_prefix_and_case_are_accepted():
    a = occurrences(cadence(datetime(2025, 1, 14, 18, 30), "RRULE:freq=monthly;byday=2tu"), *YEAR_2025)
    b = occurrences(cadence(datetime(2025, 1, 14, 18, 30), "FREQ=MONTHLY;BYDAY=2TU"), *YEAR_2025)
    assert a == b and len(a) == 12


def test_infinite_rule_far_from_dtstart_is_bounded_by_the_window():
    occs = occurrences(
        cadence(datetime(2020, 1, 1, 8, 0), "FREQ=DAILY", tz="Europe/Berlin"), utc(2030, 6, 1), utc(2030, 6, 8)
    )
    assert len(occs) == 7
    assert all(o.local_start.time() == time(8, 0) for o in occs)


# --- Windows --------------------------------------------------------------------------------------


def test_window_is_half_open():
    c = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY")  # 14:00Z in January
    first, second = utc(2025, 1, 7, 14), utc(2025, 1, 14, 14)
    assert [o.start for o in occurrences(c, first, second)] == [first]  # start included, end excluded
    assert [o.start for o in occurrences(c, first + timedelta(seconds=1), second + timedelta(seconds=1))] == [second]
    assert occurrences(c, first + timedelta(seconds=1), second) == []


def test_empty_or_inverted_window():
    c = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY")
    assert occurrences(c, utc(2025, 2, 1), utc(2025, 2, 1)) == []
    assert occurrences(c, utc(2025, 3, 1), utc(2025, 2, 1)) == []


def test_window_before_the_first_meeting_is_empty():
    c = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY")
    assert occurrences(c, utc(2024, 1, 1), utc(2025, 1, 7, 14)) == []


def test_window_in_another_zone_is_the_same_instant():
    c = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY")
    tokyo = ZoneInfo("Asia/Tokyo")
    a = occurrences(c, utc(2025, 1, 1), utc(2025, 2, 1))
    b = occurrences(c, utc(2025, 1, 1).astimezone(tokyo), utc(2025, 2, 1).astimezone(tokyo))
    assert a == b


def test_extreme_windows_and_bounds_do_not_overflow():
    low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    single = cadence(datetime(2025, 1, 7, 9, 0), None, tz="Pacific/Kiritimati")
    assert [o.start for o in occurrences(single, low, high)] == [utc(2025, 1, 6, 19)]
    forever = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=YEARLY;UNTIL=99991231", tz="Pacific/Kiritimati")
    assert len(occurrences(forever, utc(2025, 1, 1), utc(2035, 1, 1))) == 10
    before = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=YEARLY;UNTIL=00010101T000000", tz="Pacific/Kiritimati")
    assert len(occurrences(before, utc(2025, 1, 1), utc(2035, 1, 1))) == 1  # the first meeting always counts
    with pytest.raises(ValueError, match="out of range"):
        validate_cadence(cadence(datetime(1, 1, 1, 0, 0), None, tz="Pacific/Kiritimati"))


def test_naive_window_is_rejected():
    c = cadence(datetime(2025, 1, 7, 9, 0), "FREQ=WEEKLY")
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(c, datetime(2025, 1, 1), utc(2025, 2, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(c, utc(2025, 1, 1), datetime(2025, 2, 1))


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, normalised",
    [
        ("FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=2TU"),
        ("RRULE:FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=2TU"),
        ("  rrule:freq=monthly; byday=2tu; ", "FREQ=MONTHLY;BYDAY=2TU"),
        ("BYDAY=TU,TH;FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=TU,TH"),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1", "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1"),
        ("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=10", "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=10"),
        (
            "FREQ=YEARLY;BYMONTH=9;BYDAY=1WE;UNTIL=20301231T235959Z",
            "FREQ=YEARLY;BYMONTH=9;BYDAY=1WE;UNTIL=20301231T235959Z",
        ),
        ("FREQ=WEEKLY;INTERVAL=2;WKST=SU", "FREQ=WEEKLY;INTERVAL=2;WKST=SU"),
        ("FREQ=DAILY;UNTIL=20250101", "FREQ=DAILY;UNTIL=20250101"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
    ],
)
def test_validate_rrule_accepts_and_normalises(rule, normalised):
    assert validate_rrule(rule) == normalised


@pytest.mark.parametrize(
    "rule, message",
    [
        ("FREQ=FOO", "FREQ"),
        ("", "empty"),
        ("RRULE:", "empty"),
        ("BYDAY=TU", "no FREQ"),
        ("FREQ=MONTHLY;BYDAY=XX", "BYDAY"),
        ("FREQ=MONTHLY;BYDAY=0TU", "ordinal"),
        ("FREQ=MONTHLY;BYDAY=6TU", "ordinal"),
        ("FREQ=WEEKLY;BYDAY=2TU", "ordinal"),
        ("FREQ=MONTHLY;FOO=1", "unknown"),
        ("FREQ=MONTHLY;BYEASTER=0", "unknown"),
        ("FREQ=MONTHLY;INTERVAL=0", "INTERVAL"),
        ("FREQ=MONTHLY;INTERVAL=-1", "INTERVAL"),
        ("FREQ=MONTHLY;COUNT=0", "COUNT"),
        ("FREQ=MONTHLY;COUNT=abc", "COUNT"),
        ("FREQ=MONTHLY;COUNT=²", "COUNT"),
        ("FREQ=MONTHLY;COUNT=99999", "COUNT"),
        ("FREQ=MONTHLY;BYMONTHDAY=٣", "integers"),
        ("FREQ=MONTHLY;COUNT=3;UNTIL=20250101T000000Z", "both COUNT and UNTIL"),
        ("FREQ=MONTHLY;UNTIL=garbage", "UNTIL"),
        ("FREQ=MONTHLY;UNTIL=20250230", "UNTIL"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "out of range"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "out of range"),
        ("FREQ=YEARLY;BYMONTH=13", "out of range"),
        ("FREQ=YEARLY;BYMONTH=-1", "out of range"),
        ("FREQ=MONTHLY;BYSETPOS=0", "out of range"),
        ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYYEARDAY=1", "BYYEARDAY"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYDAY=3TU", "twice"),
        ("FREQ=MONTHLY;BYDAY", "NAME=VALUE"),
        ("FREQ=HOURLY", "at most daily"),
        ("FREQ=MINUTELY", "at most daily"),
        ("FREQ=DAILY;BYHOUR=9,10", "time of day"),
        ("FREQ=DAILY;BYMINUTE=0", "time of day"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never matches"),
        ("FREQ=MONTHLY;BYDAY=2TU\nRRULE:FREQ=DAILY", "single rule"),
        ("EXDATE:20250101", "single rule"),
        ("FREQ=MONTHLY;" + "BYMONTHDAY=1;" * 200, "too long"),
    ],
)
def test_validate_rrule_rejects(rule, message):
    with pytest.raises(ValueError, match=message):
        validate_rrule(rule)


def test_validate_rrule_rejects_non_strings():
    with pytest.raises(ValueError):
        validate_rrule(None)  # type: ignore[arg-type]


def test_invalid_rrule_is_rejected_by_occurrences():
    with pytest.raises(ValueError, match="FREQ"):
        occurrences(cadence(datetime(2025, 1, 14, 18, 30), "FREQ=FOO"), *YEAR_2025)


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "   ", "../../etc/passwd", "America/New York", "/abs"])
def test_invalid_timezone_is_rejected(tz):
    with pytest.raises(ValueError, match="timezone"):
        occurrences(cadence(datetime(2025, 1, 14, 18, 30), None, tz=tz), *YEAR_2025)
    with pytest.raises(ValueError, match="timezone"):
        zone(tz)


@pytest.mark.parametrize("minutes", [0, -5, True, 1.5])
def test_invalid_duration_is_rejected(minutes):
    with pytest.raises(ValueError, match="duration_minutes"):
        validate_cadence(cadence(datetime(2025, 1, 14, 18, 30), None, minutes=minutes))


def test_aware_first_start_is_rejected():
    with pytest.raises(ValueError, match="naive"):
        validate_cadence(cadence(datetime(2025, 1, 14, 18, 30, tzinfo=NY), None))


def test_validate_cadence_accepts_a_good_cadence():
    validate_cadence(cadence(datetime(2025, 1, 14, 18, 30), "FREQ=MONTHLY;BYDAY=2TU"))


# --- Messages -------------------------------------------------------------------------------------


OCC = Occurrence(
    original_start=utc(2025, 3, 11, 22, 30),
    start=utc(2025, 3, 11, 22, 30),
    end=utc(2025, 3, 12, 0, 30),
    local_start=datetime(2025, 3, 11, 18, 30, tzinfo=NY),
)


def test_plan_messages_default_offsets_exactly():
    start, end = OCC.start, OCC.end
    assert plan_messages(OCC, Offsets()) == [
        PlannedMessage("facilitator_prep", start - timedelta(days=7), start),
        PlannedMessage("invite", start - timedelta(days=14), start),
        PlannedMessage("agenda", start - timedelta(days=2), start),
        PlannedMessage("reminder", start - timedelta(minutes=60), start),
        PlannedMessage("facilitator_closure", end, end + timedelta(hours=2) + timedelta(hours=24)),
        PlannedMessage("followup", end + timedelta(hours=2), end + timedelta(hours=2) + timedelta(days=7)),
    ]
    assert [m.kind for m in plan_messages(OCC, Offsets())] == list(MESSAGE_KINDS)
    assert FOLLOWUP_LIFETIME == timedelta(days=7)


def test_plan_messages_custom_offsets():
    msgs = {
        m.kind: m
        for m in plan_messages(
            OCC,
            Offsets(
                facilitator_prep_days=3,
                invite_days=21,
                agenda_days=1,
                reminder_minutes=15,
                followup_hours=0,
                closure_wait_hours=48,
            ),
        )
    }
    assert msgs["facilitator_prep"].due_at == utc(2025, 3, 8, 22, 30)
    assert msgs["invite"].due_at == utc(2025, 2, 18, 22, 30)
    assert msgs["agenda"].due_at == utc(2025, 3, 10, 22, 30)
    assert msgs["reminder"].due_at == utc(2025, 3, 11, 22, 15)
    assert msgs["followup"].due_at == OCC.end
    assert msgs["followup"].expires_at == OCC.end + timedelta(days=7)
    assert (msgs["facilitator_closure"].due_at, msgs["facilitator_closure"].expires_at) == (
        OCC.end,
        OCC.end + timedelta(hours=48),
    )
    assert all(m.due_at.tzinfo is UTC and m.expires_at.tzinfo is UTC for m in msgs.values())


def test_plan_messages_uses_the_moved_start_not_the_original():
    moved = Occurrence(
        original_start=OCC.start,
        start=OCC.start + timedelta(days=1),
        end=OCC.end + timedelta(days=1),
        local_start=OCC.local_start + timedelta(days=1),
    )
    assert all(m.expires_at == moved.start for m in plan_messages(moved, Offsets())[:4])


@pytest.mark.parametrize(
    "field",
    ["facilitator_prep_days", "invite_days", "agenda_days", "reminder_minutes", "followup_hours", "closure_wait_hours"],
)
def test_offsets_reject_negative_and_non_integers(field):
    with pytest.raises(ValueError, match=field):
        Offsets(**{field: -1})
    with pytest.raises(ValueError, match=field):
        Offsets(**{field: 1.5})


def test_zero_offset_switches_a_kind_off():
    (prep,) = [m for m in plan_messages(OCC, Offsets(facilitator_prep_days=0)) if m.kind == "facilitator_prep"]
    assert not is_sendable(prep.due_at, prep.expires_at, OCC.start)
    assert not is_sendable(prep.due_at, prep.expires_at, OCC.start - timedelta(seconds=1))


def test_is_sendable_is_half_open():
    due, expires = utc(2025, 1, 1), utc(2025, 1, 2)
    assert not is_sendable(due, expires, due - timedelta(microseconds=1))
    assert is_sendable(due, expires, due)
    assert is_sendable(due, expires, expires - timedelta(microseconds=1))
    assert not is_sendable(due, expires, expires)


def test_is_sendable_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        is_sendable(datetime(2025, 1, 1), utc(2025, 1, 2), utc(2025, 1, 1))
    with pytest.raises(ValueError):
        is_sendable(utc(2025, 1, 1), utc(2025, 1, 2), datetime(2025, 1, 1))


def test_missed_invite_is_sendable_late_but_never_after_the_start():
    # The bot was down when the invite fell due: it may still go out late, but not once the meeting began.
    (invite,) = [m for m in plan_messages(OCC, Offsets()) if m.kind == "invite"]
    assert is_sendable(invite.due_at, invite.expires_at, OCC.start - timedelta(days=3))
    assert is_sendable(invite.due_at, invite.expires_at, OCC.start - timedelta(seconds=1))
    for late in (OCC.start, OCC.start + timedelta(minutes=5), OCC.end + timedelta(days=1)):
        for msg in plan_messages(OCC, Offsets())[:4]:
            assert not is_sendable(msg.due_at, msg.expires_at, late), msg.kind


def test_followup_is_sendable_for_seven_days_after_due():
    (followup,) = [m for m in plan_messages(OCC, Offsets()) if m.kind == "followup"]
    assert not is_sendable(followup.due_at, followup.expires_at, OCC.end + timedelta(hours=1))
    assert is_sendable(followup.due_at, followup.expires_at, OCC.end + timedelta(hours=2))
    assert is_sendable(followup.due_at, followup.expires_at, OCC.end + timedelta(days=7, hours=1, minutes=59))
    assert not is_sendable(followup.due_at, followup.expires_at, OCC.end + timedelta(days=7, hours=2))


def test_plan_messages_accepts_aware_non_utc_occurrence():
    local = Occurrence(
        original_start=OCC.start.astimezone(NY),
        start=OCC.start.astimezone(NY),
        end=OCC.end.astimezone(NY),
        local_start=OCC.local_start,
    )
    assert plan_messages(local, Offsets()) == plan_messages(OCC, Offsets())


# --- Properties -----------------------------------------------------------------------------------

# Zones with and without DST, both hemispheres. Times from 05:00 to 22:59 are never in a DST gap in
# these zones, so the wall-clock time is always preserved exactly.
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
]
RULES = [
    None,
    "FREQ=DAILY",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE;BYSETPOS=1",
    "FREQ=YEARLY;BYMONTH=3,11;BYDAY=1SU",
    "FREQ=MONTHLY;BYDAY=2TU;COUNT=5",
    "FREQ=WEEKLY;UNTIL=20260315T000000Z",
    "FREQ=DAILY;UNTIL=20251102",
]


@settings(max_examples=150, deadline=None)
@given(
    first=st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2027, 12, 31))
    .map(lambda d: d.replace(second=0, microsecond=0))
    .filter(lambda d: 5 <= d.hour <= 22),
    tz=st.sampled_from(ZONES),
    rule=st.sampled_from(RULES),
    minutes=st.integers(min_value=1, max_value=240),
    window_start=st.datetimes(min_value=datetime(2022, 6, 1), max_value=datetime(2028, 6, 1), timezones=st.just(UTC)),
    span_days=st.integers(min_value=0, max_value=400),
)
def test_occurrence_properties(first, tz, rule, minutes, window_start, span_days):
    window_end = window_start + timedelta(days=span_days, hours=span_days % 24)
    occs = occurrences(cadence(first, rule, tz=tz, minutes=minutes), window_start, window_end)
    starts = [o.start for o in occs]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    for occ in occs:
        assert window_start <= occ.start < window_end
        assert occ.local_start.replace(tzinfo=None).time() == first.time()
        assert occ.local_start.astimezone(UTC) == occ.start  # (== across zones is False in a fold: PEP 495)
        assert occ.local_start.tzinfo == ZoneInfo(tz)
        assert occ.end - occ.start == timedelta(minutes=minutes)
        assert occ.original_start == occ.start
        assert occ.start.utcoffset() == timedelta(0)
        assert occ.start >= first.replace(tzinfo=ZoneInfo(tz))


@settings(max_examples=50, deadline=None)
@given(
    first=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    tz=st.sampled_from(ZONES),
    rule=st.sampled_from(RULES),
    cut=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
)
def test_splitting_the_window_changes_nothing(first, tz, rule, cut):
    c = cadence(first, rule, tz=tz)
    low, high = utc(2023, 6, 1), utc(2027, 6, 1)
    assert occurrences(c, low, high) == occurrences(c, low, cut) + occurrences(c, cut, high)


@given(
    due=st.datetimes(timezones=st.just(UTC)),
    length=st.timedeltas(min_value=timedelta(0)),
    now=st.datetimes(timezones=st.just(UTC)),
)
def test_is_sendable_matches_its_definition(due, length, now):
    try:
        expires = due + length
    except OverflowError:
        return
    assert is_sendable(due, expires, now) == (due <= now < expires)
