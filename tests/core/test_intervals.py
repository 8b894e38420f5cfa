"""The interval arithmetic every rule shares (zoombot.core.intervals): exact seconds of unions and overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.intervals import clip, intersect, seconds, seconds_inside, union

M = 60
T0 = datetime(2024, 3, 5, 17, 0, tzinfo=UTC)


def at(value: float) -> datetime:
    return T0 + timedelta(seconds=value)


def sp(start: float, end: float) -> tuple[datetime, datetime]:
    return (at(start), at(end))


def mm(minutes: int, secs: int = 0) -> int:
    return minutes * M + secs


def test_union_empty():
    assert seconds([]) == 0


def test_union_single():
    assert seconds([sp(0, mm(90))]) == mm(90)


def test_union_overlapping():
    assert seconds([sp(0, mm(60)), sp(mm(30), mm(90))]) == mm(90)


def test_union_nested():
    assert seconds([sp(0, mm(120)), sp(mm(30), mm(60))]) == mm(120)


def test_union_touching():
    assert seconds([sp(0, mm(30)), sp(mm(30), mm(60))]) == mm(60)


def test_union_disjoint():
    assert seconds([sp(0, mm(30)), sp(mm(60), mm(90))]) == mm(60)


def test_union_unsorted_and_duplicated():
    spans = [sp(mm(60), mm(90)), sp(0, mm(30)), sp(mm(60), mm(90)), sp(0, mm(30))]
    assert seconds(spans) == mm(60)


def test_union_chain_bridged_by_a_later_span():
    # [0,10] and [20,30] are joined by [5,25] -> one block [0,30]
    assert seconds([sp(0, 10), sp(20, 30), sp(5, 25)]) == 30


def test_union_accepts_generators():
    assert seconds(sp(i * 100, i * 100 + 50) for i in range(3)) == 150


def test_union_zero_length_span_counts_nothing():
    assert seconds([sp(100, 100)]) == 0
    assert seconds([sp(0, 60), sp(100, 100)]) == 60


def test_union_drops_sub_second_remainder_of_total_only():
    # 0.6 s + 0.6 s = 1.2 s -> 1 (the total is truncated, not each span)
    assert seconds([sp(0, 0.6), sp(10, 10.6)]) == 1


def test_union_mixed_utc_offsets_compare_as_instants():
    plus_two = timezone(timedelta(hours=2))
    same_start_in_plus_two = T0.astimezone(plus_two)
    spans = [(same_start_in_plus_two, at(mm(60))), sp(mm(30), mm(90))]
    assert seconds(spans) == mm(90)


def test_intersect_keeps_only_the_parts_inside_the_windows():
    spans = [sp(0, mm(50)), sp(mm(60), mm(120))]
    windows = [sp(mm(40), mm(70)), sp(mm(100), mm(200))]
    assert intersect(spans, windows) == [sp(mm(40), mm(50)), sp(mm(60), mm(70)), sp(mm(100), mm(120))]


def test_clip_cuts_at_an_instant():
    assert clip([sp(0, mm(10)), sp(mm(20), mm(40))], at(mm(30))) == [sp(0, mm(10)), sp(mm(20), mm(30))]
    assert clip([sp(mm(20), mm(40))], at(mm(20))) == []


def test_seconds_inside_a_window():
    assert seconds_inside([sp(0, mm(90))], sp(mm(60), mm(120))) == mm(30)


small_spans = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 300)).map(lambda p: (p[0], p[0] + p[1])), max_size=8
)


def covered(pairs) -> set[int]:
    return {second for a, b in pairs for second in range(a, b)}


@given(small_spans, st.randoms(use_true_random=False))
def test_prop_union_is_order_independent_and_idempotent(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    spans = [sp(a, b) for a, b in pairs]
    assert union([sp(a, b) for a, b in shuffled]) == union(spans) == union(spans + spans)


@given(small_spans)
def test_prop_seconds_are_the_covered_seconds(pairs):
    assert seconds([sp(a, b) for a, b in pairs]) == len(covered(pairs))


@given(small_spans, small_spans)
def test_prop_intersection_is_the_common_seconds(pairs, windows):
    got = intersect([sp(a, b) for a, b in pairs], [sp(a, b) for a, b in windows])
    assert seconds(got) == len(covered(pairs) & covered(windows))
