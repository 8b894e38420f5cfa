"""Tests for the hours policy.

Expected values are worked out by hand (comments show the arithmetic) or, in
property tests, checked against a brute-force "set of covered seconds"
oracle, never by calling the code under test a second way.
"""

from __future__ import annotations

import ast
import inspect
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot import hours
from zoombot.hours import (
    Policy,
    Proposal,
    credited_seconds,
    hours_for,
    propose,
    seconds_to_hours,
    split_training,
    union_seconds,
)

M = 60
H = 3600
T0 = datetime(2024, 3, 5, 17, 0, tzinfo=timezone.utc)


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


# --- union_seconds ---------------------------------------------------------


def test_union_empty():
    assert union_seconds([]) == 0


def test_union_single():
    assert union_seconds([sp(0, mm(90))]) == mm(90)


def test_union_overlapping():
    assert union_seconds([sp(0, mm(60)), sp(mm(30), mm(90))]) == mm(90)


def test_union_nested():
    assert union_seconds([sp(0, mm(120)), sp(mm(30), mm(60))]) == mm(120)


def test_union_touching():
    assert union_seconds([sp(0, mm(30)), sp(mm(30), mm(60))]) == mm(60)


def test_union_disjoint():
    assert union_seconds([sp(0, mm(30)), sp(mm(60), mm(90))]) == mm(60)


def test_union_unsorted_and_duplicated():
    spans = [sp(mm(60), mm(90)), sp(0, mm(30)), sp(mm(60), mm(90)), sp(0, mm(30))]
    assert union_seconds(spans) == mm(60)


def test_union_chain_bridged_by_a_later_span():
    # [0,10] and [20,30] are joined by [5,25] -> one block [0,30]
    assert union_seconds([sp(0, 10), sp(20, 30), sp(5, 25)]) == 30


def test_union_accepts_generators():
    assert union_seconds(sp(i * 100, i * 100 + 50) for i in range(3)) == 150


def test_union_zero_length_span_counts_nothing():
    assert union_seconds([sp(100, 100)]) == 0
    assert union_seconds([sp(0, 60), sp(100, 100)]) == 60


def test_union_drops_sub_second_remainder_of_total_only():
    # 0.6 s + 0.6 s = 1.2 s -> 1 (the total is truncated, not each span)
    assert union_seconds([sp(0, 0.6), sp(10, 10.6)]) == 1


def test_union_mixed_utc_offsets_compare_as_instants():
    plus_two = timezone(timedelta(hours=2))
    same_start_in_plus_two = T0.astimezone(plus_two)
    spans = [(same_start_in_plus_two, at(mm(60))), sp(mm(30), mm(90))]
    assert union_seconds(spans) == mm(90)


def test_union_rejects_inverted_span():
    with pytest.raises(ValueError, match="span"):
        union_seconds([sp(60, 0)])


