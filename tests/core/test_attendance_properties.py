"""Property tests of the pure attendance core (zoombot.core.attendance).

Inputs are small whole-minute timelines, so the expected attendance can be computed from first
principles: the set of minutes in which any of a person's devices was present, within the live window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core.attendance import Signal, Who, compute

T0 = datetime(2026, 10, 13, 22, 0, tzinfo=UTC)
PEOPLE = [
    Who(email="alice@example.org", name="Alice Ames"),
    Who(email="bob@example.org", name="Bob Bell"),
    Who(name="+1 555 0100"),
]  # a dial-in: no e-mail, keyed by name


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@st.composite
def device_points(draw):
    """Strictly increasing minutes: join, leave, join, leave, ... (an odd count leaves the last join open)."""
    return sorted(draw(st.sets(st.integers(min_value=0, max_value=90), min_size=1, max_size=6)))


@st.composite
def meetings(draw):
    start = draw(st.integers(min_value=0, max_value=30))
    end = draw(st.integers(min_value=start + 1, max_value=100))
    people = {}
    for index in draw(st.sets(st.integers(min_value=0, max_value=len(PEOPLE) - 1), min_size=1)):
        people[index] = draw(st.lists(device_points(), min_size=1, max_size=3))
    return start, end, people


def build(start: int, end: int, people: dict[int, list[list[int]]]) -> list[Signal]:
    signals = [Signal("start", at(start)), Signal("end", at(start), until=at(end))]
    for index, devices in people.items():
        who = PEOPLE[index]
        for d, points in enumerate(devices):
            device = f"{index}-device-{d}"
            for i, minute in enumerate(points):
                signals.append(Signal("join" if i % 2 == 0 else "leave", at(minute), who, device))
    return signals


def expected_minutes(start: int, end: int, devices: list[list[int]]) -> set[int]:
    """First principles: each minute in which some device was present, within [start, end)."""
    present: set[int] = set()
    for points in devices:
        pairs = [points[i : i + 2] for i in range(0, len(points), 2)]
        for pair in pairs:
            join, leave = pair[0], pair[1] if len(pair) == 2 else end  # no leave: closes at the meeting's end
            present |= set(range(join, leave))
    return present & set(range(start, end))


def summary(result) -> dict:
    return {key: (p.attended_seconds, [(a, b) for a, b, _ in p.intervals]) for key, p in result.people.items()}


def person_key(who: Who) -> str:
    return f"email:{who.email}" if who.email else who.name_key()


@given(meetings())
def test_attended_seconds_equals_the_union_from_first_principles(meeting):
    start, end, people = meeting
    result = compute(build(start, end, people))
    for index, devices in people.items():
        person = result.people[person_key(PEOPLE[index])]
        assert person.attended_seconds == 60 * len(expected_minutes(start, end, devices))
        covered = set()
        for a, b, _ in person.intervals:
            covered |= set(range(int((a - T0).total_seconds()) // 60, int((b - T0).total_seconds()) // 60))
        assert covered == expected_minutes(start, end, devices)


@given(meetings(), st.randoms(use_true_random=False))
def test_order_does_not_matter(meeting, rnd):
    signals = build(*meeting)
    shuffled = list(signals)
    rnd.shuffle(shuffled)
    assert summary(compute(shuffled)) == summary(compute(signals))


@given(meetings(), st.randoms(use_true_random=False), st.integers(min_value=1, max_value=3))
def test_duplicates_are_harmless(meeting, rnd, copies):
    signals = build(*meeting)
    duplicated = signals + [rnd.choice(signals) for _ in range(len(signals) * copies)]
    rnd.shuffle(duplicated)
    assert summary(compute(duplicated)) == summary(compute(signals))


@given(meetings())
def test_attendance_never_exceeds_the_live_window(meeting):
    start, end, people = meeting
    result = compute(build(start, end, people))
    assert result.live == [(at(start), at(end))]
    for person in result.people.values():
        assert person.attended_seconds <= result.live_seconds
        for a, b, _ in person.intervals:
            assert at(start) <= a < b <= at(end)
        # merged intervals are disjoint and sorted, so nothing is counted twice
        for (_, b1, _), (a2, _, _) in pairwise(person.intervals):
            assert b1 < a2


@given(
    meetings(),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=1, max_value=60),
    st.sampled_from(["span", "pair"]),
    st.integers(min_value=0, max_value=len(PEOPLE) - 1),
)
def test_adding_an_interval_never_lowers_attendance(meeting, a, length, how, index):
    start, end, people = meeting
    signals = build(start, end, people)
    before = compute(signals)
    who = PEOPLE[index]
    if how == "span":  # a Report API row
        extra = [Signal("span", at(a), who, "report-device", until=at(a + length), source="report")]
    else:  # a join and leave from another device
        extra = [Signal("join", at(a), who, "extra-device"), Signal("leave", at(a + length), who, "extra-device")]
    after = compute(signals + extra)
    for key, person in before.people.items():
        assert after.people[key].attended_seconds >= person.attended_seconds
    key = person_key(who)
    added = 60 * len(set(range(a, a + length)) & set(range(start, end)))
    assert after.people[key].attended_seconds >= added


@given(st.lists(st.tuples(st.integers(0, 90), st.integers(1, 40)), min_size=1, max_size=8))
def test_two_devices_count_as_a_union_not_a_sum(spans):
    """The same person on a laptop and a phone at once: overlapping time counts once, and "devices" is the
    most devices present in one minute (one after the other is a rejoin, not a second device)."""
    who = PEOPLE[0]
    signals = [Signal("start", at(0)), Signal("end", at(0), until=at(200))]
    for i, (a, length) in enumerate(spans):
        device = f"device-{i}"
        signals += [Signal("join", at(a), who, device), Signal("leave", at(a + length), who, device)]
    person = compute(signals).people[person_key(who)]
    minutes = set().union(*(set(range(a, a + length)) for a, length in spans))
    assert person.attended_seconds == 60 * len(minutes)
    assert person.devices == max(sum(a <= m < a + length for a, length in spans) for m in minutes)


@settings(max_examples=50)
@given(st.lists(st.integers(0, 60), min_size=2, max_size=8, unique=True), st.randoms(use_true_random=False))
def test_waiting_room_time_is_never_attendance(points, rnd):
    """join/admit starts presence, put-in-waiting-room ends it; the waiting time itself adds nothing."""
    points.sort()
    who, device = PEOPLE[1], "bob-laptop"
    signals = [Signal("start", at(0)), Signal("end", at(0), until=at(100))]
    expected: set[int] = set()
    for i in range(0, len(points) - 1, 2):
        signals += [Signal("join", at(points[i]), who, device), Signal("leave", at(points[i + 1]), who, device)]
        expected |= set(range(points[i], points[i + 1]))
    rnd.shuffle(signals)
    assert compute(signals).people[person_key(who)].attended_seconds == 60 * len(expected)
