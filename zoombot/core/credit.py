"""Pure: one credit line per person per session, with training carved out of one rounded total.

A registry credits *a person's attendance at one session*, so the hours policy (`zoombot.core.hours`) applies
once, to the person's session total, however many Zoom instances the session took. Elective training
segments then split that credited total into training and growth; they never change it:

1. `total` = the policy's credited seconds for the person's attended seconds (minimums, cap, rounding).
   Zero with a plain reason (below a minimum, or rounding to nothing) makes a *no credit* line.
2. For each training segment (in time order): the person's time inside it, counted over the time the
   session was live within it. The segment earns no training credit when it is shorter than the rules'
   `minimum_minutes`, or, under `full_attendance`, when the person missed more than `missed_minutes` of
   it (late arrival, early departure or a drop: Nevada's 15-minute rule). Otherwise its credit is that
   time rounded with the policy's increment and rounding.
3. Training credit is the sum over segments, never more than `total` (the last segments give way);
   growth = total - training. Time refused as training stays growth.
Hours are seconds / 3600 with two decimals; growth hours are total hours minus training hours, so the
two always add up to exactly the total a person would get without any segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from zoombot.core import hours, intervals
from zoombot.core.hours import Policy
from zoombot.core.intervals import Span

GROWTH = "growth"
TRAINING = "training"
KINDS = (GROWTH, TRAINING)


@dataclass(frozen=True)
class TrainingRules:
    """A registry's rules for training credit inside a session (per community, defaults in `[hours]`)."""

    full_attendance: bool = False
    missed_minutes: int = 15
    minimum_minutes: int = 0

    def __post_init__(self) -> None:
        for key in ("missed_minutes", "minimum_minutes"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"training {key} must be a whole number of minutes, not negative; got {value!r}")

    def describe(self) -> str:
        parts = []
        if self.minimum_minutes:
            parts.append(f"A training segment shorter than {self.minimum_minutes} minutes earns no training hours.")
        if self.full_attendance:
            parts.append(
                f"Training hours need the whole segment: missing more than {self.missed_minutes} "
                "minutes of it (arriving late, leaving early or dropping out) earns none."
            )
        parts.append("Time not credited as training counts as growth.")
        return " ".join(parts)


@dataclass(frozen=True)
class Segment:
    """An elective-training part of a session: when, and what the registry needs to know about it."""

    start: datetime
    end: datetime
    title: str = ""
    category: str = ""
    approval_code: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a training segment needs timezone-aware times")
        if self.end <= self.start:
            raise ValueError("a training segment must end after it starts")

    @property
    def span(self) -> Span:
        return (self.start, self.end)


@dataclass(frozen=True)
class Session:
    """What the line of every person of one session depends on, besides their own presence."""

    live: tuple[Span, ...]
    scheduled_seconds: int | None = None
    segments: tuple[Segment, ...] = ()

    @property
    def meeting_seconds(self) -> int:
        return intervals.seconds(self.live)


@dataclass(frozen=True)
class SegmentCredit:
    """One person in one training segment."""

    segment: Segment
    live_seconds: int  # how long the session was live during the segment
    attended_seconds: int  # how much of that the person was there
    credited_seconds: int  # training credit (0 when refused)
    refused: str | None = None

    @property
    def hours(self) -> Decimal:
        return hours.seconds_to_hours(self.credited_seconds)


@dataclass(frozen=True)
class Line:
    """A person's credit for one session: the total, and its split into growth and training."""

    attended_seconds: int
    credited_seconds: int
    training_seconds: int
    segments: tuple[SegmentCredit, ...] = ()
    no_credit: str | None = None  # why the total is zero, in words for staff and members

    @property
    def growth_seconds(self) -> int:
        return self.credited_seconds - self.training_seconds

    @property
    def total_hours(self) -> Decimal:
        return hours.seconds_to_hours(self.credited_seconds)

    @property
    def training_hours(self) -> Decimal:
        return hours.seconds_to_hours(self.training_seconds)

    @property
    def growth_hours(self) -> Decimal:
        return self.total_hours - self.training_hours

    def hours_of(self, kind: str) -> Decimal:
        return self.training_hours if kind == TRAINING else self.growth_hours


def check_segments(segments: Sequence[Segment]) -> None:
    """Segments may not overlap: a minute is training for one registry entry at most."""
    ordered = sorted(segments, key=lambda s: s.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError("training segments must not overlap")


def line(spans: Sequence[Span], policy: Policy, session: Session, rules: TrainingRules = TrainingRules()) -> Line:
    """The credit line of a person present during `spans` (see the module docstring for the rules)."""
    attended = intervals.seconds(spans)
    lengths = {"scheduled_seconds": session.scheduled_seconds, "meeting_seconds": session.meeting_seconds}
    total = hours.credited_seconds(attended, policy, **lengths)
    reason = None
    if total == 0:
        reason = hours.below_minimum(attended, policy, **lengths) or (
            "no attendance" if attended == 0 else f"attended {attended // 60} min, which rounds to 0 h"
        )
    present = intervals.union(spans)
    credits = []
    left = total
    for segment in sorted(session.segments, key=lambda s: s.start):
        live = intervals.intersect(session.live, [segment.span])
        live_seconds = intervals.seconds(live)
        inside = intervals.seconds(intervals.intersect(present, live))
        refused = _refused(live_seconds, inside, rules)
        credit = 0 if refused or total == 0 else min(hours.rounded(inside, policy), left)
        left -= credit
        credits.append(SegmentCredit(segment, live_seconds, inside, credit, refused))
    return Line(attended, total, total - left, tuple(credits), reason)


def _refused(live_seconds: int, inside: int, rules: TrainingRules) -> str | None:
    """Why a person gets no training credit for a segment, or None."""
    if inside == 0:
        return "not present during the segment"
    if live_seconds < rules.minimum_minutes * 60:
        return f"the segment ran {live_seconds // 60} min, under the {rules.minimum_minutes}-minute training minimum"
    missed = live_seconds - inside
    if rules.full_attendance and missed > rules.missed_minutes * 60:
        return f"missed {missed // 60} min of the segment, more than the {rules.missed_minutes} allowed"
    return None