def test_union_rejects_naive_datetimes():
    naive = datetime(2024, 3, 5, 17, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        union_seconds([(naive, naive + timedelta(minutes=5))])


# --- split_training --------------------------------------------------------


def test_split_without_window_is_all_growth():
    assert split_training([sp(0, mm(120))], None) == (mm(120), 0)


def test_split_window_inside_attendance():
    assert split_training([sp(0, mm(120))], sp(mm(30), mm(60))) == (mm(90), mm(30))


def test_split_window_before_attendance():
    assert split_training([sp(mm(60), mm(120))], sp(0, mm(30))) == (mm(60), 0)


def test_split_window_after_attendance():
    assert split_training([sp(0, mm(60))], sp(mm(90), mm(120))) == (mm(60), 0)


def test_split_window_touching_attendance_end():
    assert split_training([sp(0, mm(60))], sp(mm(60), mm(90))) == (mm(60), 0)


def test_split_window_overlapping_attendance_end():
    assert split_training([sp(0, mm(60))], sp(mm(45), mm(90))) == (mm(45), mm(15))


def test_split_window_overlapping_attendance_start():
    assert split_training([sp(mm(30), mm(90))], sp(0, mm(45))) == (mm(45), mm(15))


def test_split_attendance_entirely_inside_window():
    assert split_training([sp(mm(10), mm(50))], sp(0, mm(60))) == (0, mm(40))


def test_split_overlapping_spans_not_double_counted():
    # union [0,60]; window [30,50] -> training 20, growth 40
    spans = [sp(0, mm(40)), sp(mm(20), mm(60))]
    assert split_training(spans, sp(mm(30), mm(50))) == (mm(40), mm(20))


def test_split_gap_in_attendance_during_window():
    # present [0,30] and [60,90]; window [20,70] -> training 10 + 10
    spans = [sp(0, mm(30)), sp(mm(60), mm(90))]
    assert split_training(spans, sp(mm(20), mm(70))) == (mm(40), mm(20))


def test_split_no_attendance():
    assert split_training([], sp(0, mm(30))) == (0, 0)


def test_split_parts_sum_to_union_with_fractional_seconds():
    spans = [sp(0, 10.6)]
    growth, training = split_training(spans, sp(0.5, 5))  # training 4.5 s
    assert (growth, training) == (6, 4)
    assert growth + training == union_seconds(spans) == 10


def test_split_rejects_inverted_window():
    with pytest.raises(ValueError, match="training window"):
        split_training([sp(0, 60)], sp(60, 0))


# --- propose -----------------------------------------------------------------


def test_propose_without_window_is_one_growth_row():
    spans = [sp(0, mm(50)), sp(mm(40), mm(105))]  # union 1:45
    result = propose(spans, DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None)
    assert result == [Proposal("growth", mm(105), hrs("1.75"))]


def test_propose_without_window_below_minimum():
    result = propose([sp(0, mm(29, 59))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None)
    assert result == [Proposal("growth", mm(29, 59), hrs("0.00"))]


def test_propose_with_window_typical_meeting():
    result = propose(
        [sp(0, mm(120))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(mm(60), mm(90)),
    )
    assert result == [
        Proposal("growth", mm(90), hrs("1.50")),
        Proposal("training", mm(30), hrs("0.50")),
    ]


def test_propose_window_missed_still_shows_training_row():
    result = propose(
        [sp(0, mm(60))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(mm(90), mm(120)),
    )
    assert result == [Proposal("growth", mm(60), hrs("1.00")), Proposal("training", 0, hrs("0.00"))]


def test_propose_only_training_still_shows_growth_row():
    result = propose(
        [sp(mm(10), mm(55))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(0, mm(60)),
    )
    assert result == [Proposal("growth", 0, hrs("0.00")), Proposal("training", mm(45), hrs("0.75"))]


def test_propose_minimum_applies_to_total_not_parts():
    # 20 min training + 20 min growth = 40 min >= 30: each part floors to 15 min
    result = propose(
        [sp(0, mm(40))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(0, mm(20)),
    )
    assert result == [Proposal("growth", mm(20), hrs("0.25")), Proposal("training", mm(20), hrs("0.25"))]


def test_propose_total_below_minimum_gives_zero_for_both():
    result = propose(
        [sp(0, mm(25))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(0, mm(20)),
    )
    assert result == [Proposal("growth", mm(5), hrs("0.00")), Proposal("training", mm(20), hrs("0.00"))]


def test_propose_cap_takes_training_first():
    # 2:30 present, cap 2:00; training 1:00 -> growth gets the remaining 1:00
    result = propose(
        [sp(0, mm(150))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(0, mm(60)),
    )
    assert result == [Proposal("growth", mm(90), hrs("1.00")), Proposal("training", mm(60), hrs("1.00"))]


def test_propose_training_window_longer_than_cap():
    # cap 1:00, window 1:30 fully attended: training fills the cap, growth gets nothing
    result = propose(
        [sp(0, mm(120))], DEFAULT, scheduled_seconds=mm(60), meeting_seconds=None,
        training_window=sp(0, mm(90)),
    )
    assert result == [Proposal("growth", mm(30), hrs("0.00")), Proposal("training", mm(90), hrs("1.00"))]


def test_propose_cap_meeting_mode_uses_meeting_length():
    policy = Policy(cap="meeting")
    result = propose(
        [sp(0, mm(150))], policy, scheduled_seconds=mm(60), meeting_seconds=mm(135),
        training_window=sp(mm(60), mm(90)),
    )
    # training 30; growth min(120, 135 - 30 = 105) -> 105 = 1.75
    assert result == [Proposal("growth", mm(120), hrs("1.75")), Proposal("training", mm(30), hrs("0.50"))]


def test_propose_down_rounding_of_parts_can_lose_a_little():
    # training 40 -> 30, growth 50 -> 45: 1.25 while the 90-minute total alone gives 1.50
    result = propose(
        [sp(0, mm(90))], DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(0, mm(40)),
    )
    assert result == [Proposal("growth", mm(50), hrs("0.75")), Proposal("training", mm(40), hrs("0.50"))]


def test_propose_nearest_clamps_growth_to_total():
    # training 7:30 -> 15, growth 7:30 -> 15, but the 15:00 total only earns 15
    result = propose(
        [sp(0, mm(15))], NEAREST_NO_MIN, scheduled_seconds=None, meeting_seconds=None,
        training_window=sp(0, mm(7, 30)),
    )
    assert result == [Proposal("growth", mm(7, 30), hrs("0.00")), Proposal("training", mm(7, 30), hrs("0.25"))]


def test_propose_nearest_clamps_when_total_rounds_down_at_cap():
    policy = Policy(rounding="nearest")
    # cap 1:40 -> total credit 1:30 (1:45 would pass the cap)
    # training 55 -> 60; growth min(65, 100 - 55 = 45) -> 45, clamped to 90 - 60 = 30
    result = propose(
        [sp(0, mm(120))], policy, scheduled_seconds=mm(100), meeting_seconds=None,
        training_window=sp(0, mm(55)),
    )
    assert result == [Proposal("growth", mm(65), hrs("0.50")), Proposal("training", mm(55), hrs("1.00"))]


def test_propose_growth_is_capped_before_rounding():
    # cap 1:40; training 44 -> 30; growth gets min(76, 100 - 44 = 56) -> 45.
    # (Rounding each part loses up to one increment against the total's 1:30.)
    result = propose(
        [sp(0, mm(120))], DEFAULT, scheduled_seconds=mm(100), meeting_seconds=None,
        training_window=sp(0, mm(44)),
    )
    assert result == [Proposal("growth", mm(76), hrs("0.75")), Proposal("training", mm(44), hrs("0.50"))]


def test_propose_nearest_training_limited_to_total_credit():
    # cap 1:40 -> total credit 1:30. training 98 -> nearest 1:45, limited to 1:30;
    # growth min(22, 100 - 98 = 2) -> 0
    result = propose(
        [sp(0, mm(120))], NEAREST, scheduled_seconds=mm(100), meeting_seconds=None,
        training_window=sp(0, mm(98)),
    )
    assert result == [Proposal("growth", mm(22), hrs("0.00")), Proposal("training", mm(98), hrs("1.50"))]


def test_propose_growth_clamped_in_seconds_before_cents():
    # 1-minute nearest: training 1:30 -> 2 min, growth 2:30 -> 3 min, total 4:00 -> 4 min.
    # Growth is clamped to 4 - 2 = 2 min (0.03 h), a whole number of increments,
    # not to the cent difference 0.07 - 0.03 = 0.04.
    policy = Policy(increment_minutes=1, rounding="nearest", minimum_minutes=0, cap="none")
    result = propose(
        [sp(0, mm(4))], policy, scheduled_seconds=None, meeting_seconds=None,
        training_window=sp(0, mm(1, 30)),
    )
    assert result == [Proposal("growth", mm(2, 30), hrs("0.03")), Proposal("training", mm(1, 30), hrs("0.03"))]


def test_propose_display_cents_never_exceed_total():
    # 1-minute increments: each minute shows as 0.02 h but two minutes are 0.03 h
    policy = Policy(increment_minutes=1, minimum_minutes=0, cap="none")
    result = propose(
        [sp(0, mm(2))], policy, scheduled_seconds=None, meeting_seconds=None,
        training_window=sp(0, mm(1)),
    )
    assert result == [Proposal("growth", mm(1), hrs("0.01")), Proposal("training", mm(1), hrs("0.02"))]


def test_propose_overlapping_devices_counted_once():
    # laptop [0,90] and phone [30,120]: union 2:00; window [60,90]
    spans = [sp(0, mm(90)), sp(mm(30), mm(120))]
    result = propose(
        spans, DEFAULT, scheduled_seconds=mm(120), meeting_seconds=None,
        training_window=sp(mm(60), mm(90)),
    )
    assert result == [Proposal("growth", mm(90), hrs("1.50")), Proposal("training", mm(30), hrs("0.50"))]


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

# Small integer-second spans so a set of covered seconds is a cheap oracle.
small_spans = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 300)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=8,
)


def as_spans(pairs):
    return [sp(a, b) for a, b in pairs]


def covered(pairs) -> set[int]:
    """Every whole second [s, s+1) that some span covers."""
    return {second for a, b in pairs for second in range(a, b)}


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


@given(small_spans, st.randoms(use_true_random=False))
def test_prop_union_order_independent_and_idempotent(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    expected = union_seconds(as_spans(pairs))
    assert union_seconds(as_spans(shuffled)) == expected
    assert union_seconds(as_spans(pairs + pairs)) == expected


@given(small_spans)
def test_prop_union_matches_covered_seconds(pairs):
    total = union_seconds(as_spans(pairs))
    assert total == len(covered(pairs))
    assert total <= sum(b - a for a, b in pairs)
    assert total >= max((b - a for a, b in pairs), default=0)


@given(small_spans, st.tuples(st.integers(0, 900), st.integers(0, 300)))
def test_prop_split_matches_covered_seconds(pairs, window_pair):
    start, length = window_pair
    window = set(range(start, start + length))
    growth, training = split_training(as_spans(pairs), sp(start, start + length))
    assert training == len(covered(pairs) & window)
    assert growth == len(covered(pairs) - window)
    assert growth + training == union_seconds(as_spans(pairs))


@settings(max_examples=300)
@given(
    small_spans.map(lambda ps: [(a * 20, b * 20) for a, b in ps]),  # up to ~5h of spans
    st.tuples(st.integers(0, 18000), st.integers(0, 6000)),
    policies,
    lengths,
    lengths,
)
def test_prop_propose_never_beats_the_total(pairs, window_pair, policy, scheduled, meeting):
    spans = as_spans(pairs)
    start, length = window_pair
    kw = {"scheduled_seconds": scheduled, "meeting_seconds": meeting}
    growth, training = propose(spans, policy, training_window=sp(start, start + length), **kw)
    total = union_seconds(spans)
    assert (growth.kind, training.kind) == ("growth", "training")
    assert growth.attended_seconds + training.attended_seconds == total
    assert growth.hours >= 0 and training.hours >= 0
    assert growth.hours + training.hours <= hours_for(total, policy, **kw)
    if total < policy.minimum_minutes * M:
        assert growth.hours == training.hours == 0
    if policy.rounding == "down" and policy.increment_minutes % 3 == 0:
        # floors only: each part is at most its own raw seconds
        assert growth.hours * H <= growth.attended_seconds
        assert training.hours * H <= training.attended_seconds


@given(small_spans.map(lambda ps: [(a * 20, b * 20) for a, b in ps]), policies, lengths, lengths)
def test_prop_propose_without_window_equals_hours_for(pairs, policy, scheduled, meeting):
    spans = as_spans(pairs)
    kw = {"scheduled_seconds": scheduled, "meeting_seconds": meeting}
    total = union_seconds(spans)
    assert propose(spans, policy, **kw) == [Proposal("growth", total, hours_for(total, policy, **kw))]
