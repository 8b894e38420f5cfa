"""Tests for the hours policy.

Expected values are worked out by hand (comments show the arithmetic) or, in
property tests, checked against a brute-force "set of covered seconds"
oracle, never by calling the code under test a second way.
"""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.core import hours
from zoombot.core.hours import Policy, below_minimum, credited_seconds, hours_for, seconds_to_hours

M = 60
H = 3600
T0 = datetime(2024, 3, 5, 17, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sp(start: float, end: float) -> tuple[datetime, datetime]:
    """A span given in seconds after T0."""
    return (at(start), at(end))


def mm(minutes: int, seconds: int = 0) -> int:
    """Duration in seconds, written like a clock: mm(29, 59) == 29:59."""
    return minutes * M + seconds


def hrs(text: str) -> Decimal:
    return Decimal(text)


def no_cap(attended: int, policy: Policy) -> Decimal:
    return hours_for(attended, policy, scheduled_seconds=None, meeting_seconds=None)


DEFAULT = Policy()
NEAREST = Policy(rounding="nearest")
NEAREST_NO_MIN = Policy(rounding="nearest", minimum_minutes=0)


# --- Policy ----------------------------------------------------------------


def test_policy_defaults():
    assert (DEFAULT.increment_minutes, DEFAULT.rounding, DEFAULT.minimum_minutes, DEFAULT.cap) == (
        15,
        "down",
        30,
        "scheduled",
    )


def test_policy_is_frozen():
    with pytest.raises(AttributeError):
        DEFAULT.cap = "none"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"increment_minutes": 0}, "increment_minutes"),
        ({"increment_minutes": -15}, "increment_minutes"),
        ({"increment_minutes": 241}, "increment_minutes"),
        ({"increment_minutes": 15.0}, "increment_minutes"),
        ({"increment_minutes": "15"}, "increment_minutes"),
        ({"increment_minutes": True}, "increment_minutes"),
        ({"increment_minutes": None}, "increment_minutes"),
        ({"minimum_minutes": -1}, "minimum_minutes"),
        ({"minimum_minutes": "30"}, "minimum_minutes"),
        ({"minimum_minutes": 30.5}, "minimum_minutes"),
        ({"minimum_minutes": False}, "minimum_minutes"),
        ({"rounding": "up"}, "rounding"),
        ({"rounding": "Down"}, "rounding"),
        ({"rounding": ""}, "rounding"),
        ({"rounding": None}, "rounding"),
        ({"cap": "actual"}, "cap"),
        ({"cap": "Scheduled"}, "cap"),
        ({"cap": None}, "cap"),
    ],
)
def test_invalid_policy_values_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        Policy(**kwargs)


@pytest.mark.parametrize("increment", [1, 5, 15, 60, 240])
def test_increment_limits_accepted(increment):
    assert Policy(increment_minutes=increment).increment_minutes == increment


@pytest.mark.parametrize("rounding", ["down", "nearest"])
@pytest.mark.parametrize("cap", ["scheduled", "meeting", "none"])
def test_all_modes_accepted(rounding, cap):
    Policy(rounding=rounding, cap=cap, minimum_minutes=0)


def test_describe_default_matches_staff_wording():
    assert DEFAULT.describe() == (
        "Attendance under 30 minutes earns no hours. Time is capped at the scheduled "
        "length of the meeting and rounded down to the nearest 15 minutes."
    )


def test_describe_other_modes():
    policy = Policy(increment_minutes=1, rounding="nearest", minimum_minutes=0, cap="none")
    assert policy.describe() == (
        "Any attendance can earn hours. Time is not capped and is rounded to the "
        "nearest minute (exactly halfway rounds up)."
    )
    policy = Policy(increment_minutes=30, minimum_minutes=1, cap="meeting")
    assert policy.describe() == (
        "Attendance under 1 minute earns no hours. Time is capped at how long the "
        "meeting actually ran and rounded down to the nearest 30 minutes."
    )


# --- hours_for: minimum and rounding boundaries ------------------------------


