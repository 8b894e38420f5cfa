"""Registry deadlines, pure: when a session's lines are due and how staff read it.

Registries take attendance within days of a session and count those days on the calendar of where the
session was held (Nevada: 5 calendar days; Wisconsin 7; North Dakota 10), so a session is due
`[registry] submission_days` after its *local* date, whatever the hour. 0 turns deadlines (and the
digest) off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


def due_date(local_date: date, submission_days: int) -> date | None:
    """The last day the registry takes this session's lines, or None when deadlines are off."""
    if submission_days <= 0:
        return None
    return local_date + timedelta(days=submission_days)


@dataclass(frozen=True)
class Due:
    """A due date as seen on `today` (the network's local date)."""

    date: date
    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def label(self) -> str:
        if self.days_left < 0:
            late = -self.days_left
            return f"overdue by {late} day{'' if late == 1 else 's'}"
        if self.days_left == 0:
            return "due today"
        return f"due in {self.days_left} day{'' if self.days_left == 1 else 's'}"

    @property
    def tone(self) -> str:
        """How a page marks it: bad when overdue, warn in the last two days, plain otherwise."""
        return "bad" if self.days_left < 0 else "warn" if self.days_left <= 2 else ""


def due(local_date: date, submission_days: int, today: date) -> Due | None:
    when = due_date(local_date, submission_days)
    return None if when is None else Due(when, (when - today).days)


def near(local_date: date, submission_days: int, today: date, days_before: int) -> bool:
    """Whether the digest mentions this session today: due within `days_before` days, or overdue."""
    seen = due(local_date, submission_days, today)
    return seen is not None and seen.days_left <= days_before


def sort_key(local_date: date, submission_days: int) -> tuple[int, date]:
    """Earliest due first; with deadlines off, oldest session first (the same order)."""
    return (0, due_date(local_date, submission_days) or local_date)
