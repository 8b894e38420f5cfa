"""Pure parts of review: participant flags, hours typed by reviewers, and yearly member totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.core import member_grid
from zoombot.core.participant_flags import participant_flags
from zoombot.store.review import ReviewError, parse_hours

START = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
END = START + timedelta(hours=2)


def codes(**overrides) -> list[str]:
    args = dict(
        matched=True,
        attended_seconds=7200,
        devices=1,
        is_host=False,
        incomplete=False,
        intervals=[(START, END, "webhook")],
        live_start=START,
        live_end=END,
        minimum_seconds=1800,
    )
    args.update(overrides)
    return [f.code for f in participant_flags(**args)]


def test_a_plain_full_attendance_has_no_flags():
    assert codes() == []


def test_each_flag():
    assert codes(matched=False) == ["unmatched"]
    assert codes(attended_seconds=1799) == ["below_minimum"]
    assert codes(devices=2) == ["devices"]
    assert codes(is_host=True) == ["host"]
    assert codes(intervals=[(START, END, "report")]) == ["report"]
    assert codes(incomplete=True) == ["incomplete"]
    assert codes(intervals=[], attended_seconds=0, incomplete=True) == ["incomplete"]
    assert codes(intervals=[], attended_seconds=0) == []


def test_late_join_and_early_leave_allow_ten_minutes():
    ten = timedelta(minutes=10)
    assert codes(intervals=[(START + ten, END - ten, "webhook")]) == []
    second = timedelta(seconds=1)
    assert codes(intervals=[(START + ten + second, END - ten - second, "webhook")]) == ["late_join", "early_leave"]
    # rejoins: the first join and the last leave count
    assert codes(intervals=[(START, START + ten, "webhook"), (END - ten, END, "webhook")]) == []


@pytest.mark.parametrize(
    "typed,hours",
    [
        ("1.5", Decimal("1.50")),
        ("1,25", Decimal("1.25")),
        (" 0 ", Decimal("0.00")),
        ("24", Decimal("24.00")),
        (Decimal("2.005"), Decimal("2.00")),
    ],
)
def test_parse_hours(typed, hours):
    assert parse_hours(typed) == hours


@pytest.mark.parametrize("typed", ["", "abc", "-0.5", "24.5", "NaN", "Infinity"])
def test_parse_hours_refuses(typed):
    with pytest.raises(ReviewError):
        parse_hours(typed)


def _fact(year: int, kind: str, status: str, hours: Decimal) -> member_grid.Fact:
    growth, training = (hours, Decimal(0)) if kind == "growth" else (Decimal(0), hours)
    return member_grid.Fact(1, date(year, 3, 1), status, growth, training)


def test_yearly_totals_keep_kinds_and_statuses_apart():
    rows = [
        (2026, "growth", "approved", Decimal("1.75")),
        (2026, "training", "approved", Decimal("0.50")),
        (2026, "growth", "pending", Decimal("1.25")),
        (2026, "growth", "rejected", Decimal("9")),
        (2025, "growth", "approved", Decimal("15.25")),
    ]
    first, second = member_grid.member_years([_fact(*r) for r in rows], 1, 15)
    assert first.year == 2026 and second.year == 2025
    assert first.total.approved == {"growth": Decimal("1.75"), "training": Decimal("0.50")}
    assert first.total.pending == {"growth": Decimal("1.25"), "training": Decimal("0.00")}
    assert (first.total.approved_total, first.remaining, first.percent) == (Decimal("2.25"), Decimal("12.75"), 15)
    assert (second.remaining, second.percent) == (Decimal("0.00"), 100)
    assert member_grid.member_years([], 1, 15) == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from([2025, 2026]),
            st.sampled_from(["growth", "training"]),
            st.sampled_from(["approved", "pending", "rejected"]),
            st.decimals(min_value=0, max_value=24, places=2),
        )
    )
)
def test_yearly_totals_add_up(rows):
    by_year = {y.year: y for y in member_grid.member_years([_fact(*r) for r in rows], 1, 15)}
    for year in {r[0] for r in rows}:
        counted = [r for r in rows if r[0] == year and r[2] != "rejected"]
        if not counted:
            assert year not in by_year
            continue
        summary = by_year[year]
        assert summary.total.approved_total + summary.total.pending_total == sum((r[3] for r in counted), Decimal(0))
        assert 0 <= summary.percent <= 100