@pytest.mark.parametrize(
    ("attended", "expected"),
    [
        (0, "0.00"),
        (mm(29, 59), "0.00"),  # one second short of the 30-minute minimum
        (mm(30), "0.50"),  # exactly the minimum; already a multiple of 15
        (mm(44, 59), "0.50"),  # floors to 30 minutes
        (mm(45), "0.75"),
        (mm(59, 59), "0.75"),
        (mm(60), "1.00"),
        (mm(104, 59), "1.50"),  # 1:44:59 -> 1:30
        (mm(105), "1.75"),  # 1:45
        (mm(120), "2.00"),
    ],
)
def test_default_policy_minimum_and_round_down(attended, expected):
    assert hours_for(attended, DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None) == hrs(expected)


@pytest.mark.parametrize(
    ("attended", "expected"),
    [
        (mm(7, 29), "0.00"),  # just under half an increment -> 0
        (mm(7, 30), "0.25"),  # exact half rounds up to 15 minutes
        (mm(22, 29), "0.25"),  # 22:29 -> 15
        (mm(22, 30), "0.50"),  # 22:30 -> 30
        (mm(52, 29), "0.75"),  # 52:29 -> 45
        (mm(52, 30), "1.00"),  # 52:30 -> 60
    ],
)
def test_nearest_half_rounds_up(attended, expected):
    assert no_cap(attended, NEAREST_NO_MIN) == hrs(expected)


def test_nearest_still_respects_minimum():
    # 29:59 would round to 30:00, but the minimum looks at real attendance.
    assert no_cap(mm(29, 59), NEAREST) == hrs("0.00")
    assert no_cap(mm(30), NEAREST) == hrs("0.50")
    assert no_cap(mm(37, 29), NEAREST) == hrs("0.50")
    assert no_cap(mm(37, 30), NEAREST) == hrs("0.75")


def test_minimum_zero_counts_any_attendance():
    policy = Policy(minimum_minutes=0)
    assert no_cap(mm(14, 59), policy) == hrs("0.00")  # floors to 0 increments
    assert no_cap(mm(15), policy) == hrs("0.25")


def test_minimum_larger_than_increment():
    policy = Policy(minimum_minutes=90, increment_minutes=60)
    assert no_cap(mm(89, 59), policy) == hrs("0.00")
    assert no_cap(mm(90), policy) == hrs("1.00")  # 90 min floors to 60


def test_one_minute_increment_converts_to_two_decimals_half_up():
    policy = Policy(increment_minutes=1, minimum_minutes=0)
    assert no_cap(mm(1), policy) == hrs("0.02")  # 1/60 h = 0.01666.. -> 0.02
    assert no_cap(mm(61, 59), policy) == hrs("1.02")  # 61 min = 1.01666.. h
    assert no_cap(mm(62), policy) == hrs("1.03")  # 1.0333.. h


def test_ten_minute_nearest_half_is_five_minutes():
    policy = Policy(increment_minutes=10, rounding="nearest", minimum_minutes=0)
    assert no_cap(mm(4, 59), policy) == hrs("0.00")
    assert no_cap(mm(5), policy) == hrs("0.17")  # 10 min = 0.1666.. h


def test_largest_increment():
    policy = Policy(increment_minutes=240, minimum_minutes=0)
    assert no_cap(mm(239, 59), policy) == hrs("0.00")
    assert no_cap(mm(240), policy) == hrs("4.00")


def test_hours_have_exactly_two_decimal_places():
    for attended in (0, mm(30), mm(105), mm(600)):
        value = no_cap(attended, DEFAULT)
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0.00"), (17, "0.00"), (18, "0.01"), (3600, "1.00"), (5400, "1.50"), (6300, "1.75")],
)
def test_seconds_to_hours(seconds, expected):
    # 18 s = 0.005 h exactly, the half-up boundary.
    assert seconds_to_hours(seconds) == hrs(expected)
    assert str(seconds_to_hours(seconds)) == expected


# --- hours_for: caps ---------------------------------------------------------


def test_cap_scheduled():
    assert hours_for(mm(150), DEFAULT, scheduled_seconds=mm(120), meeting_seconds=mm(200)) == hrs("2.00")


def test_cap_scheduled_ignores_meeting_length():
    assert hours_for(mm(150), DEFAULT, scheduled_seconds=mm(180), meeting_seconds=mm(60)) == hrs("2.50")


def test_cap_scheduled_unknown_length_means_no_cap():
    assert hours_for(mm(150), DEFAULT, scheduled_seconds=None, meeting_seconds=mm(60)) == hrs("2.50")


