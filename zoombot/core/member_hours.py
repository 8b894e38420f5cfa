"""Pure: one member's hours per year, growth and training apart, approved apart from pending.

Years are the sessions' local calendar years (the community's time zone), because that is the year
a practitioner's licensing counts. Rejected lines and lines with no credit count for nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

ZERO = Decimal("0.00")


@dataclass
class YearHours:
    year: int
    requirement: Decimal
    approved: dict[str, Decimal] = field(default_factory=lambda: {"growth": ZERO, "training": ZERO})
    pending: dict[str, Decimal] = field(default_factory=lambda: {"growth": ZERO, "training": ZERO})

    @property
    def approved_total(self) -> Decimal:
        return sum(self.approved.values(), ZERO)

    @property
    def pending_total(self) -> Decimal:
        return sum(self.pending.values(), ZERO)

    @property
    def remaining(self) -> Decimal:
        """Approved hours still missing to meet the yearly requirement (never negative)."""
        return max(self.requirement - self.approved_total, ZERO)

    @property
    def percent(self) -> int:
        if self.requirement <= 0:
            return 100
        return min(100, int(self.approved_total * 100 / self.requirement))


def yearly(rows: Iterable[tuple[int, str, str, Decimal]], requirement: int | Decimal) -> list[YearHours]:
    """rows: (local year, kind, status, hours) -> one YearHours per year, newest first."""
    years: dict[int, YearHours] = {}
    for year, kind, status, hours in rows:
        if status not in ("approved", "pending"):
            continue
        summary = years.setdefault(year, YearHours(year=year, requirement=Decimal(requirement)))
        bucket = summary.approved if status == "approved" else summary.pending
        bucket[kind] = bucket.get(kind, ZERO) + Decimal(hours)
    return sorted(years.values(), key=lambda y: y.year, reverse=True)


def line_facts(year: int, line: Any) -> list[tuple[int, str, str, Decimal]]:
    """A credit line as `yearly` reads it: its growth and its training hours, each with the line's status."""
    return [(year, "growth", line.status, Decimal(line.growth_hours)),
            (year, "training", line.status, Decimal(line.training_hours))]
