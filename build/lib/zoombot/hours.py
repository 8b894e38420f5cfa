"""Hours policy: turns a participant's Zoom presence into credited hours.

Pure standard-library code so that the rules staff are audited against can
be tested exhaustively, without a database or the Zoom API.

Vocabulary
----------
* A *span* is one ``(start, end)`` presence interval in aware datetimes.
  Zoom reports a new span for every re-join, and spans may overlap (two
  devices), nest or touch.
* *Attended seconds* is the length of the union of the spans, so no second is
  ever counted twice. Sub-second remainders are dropped from the union total.
* *Credited seconds* is what the policy grants: the attended seconds after
  the minimum, the cap and the rounding. Hours are credited seconds / 3600,
  as a ``Decimal`` with exactly 2 decimal places (half-up).

Policy for one total (``hours_for``)
------------------------------------
1. Attendance under ``minimum_minutes`` earns 0 hours.
2. The cap limits the time: ``"scheduled"`` to the scheduled length,
   ``"meeting"`` to how long the meeting actually ran, ``"none"`` never.
   An unknown length (``None``) means no cap for that mode.
3. The capped time is rounded to a multiple of ``increment_minutes``:
   ``"down"`` floors; ``"nearest"`` picks the closest multiple with exact
   halves rounding up -- except that if rounding up would pass the cap, it
   rounds down instead, so credit never exceeds the cap.

Training split (``propose`` with a training window)
---------------------------------------------------
Time inside the window is *training*, the rest is *growth*; both rows are
always returned, ordered ``[growth, training]``, and ``attended_seconds`` in
each is the raw (uncapped) split. The credit is computed as:

1. If the TOTAL attended seconds are under the minimum, both parts get 0.
2. ``total_credit`` = credited seconds of the total, exactly as in
   ``hours_for``.
3. Training takes the cap first: ``training_capped = min(training, cap)``;
   growth gets what is left: ``growth_capped = min(growth, cap - training_capped)``.
4. Each capped part is rounded on its own with the policy's rounding (plain
   floor or nearest-half-up, no cap fallback).
5. Training credit = ``min(rounded training, total_credit)``; growth credit =
   ``min(rounded growth, total_credit - training credit)``. So the parts never
   add up to more than the total would earn. With ``"down"`` rounding these
   clamps never bite, because floor(a) + floor(b) <= floor(a + b); the two
   rows may then sum to up to one increment less than the total alone.
6. Each part is converted to 2-decimal hours; growth hours are also limited
   to ``hours_for(total) - training hours`` so that display rounding cannot
   add a cent (only possible when the increment is not a multiple of 3
   minutes, e.g. 1 minute = 0.0166... h).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

Span = tuple[datetime, datetime]

ROUNDING_MODES = ("down", "nearest")
CAP_MODES = ("scheduled", "meeting", "none")
MAX_INCREMENT_MINUTES = 240

GROWTH = "growth"
TRAINING = "training"

_ONE_SECOND = timedelta(seconds=1)
_SECONDS_PER_HOUR = 3600


def _require_int(key: str, value: object) -> int:
    """Reject bools, floats and strings: config typos must fail loudly, not coerce."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return value


@dataclass(frozen=True)
class Policy:
    """How attendance becomes hours; mirrors the ``[hours]`` config section."""

    increment_minutes: int = 15
    rounding: str = "down"
    minimum_minutes: int = 30
    cap: str = "scheduled"

    def __post_init__(self) -> None:
        increment = _require_int("increment_minutes", self.increment_minutes)
        if not 1 <= increment <= MAX_INCREMENT_MINUTES:
            raise ValueError(
                f"increment_minutes must be between 1 and {MAX_INCREMENT_MINUTES}, got {increment}"
            )
        if _require_int("minimum_minutes", self.minimum_minutes) < 0:
            raise ValueError(f"minimum_minutes must not be negative, got {self.minimum_minutes}")
        if self.rounding not in ROUNDING_MODES:
            raise ValueError(f"rounding must be one of {', '.join(ROUNDING_MODES)}; got {self.rounding!r}")
        if self.cap not in CAP_MODES:
            raise ValueError(f"cap must be one of {', '.join(CAP_MODES)}; got {self.cap!r}")

    def describe(self) -> str:
        """Plain-English summary for staff pages and emails."""
        if self.minimum_minutes == 0:
            minimum = "Any attendance can earn hours."
        else:
            minimum = f"Attendance under {_minutes(self.minimum_minutes)} earns no hours."
        cap = {
            "scheduled": "Time is capped at the scheduled length of the meeting and",
            "meeting": "Time is capped at how long the meeting actually ran and",
            "none": "Time is not capped and is",
        }[self.cap]
        step = "minute" if self.increment_minutes == 1 else f"{self.increment_minutes} minutes"
        if self.rounding == "down":
            rounding = f"rounded down to the nearest {step}."
        else:
            rounding = f"rounded to the nearest {step} (exactly halfway rounds up)."
        return f"{minimum} {cap} {rounding}"


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"


@dataclass(frozen=True)
class Proposal:
    """One proposed hours row for staff to confirm."""

    kind: str  # GROWTH | TRAINING
    attended_seconds: int
    hours: Decimal


# --- spans -----------------------------------------------------------------


def _checked(span: Span, name: str) -> Span:
    """Naive datetimes would silently mix local and UTC time, so refuse them."""
    start, end = span
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"{name} must use timezone-aware datetimes, got {span!r}")
    if end < start:
        raise ValueError(f"{name} ends before it starts: {span!r}")
    return span


