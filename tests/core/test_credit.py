"""One credit line per person per session (zoombot.core.credit): the policy once on the total, training carved
out of it. Expectations are computed by hand in the comments; properties check the invariants."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core import credit
from zoombot.core.credit import Segment, Session, TrainingRules, check_segments, line
from zoombot.core.hours import Policy, credited_seconds

T0 = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)  # 18:30 in New York
DEFAULT = Policy()  # 15-minute increments, down, 30-minute minimum, capped at the scheduled length


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sp(a: float, b: float) -> tuple[datetime, datetime]:
    return (at(a), at(b))


def seg(a: float, b: float, title: str = "Safe sleep", **kw) -> Segment:
    return Segment(at(a), at(b), title, **kw)


def two_hours(*segments: Segment, live=((0, 120),)) -> Session:
    return Session(tuple(sp(a, b) for a, b in live), 120 * 60, segments)


def h(text: str) -> Decimal:
    return Decimal(text)


def split(result: credit.Line) -> tuple[Decimal, Decimal, Decimal]:
    return result.total_hours, result.growth_hours, result.training_hours


# --- the total -----------------------------------------------------------------------------------------


def test_a_restart_is_one_total_rounded_once():
    # 25 + 92 minutes in two Zoom instances of one session: 117 minutes -> 1.75 h (not 0 + 1.50)
    session = two_hours(live=((0, 30), (33, 130)))
    assert split(line([sp(0, 25), sp(35, 127)], DEFAULT, session)) == (h("1.75"), h("1.75"), h("0.00"))
    # 20 + 22 minutes: 42 minutes, over the 30-minute minimum -> 0.50 h (not nothing)
    assert split(line([sp(5, 25), sp(40, 62)], DEFAULT, session)) == (h("0.50"), h("0.50"), h("0.00"))


def test_below_the_minimum_is_no_credit_with_a_reason():
    result = line([sp(3, 23)], DEFAULT, two_hours())
    assert split(result) == (h("0.00"), h("0.00"), h("0.00"))
    assert result.no_credit == "attended 20 min, under the 30 minutes minimum"


def test_rounding_to_nothing_says_so():
    policy = Policy(minimum_minutes=0)
    assert line([sp(0, 14)], policy, two_hours()).no_credit == "attended 14 min, which rounds to 0 h"
    assert line([], policy, two_hours()).no_credit == "no attendance"


def test_the_cap_holds_with_and_without_training():
    # the meeting ran 125 minutes; the scheduled 120 is the cap
    session = Session((sp(0, 125),), 120 * 60, (seg(0, 125),))
    assert split(line([sp(0, 125)], DEFAULT, session)) == (h("2.00"), h("0.00"), h("2.00"))


# --- training carved out ----------------------------------------------------------------------------


def test_training_is_carved_out_of_the_total():
    # present 0-120, segment 30-60: total 2.00 = 1.50 growth + 0.50 training
    result = line([sp(0, 120)], DEFAULT, two_hours(seg(30, 60)))
    assert split(result) == (h("2.00"), h("1.50"), h("0.50"))
    assert [(c.attended_seconds, c.credited_seconds, c.refused) for c in result.segments] == [(1800, 1800, None)]


def test_marking_a_segment_never_lowers_the_total():
    # Evan: 50-125 (75 min, 1.25 h). Segment 30-60: he was there 10 of its 30 minutes -> 10 rounds down to 0
    # training; growth keeps the whole 1.25 (separate rounding used to give 1.00).
    evan = [sp(50, 125)]
    session = Session((sp(0, 125),), 120 * 60, (seg(30, 60),))
    assert split(line(evan, DEFAULT, session)) == (h("1.25"), h("1.25"), h("0.00"))
    # Alice: 2-40 and 43-125, 120 minutes in all -> 2.00; 27 minutes of the segment -> 15 training
    alice = [sp(2, 40), sp(43, 125)]
    assert split(line(alice, DEFAULT, session)) == (h("2.00"), h("1.75"), h("0.25"))


def test_full_attendance_refuses_a_segment_missed_by_more_than_allowed():
    rules = TrainingRules(full_attendance=True, missed_minutes=15)
    session = two_hours(seg(30, 90))
    # joined 16 minutes into the hour-long segment (74 minutes in all): no training, all 1.00 h growth
    late = line([sp(46, 120)], DEFAULT, session, rules)
    assert split(late) == (h("1.00"), h("1.00"), h("0.00"))
    assert late.segments[0].refused == "missed 16 min of the segment, more than the 15 allowed"
    # 15 minutes late is allowed: 45 minutes of training, the rest growth
    assert split(line([sp(45, 120)], DEFAULT, session, rules)) == (h("1.25"), h("0.50"), h("0.75"))


def test_a_segment_shorter_than_the_training_minimum_earns_no_training():
    rules = TrainingRules(minimum_minutes=60)
    result = line([sp(0, 120)], DEFAULT, two_hours(seg(30, 60)), rules)
    assert split(result) == (h("2.00"), h("2.00"), h("0.00"))
    assert result.segments[0].refused == "the segment ran 30 min, under the 60-minute training minimum"


def test_missed_time_counts_only_while_the_session_was_live():
    # the host restarted during the segment (live 0-40 and 50-120); the segment 30-90 ran 50 live minutes,
    # someone there all 50 missed nothing
    rules = TrainingRules(full_attendance=True, missed_minutes=0)
    session = two_hours(seg(30, 90), live=((0, 40), (50, 120)))
    result = line([sp(0, 40), sp(50, 120)], DEFAULT, session, rules)
    assert result.segments[0].live_seconds == 50 * 60
    assert split(result) == (h("1.75"), h("1.00"), h("0.75"))


def test_each_segment_is_rounded_on_its_own_and_training_never_passes_the_total():
    # two 20-minute segments: 20 -> 15 each = 0.50 training
    result = line([sp(0, 120)], DEFAULT, two_hours(seg(10, 30, "A"), seg(60, 80, "B")))
    assert split(result) == (h("2.00"), h("1.50"), h("0.50"))
    # scheduled 30 minutes caps the total at 0.50; a 60-minute segment cannot give more than that
    capped = line([sp(0, 60)], DEFAULT, Session((sp(0, 60),), 30 * 60, (seg(0, 60),)))
    assert split(capped) == (h("0.50"), h("0.00"), h("0.50"))


def test_no_training_on_a_no_credit_line():
    result = line([sp(30, 50)], DEFAULT, two_hours(seg(30, 60)))
    assert split(result) == (h("0.00"), h("0.00"), h("0.00"))
    assert result.segments[0].credited_seconds == 0


def test_segments_may_not_overlap():
    check_segments([seg(0, 30), seg(30, 60)])  # touching is fine
    with pytest.raises(ValueError, match="must not overlap"):
        check_segments([seg(0, 31), seg(30, 60)])
    with pytest.raises(ValueError, match="end after it starts"):
        seg(30, 30)


def test_module_is_pure():
    tree = ast.parse(inspect.getsource(credit))
    imported = {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert imported <= {"__future__", "collections", "dataclasses", "datetime", "decimal", "itertools", "zoombot"}


# --- properties -----------------------------------------------------------------------------------------

policies = st.builds(
    Policy,
    increment_minutes=st.sampled_from([1, 5, 10, 15, 30, 60]),
    rounding=st.sampled_from(["down", "nearest"]),
    minimum_minutes=st.integers(0, 90),
    cap=st.sampled_from(["scheduled", "meeting", "none"]),
    attendance_percent_minimum=st.sampled_from([0, 50, 75]),
)
rules = st.builds(
    TrainingRules,
    full_attendance=st.booleans(),
    missed_minutes=st.integers(0, 30),
    minimum_minutes=st.sampled_from([0, 15, 60]),
)
spans = st.lists(st.tuples(st.integers(0, 150), st.integers(0, 90)).map(lambda p: sp(p[0], p[0] + p[1])), max_size=6)


@st.composite
def segment_sets(draw):
    """Up to three non-overlapping segments inside 0-150 minutes."""
    cuts = sorted(draw(st.sets(st.integers(0, 150), max_size=6)))
    pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    return tuple(seg(a, b, f"S{i}") for i, (a, b) in enumerate(pairs))


lives = st.lists(
    st.tuples(st.integers(0, 150), st.integers(1, 120)).map(lambda p: sp(p[0], p[0] + p[1])), min_size=1, max_size=3
)


@settings(max_examples=400)
@given(spans, policies, rules, segment_sets(), lives, st.sampled_from([None, 60 * 60, 120 * 60]))
def test_prop_segments_only_split_the_total(present, policy, training_rules, segments, live, scheduled):
    plain = line(present, policy, Session(tuple(live), scheduled))
    marked = line(present, policy, Session(tuple(live), scheduled, segments), training_rules)
    assert marked.credited_seconds == plain.credited_seconds  # marking never changes a person's total
    assert marked.total_hours == plain.total_hours == marked.growth_hours + marked.training_hours
    assert 0 <= marked.training_seconds <= marked.credited_seconds
    assert marked.growth_hours >= 0 and marked.training_hours >= 0
    assert marked.no_credit == plain.no_credit
    limit = {"scheduled": scheduled, "meeting": Session(tuple(live)).meeting_seconds, "none": None}[policy.cap]
    if limit is not None:
        assert marked.credited_seconds <= limit  # the cap always holds
    if policy.rounding == "down":
        assert marked.training_seconds <= sum(c.attended_seconds for c in marked.segments)
    for c in marked.segments:
        assert c.credited_seconds % (policy.increment_minutes * 60) == 0 or c.credited_seconds < c.attended_seconds


@given(spans, policies, segment_sets(), st.randoms(use_true_random=False))
def test_prop_order_and_duplicates_do_not_matter(present, policy, segments, rnd):
    session = Session((sp(0, 150),), 120 * 60, segments)
    shuffled = present + present
    rnd.shuffle(shuffled)
    assert line(shuffled, policy, session) == line(present, policy, session)


@given(spans, policies)
def test_prop_total_is_the_policy_on_the_union(present, policy):
    session = Session((sp(0, 150),), 120 * 60)
    result = line(present, policy, session)
    minutes = {
        m for a, b in present for m in range(int((a - T0).total_seconds() // 60), int((b - T0).total_seconds() // 60))
    }
    assert result.attended_seconds == 60 * len(minutes)
    assert result.credited_seconds == credited_seconds(
        60 * len(minutes), policy, scheduled_seconds=120 * 60, meeting_seconds=150 * 60
    )
