"""Pure interval arithmetic on aware datetimes: the one home of `Span`, union, intersection and length.

Attendance (a person's presence), credit (time inside training segments) and the timeline all work on
spans of time; they share these few functions so that "how long was someone there" has one answer.
A span is `(start, end)` with `end >= start`; zero-length spans count nothing and vanish from unions.
Lengths are whole seconds of the union (a sub-second remainder of the total is dropped, never a
per-span one), so the parts of a split always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

Span = tuple[datetime, datetime]

_ONE_SECOND = timedelta(seconds=1)


def union(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering exactly the input; touching spans are joined."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(spans: Iterable[Span], windows: Iterable[Span]) -> list[Span]:
    """The parts of `spans` that lie inside `windows` (both may overlap themselves), as a union."""
    windows = union(windows)
    out: list[Span] = []
    for start, end in union(spans):
        for w_start, w_end in windows:
            if w_start >= end:
                break
            a, b = max(start, w_start), min(end, w_end)
            if b > a:
                out.append((a, b))
    return union(out)


def clip(spans: Iterable[Span], until: datetime) -> list[Span]:
    """The union of `spans`, cut off at `until`."""
    return [(a, min(b, until)) for a, b in union(spans) if a < until]


def length(spans: Iterable[Span]) -> timedelta:
    """The time covered by at least one span (overlaps counted once)."""
    return sum((end - start for start, end in union(spans)), timedelta())


def seconds(spans: Iterable[Span]) -> int:
    """Whole seconds covered by at least one span."""
    return length(spans) // _ONE_SECOND


def seconds_inside(spans: Iterable[Span], window: Span) -> int:
    """Whole seconds of `spans` that fall inside `window`."""
    return seconds(intersect(spans, [window]))
