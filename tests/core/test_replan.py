"""zoombot.core.schedule.replan: after a schedule edit, upcoming meetings move (same identity, so an update)
rather than being cancelled and invited again; dropped ones are cancelled, new ones created."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.schedule import Cadence, PlannedRow, occurrences, replan

UTC = UTC
NY = ZoneInfo("America/New_York")
WINDOW = (datetime(2026, 10, 14, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def wanted(first: datetime, rrule: str = "FREQ=MONTHLY;BYDAY=2TU", minutes: int = 120, tz: str = "America/New_York"):
    return occurrences(Cadence(first, tz, minutes, rrule), *WINDOW)


def rows_for(occs, first_id: int = 1) -> list[PlannedRow]:
    return [PlannedRow(id=first_id + i, planned_start=o.start, start=o.start, end=o.end) for i, o in enumerate(occs)]


NOV10 = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # 18:30 EST
DEC8 = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)


def test_an_unchanged_schedule_changes_nothing():
    occs = wanted(datetime(2026, 9, 8, 18, 30))
    plan = replan(rows_for(occs), occs, "America/New_York")
    assert (plan.create, plan.move, plan.cancel) == ((), (), ())


def test_a_later_time_of_day_moves_each_meeting_on_its_day():
    rows = rows_for(wanted(datetime(2026, 9, 8, 18, 30)))
    plan = replan(rows, wanted(datetime(2026, 9, 8, 19, 0)), "America/New_York")
    half_hour = timedelta(minutes=30)
    assert plan.move == (
        (1, NOV10 + half_hour, NOV10 + half_hour, NOV10 + half_hour + timedelta(hours=2)),
        (2, DEC8 + half_hour, DEC8 + half_hour, DEC8 + half_hour + timedelta(hours=2)),
    )
    assert (plan.create, plan.cancel) == ((), ())


def test_a_new_length_moves_the_end_only():
    rows = rows_for(wanted(datetime(2026, 9, 8, 18, 30)))
    plan = replan(rows, wanted(datetime(2026, 9, 8, 18, 30), minutes=90), "America/New_York")
    assert plan.move == (
        (1, NOV10, NOV10, NOV10 + timedelta(minutes=90)),
        (2, DEC8, DEC8, DEC8 + timedelta(minutes=90)),
    )


def test_another_weekday_cancels_and_creates():
    rows = rows_for(wanted(datetime(2026, 9, 8, 18, 30)))
    third = wanted(datetime(2026, 9, 15, 18, 30), "FREQ=MONTHLY;BYDAY=3TU")
    plan = replan(rows, third, "America/New_York")
    assert plan.cancel == (1, 2) and plan.move == ()
    assert [o.start for o in plan.create] == [
        datetime(2026, 10, 20, 22, 30, tzinfo=UTC),
        datetime(2026, 11, 17, 23, 30, tzinfo=UTC),
        datetime(2026, 12, 15, 23, 30, tzinfo=UTC),
    ]


def test_a_move_made_in_zoom_is_kept_and_a_schedule_catching_up_with_it_tells_nobody():
    occs = wanted(datetime(2026, 9, 8, 18, 30))
    nov12 = datetime(2026, 11, 12, 23, 30, tzinfo=UTC)
    rows = [PlannedRow(1, NOV10, nov12, nov12 + timedelta(hours=2))] + rows_for(occs[1:], first_id=2)
    assert replan(rows, occs, "America/New_York") == replan(rows_for(occs), occs, "America/New_York")
    # Shorter meetings: the one moved in Zoom keeps Zoom's time and length; the other one shrinks.
    plan = replan(rows, wanted(datetime(2026, 9, 8, 18, 30), minutes=60), "America/New_York")
    assert plan.move == ((2, DEC8, DEC8, DEC8 + timedelta(hours=1)),)
    # A schedule moved to where Zoom already put it: the planned start follows, start and end stay.
    moved_row = [PlannedRow(1, NOV10, NOV10 + timedelta(minutes=30), NOV10 + timedelta(minutes=150))]
    later = [o for o in wanted(datetime(2026, 9, 8, 19, 0)) if o.start.month == 11]
    plan = replan(moved_row, later, "America/New_York")
    assert plan.move == ((1, later[0].start, later[0].start, later[0].end),)


def test_undoing_an_edit_moves_back():
    first = wanted(datetime(2026, 9, 8, 18, 30))
    edited = replan(rows_for(first), wanted(datetime(2026, 9, 8, 19, 0)), "America/New_York")
    after_edit = [PlannedRow(row_id, planned, start, end) for row_id, planned, start, end in edited.move]
    plan = replan(after_edit, first, "America/New_York")
    assert [(m[0], m[2]) for m in plan.move] == [(1, NOV10), (2, DEC8)] and plan.cancel == () and plan.create == ()


def test_a_new_zone_keeps_each_meeting_on_its_local_day():
    rows = rows_for(wanted(datetime(2026, 9, 8, 18, 30)))
    plan = replan(rows, wanted(datetime(2026, 9, 8, 18, 30), tz="America/Los_Angeles"), "America/Los_Angeles")
    assert [(m[0], m[2]) for m in plan.move] == [(1, NOV10 + timedelta(hours=3)), (2, DEC8 + timedelta(hours=3))]


@given(
    st.sampled_from(["FREQ=WEEKLY", "FREQ=MONTHLY;BYDAY=2TU", "FREQ=WEEKLY;INTERVAL=2", "FREQ=DAILY;COUNT=20"]),
    st.sampled_from(["FREQ=WEEKLY;BYDAY=TH", "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=WEEKLY", "FREQ=DAILY;COUNT=3"]),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=15, max_value=240),
)
def test_after_any_edit_every_wanted_meeting_is_covered_once(old_rule, new_rule, hour, minutes):
    rows = rows_for(wanted(datetime(2026, 10, 20, 18, 30), old_rule))
    new = wanted(datetime(2026, 10, 21, hour, 0), new_rule, minutes)
    plan = replan(rows, new, "America/New_York")
    moved = {row_id: (start, end) for row_id, _, start, end in plan.move}
    kept = [(r.start, r.end) for r in rows if r.id not in plan.cancel and r.id not in moved]
    result = sorted(kept + list(moved.values()) + [(o.start, o.end) for o in plan.create])
    assert result == sorted((o.start, o.end) for o in new)
    assert set(plan.cancel).isdisjoint(moved) and len(set(plan.cancel)) == len(plan.cancel)
    # Replanning the result changes nothing more.
    after = [
        PlannedRow(r.id, r.planned_start, r.start, r.end) for r in rows if r.id not in plan.cancel and r.id not in moved
    ]
    after += [PlannedRow(row_id, planned, start, end) for row_id, planned, start, end in plan.move]
    after += rows_for(plan.create, first_id=1000)
    again = replan(after, new, "America/New_York")
    assert (again.create, again.move, again.cancel) == ((), (), ())
