"""Pure: which licensing year a session's local date belongs to.

Registries count a practitioner's hours per licensing year, which need not be the calendar year (a
July-to-June year is common); `[hours] licensing_year_start_month` says which month starts it. A year is
named by the calendar year it starts in, and shown as "2026" when it is the calendar year, "2026–27"
otherwise, the way members read it on their renewal papers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class LicensingYear:
    start_year: int
    start_month: int = 1

    @property
    def first_day(self) -> date:
        return date(self.start_year, self.start_month, 1)

    @property
    def last_day(self) -> date:
        """The day before the next year's first day."""
        return LicensingYear(self.start_year + 1, self.start_month).first_day - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.start_month == 1:
            return str(self.start_year)
        return f"{self.start_year}–{(self.start_year + 1) % 100:02d}"

    @property
    def span(self) -> str:
        """'January 1 – December 31, 2026'; 'July 1, 2026 – June 30, 2027'."""
        first, last = self.first_day, self.last_day
        if first.year == last.year:
            return f"{first:%B} {first.day} – {last:%B} {last.day}, {last.year}"
        return f"{first:%B} {first.day}, {first.year} – {last:%B} {last.day}, {last.year}"

    @property
    def months(self) -> list[date]:
        """The first day of each of its twelve months, in order."""
        m = self.start_month - 1
        return [date(self.start_year + (m + i) // 12, (m + i) % 12 + 1, 1) for i in range(12)]

    def month_index(self, day: date) -> int:
        """0 for the year's first month ... 11 for its last (`day` inside the year)."""
        return (day.month - self.start_month) % 12

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def previous(self) -> LicensingYear:
        return LicensingYear(self.start_year - 1, self.start_month)


def year_of(day: date, start_month: int = 1) -> LicensingYear:
    """The licensing year holding `day` (a session's local date)."""
    if not 1 <= start_month <= 12:
        raise ValueError("a licensing year starts in a month 1..12")
    return LicensingYear(day.year if day.month >= start_month else day.year - 1, start_month)