def _merged(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint spans covering the same time; zero-length spans vanish."""
    merged: list[Span] = []
    for start, end in sorted(_checked(span, "span") for span in spans):
        if start == end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(spans: Iterable[Span]) -> timedelta:
    return sum((end - start for start, end in spans), timedelta())


def union_seconds(spans: Iterable[Span]) -> int:
    """Seconds covered by at least one span (overlaps counted once).

    Zero-length spans (join and leave in the same instant) count as nothing;
    a span that ends before it starts is a caller bug and raises ValueError.
    """
    return _length(_merged(spans)) // _ONE_SECOND


def split_training(spans: Iterable[Span], window: Span | None) -> tuple[int, int]:
    """``(growth_seconds, training_seconds)``: the union outside / inside the window.

    Growth is derived as union minus training so the parts always add up to
    ``union_seconds`` exactly, even when sub-second remainders are dropped.
    """
    merged = _merged(spans)
    total = _length(merged) // _ONE_SECOND
    if window is None:
        return total, 0
    window_start, window_end = _checked(window, "training window")
    inside = (
        (max(start, window_start), min(end, window_end))
        for start, end in merged
        if start < window_end and window_start < end
    )
    training = _length(inside) // _ONE_SECOND
    return total - training, training


# --- policy arithmetic -----------------------------------------------------


def _require_seconds(key: str, value: int | None, *, optional: bool) -> None:
    if value is None and optional:
        return
    if _require_int(key, value) < 0:
        raise ValueError(f"{key} must not be negative, got {value}")


def _cap_limit(policy: Policy, scheduled_seconds: int | None, meeting_seconds: int | None) -> int | None:
    """The cap in seconds for this meeting, or None when nothing limits the time."""
    return {"scheduled": scheduled_seconds, "meeting": meeting_seconds, "none": None}[policy.cap]


def _capped(seconds: int, limit: int | None) -> int:
    return seconds if limit is None else min(seconds, limit)


def _rounded(seconds: int, policy: Policy) -> int:
    """Round to a multiple of the increment; "nearest" sends exact halves up."""
    increment = policy.increment_minutes * 60
    down = seconds - seconds % increment
    if policy.rounding == "nearest" and 2 * (seconds - down) >= increment:
        return down + increment
    return down


def credited_seconds(
    attended_seconds: int,
    policy: Policy,
    *,
    scheduled_seconds: int | None,
    meeting_seconds: int | None,
) -> int:
    """Seconds the policy grants for one total; exact, unlike the 2-dp hours."""
    _require_seconds("attended_seconds", attended_seconds, optional=False)
    _require_seconds("scheduled_seconds", scheduled_seconds, optional=True)
    _require_seconds("meeting_seconds", meeting_seconds, optional=True)
    if attended_seconds < policy.minimum_minutes * 60:
        return 0
    limit = _cap_limit(policy, scheduled_seconds, meeting_seconds)
    capped = _capped(attended_seconds, limit)
    rounded = _rounded(capped, policy)
    if limit is not None and rounded > limit:
        return capped - capped % (policy.increment_minutes * 60)
    return rounded


def seconds_to_hours(seconds: int) -> Decimal:
    """Hours with exactly 2 decimal places, half-up, computed in integers."""
    cents = (seconds * 200 + _SECONDS_PER_HOUR) // (2 * _SECONDS_PER_HOUR)
    return Decimal(cents).scaleb(-2)


def hours_for(
    attended_seconds: int,
    policy: Policy,
    *,
    scheduled_seconds: int | None,
    meeting_seconds: int | None,
) -> Decimal:
    """Hours earned for ``attended_seconds`` under ``policy`` (see module docstring)."""
    return seconds_to_hours(
        credited_seconds(
            attended_seconds, policy, scheduled_seconds=scheduled_seconds, meeting_seconds=meeting_seconds
        )
    )


def propose(
    spans: Sequence[Span],
    policy: Policy,
    *,
    scheduled_seconds: int | None,
    meeting_seconds: int | None,
    training_window: Span | None = None,
) -> list[Proposal]:
    """Proposed hours rows: ``[growth]``, or ``[growth, training]`` with a window."""
    lengths = {"scheduled_seconds": scheduled_seconds, "meeting_seconds": meeting_seconds}
    if training_window is None:
        attended = union_seconds(spans)
        return [Proposal(GROWTH, attended, hours_for(attended, policy, **lengths))]

    growth, training = split_training(spans, training_window)
    total_credit = credited_seconds(growth + training, policy, **lengths)
    if total_credit == 0:
        # Under the minimum, or capped/rounded to nothing: nothing to share out.
        zero = seconds_to_hours(0)
        return [Proposal(GROWTH, growth, zero), Proposal(TRAINING, training, zero)]

    limit = _cap_limit(policy, scheduled_seconds, meeting_seconds)
    training_capped = _capped(training, limit)
    growth_capped = _capped(growth, None if limit is None else limit - training_capped)
    training_credit = min(_rounded(training_capped, policy), total_credit)
    growth_credit = min(_rounded(growth_capped, policy), total_credit - training_credit)

    training_hours = seconds_to_hours(training_credit)
    growth_hours = min(seconds_to_hours(growth_credit), seconds_to_hours(total_credit) - training_hours)
    return [Proposal(GROWTH, growth, growth_hours), Proposal(TRAINING, training, training_hours)]