def test_cap_meeting():
    policy = Policy(cap="meeting")
    # meeting ran 1:40; floor to 15 -> 1:30
    assert hours_for(mm(150), policy, scheduled_seconds=mm(120), meeting_seconds=mm(100)) == hrs("1.50")


def test_cap_meeting_ignores_scheduled_length():
    policy = Policy(cap="meeting")
    assert hours_for(mm(150), policy, scheduled_seconds=mm(60), meeting_seconds=mm(135)) == hrs("2.25")


def test_cap_meeting_unknown_length_means_no_cap():
    policy = Policy(cap="meeting")
    assert hours_for(mm(150), policy, scheduled_seconds=mm(60), meeting_seconds=None) == hrs("2.50")


def test_cap_none_ignores_both_lengths():
    policy = Policy(cap="none")
    assert hours_for(mm(150), policy, scheduled_seconds=mm(60), meeting_seconds=mm(60)) == hrs("2.50")


def test_attendance_under_cap_is_not_raised_to_cap():
    assert hours_for(mm(95), DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None) == hrs("1.50")


def test_zero_length_cap_gives_zero():
    assert hours_for(mm(90), DEFAULT, scheduled_seconds=0, meeting_seconds=None) == hrs("0.00")


def test_cap_below_minimum_still_credits_capped_time():
    # The minimum judges attendance; the cap then limits the credit.
    assert hours_for(mm(40), DEFAULT, scheduled_seconds=mm(20), meeting_seconds=None) == hrs("0.25")


def test_nearest_never_rounds_past_the_cap():
    policy = Policy(rounding="nearest", cap="meeting")
    # capped at 1:40; nearest 15 would be 1:45 > cap, so it rounds down to 1:30
    assert hours_for(mm(150), policy, scheduled_seconds=None, meeting_seconds=mm(100)) == hrs("1.50")
    # 1:38 under a 2:00 cap rounds to 1:45 as usual
    assert hours_for(mm(98), policy, scheduled_seconds=None, meeting_seconds=mm(120)) == hrs("1.75")


def test_nearest_exactly_on_cap_is_kept():
    policy = Policy(rounding="nearest")
    assert hours_for(mm(130), policy, scheduled_seconds=mm(120), meeting_seconds=None) == hrs("2.00")


@pytest.mark.parametrize(
    ("attended", "scheduled", "meeting", "key"),
    [
        (-1, None, None, "attended_seconds"),
        (1.5, None, None, "attended_seconds"),
        (None, None, None, "attended_seconds"),
        (mm(60), -1, None, "scheduled_seconds"),
        (mm(60), None, -1, "meeting_seconds"),
        (mm(60), "7200", None, "scheduled_seconds"),
    ],
)
def test_hours_for_rejects_bad_lengths(attended, scheduled, meeting, key):
    with pytest.raises(ValueError, match=key):
        hours_for(attended, DEFAULT, scheduled_seconds=scheduled, meeting_seconds=meeting)


def test_lengths_are_keyword_only_and_required():
    with pytest.raises(TypeError):
        hours_for(mm(60), DEFAULT, mm(120), None)  # type: ignore[misc]
    with pytest.raises(TypeError):
        hours_for(mm(60), DEFAULT)  # type: ignore[call-arg]


# --- percentage minimum --------------------------------------------------------


def test_percent_minimum_of_the_scheduled_length():
    policy = Policy(minimum_minutes=0, attendance_percent_minimum=75)
    # 75% of a scheduled 2 h is 90 minutes: 89:59 earns nothing, 90:00 earns 1.50 h
    assert hours_for(mm(89, 59), policy, scheduled_seconds=mm(120), meeting_seconds=mm(130)) == hrs("0.00")
    assert hours_for(mm(90), policy, scheduled_seconds=mm(120), meeting_seconds=mm(130)) == hrs("1.50")
    assert below_minimum(mm(60), policy, scheduled_seconds=mm(120), meeting_seconds=None) == (
        "attended 50% of the scheduled 120 min, under the 75% minimum"
    )


def test_percent_minimum_falls_back_to_the_actual_length():
    policy = Policy(minimum_minutes=0, attendance_percent_minimum=50)
    assert below_minimum(mm(29), policy, scheduled_seconds=None, meeting_seconds=mm(60)) == (
        "attended 48% of the actual 60 min, under the 50% minimum"
    )
    assert below_minimum(mm(30), policy, scheduled_seconds=None, meeting_seconds=mm(60)) is None
    assert below_minimum(mm(1), policy, scheduled_seconds=None, meeting_seconds=None) is None  # nothing to compare


def test_both_minimums_apply():
    policy = Policy(minimum_minutes=30, attendance_percent_minimum=10)
    assert below_minimum(mm(20), policy, scheduled_seconds=mm(120), meeting_seconds=None) == (
        "attended 20 min, under the 30 minutes minimum"
    )


@pytest.mark.parametrize("value", [-1, 101, True, 50.0])
def test_percent_minimum_is_checked(value):
    with pytest.raises(ValueError, match="attendance_percent_minimum"):
        Policy(attendance_percent_minimum=value)


# --- purity ------------------------------------------------------------------


def test_module_imports_only_standard_library():
    allowed = {"__future__", "collections", "dataclasses", "datetime", "decimal", "enum", "typing"}
    tree = ast.parse(inspect.getsource(hours))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= allowed


# --- properties ----------------------------------------------------------------

policies = st.builds(
    Policy,
    increment_minutes=st.integers(1, 240),
    rounding=st.sampled_from(["down", "nearest"]),
    minimum_minutes=st.integers(0, 180),
    cap=st.sampled_from(["scheduled", "meeting", "none"]),
)
seconds = st.integers(0, 12 * H)
lengths = st.none() | st.integers(0, 4 * H)


def cap_of(policy, scheduled, meeting):
    return {"scheduled": scheduled, "meeting": meeting, "none": None}[policy.cap]


@given(policies, seconds, lengths, lengths)
def test_prop_never_exceeds_cap(policy, attended, scheduled, meeting):
    cap = cap_of(policy, scheduled, meeting)
    credit = credited_seconds(attended, policy, scheduled_seconds=scheduled, meeting_seconds=meeting)
    value = hours_for(attended, policy, scheduled_seconds=scheduled, meeting_seconds=meeting)
    if cap is not None:
        assert credit <= cap
        # 2-dp display may round the exact hours by at most half a cent
        assert Fraction(value) <= Fraction(cap, H) + Fraction(1, 200)
        if cap % 36 == 0:  # 36 s = 0.01 h, so the cap is exact in cents: no slack
            assert value * H <= cap


@given(policies, seconds, seconds, lengths, lengths)
def test_prop_monotone_in_attendance(policy, a, b, scheduled, meeting):
    low, high = sorted((a, b))
    kw = {"scheduled_seconds": scheduled, "meeting_seconds": meeting}
    assert hours_for(low, policy, **kw) <= hours_for(high, policy, **kw)


@given(policies, seconds, lengths, lengths)
def test_prop_multiple_of_increment(policy, attended, scheduled, meeting):
    kw = {"scheduled_seconds": scheduled, "meeting_seconds": meeting}
    credit = credited_seconds(attended, policy, **kw)
    value = hours_for(attended, policy, **kw)
    assert credit % (policy.increment_minutes * M) == 0
    assert abs(Fraction(value) - Fraction(credit, H)) <= Fraction(1, 200)
    if policy.increment_minutes % 3 == 0:  # 3 minutes = 0.05 h, exact in 2 dp
        assert (value * 60) % policy.increment_minutes == 0


@given(policies, seconds, lengths, lengths)
def test_prop_rounding_stays_within_one_increment(policy, attended, scheduled, meeting):
    cap = cap_of(policy, scheduled, meeting)
    capped = attended if cap is None else min(attended, cap)
    credit = credited_seconds(attended, policy, scheduled_seconds=scheduled, meeting_seconds=meeting)
    if attended >= policy.minimum_minutes * M:
        increment = policy.increment_minutes * M
        assert abs(credit - capped) < increment
        if policy.rounding == "down":
            assert credit <= capped


@given(policies, seconds, lengths, lengths)
def test_prop_zero_below_minimum(policy, attended, scheduled, meeting):
    value = hours_for(attended, policy, scheduled_seconds=scheduled, meeting_seconds=meeting)
    if attended < policy.minimum_minutes * M:
        assert value == 0
