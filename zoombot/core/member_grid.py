"""Members x months of the licensing year, pure: the members grid and each member's yearly summary.

Licensing years are `zoombot.core.licensing_year`'s. Every figure is computed here from the same facts
(one per line: member, the session's local date, status, growth and training hours), so the grid's totals,
the staff member page, the member's own page and their transcript can never disagree.

What counts: approved lines as approved, pending lines as pending; rejected and no-credit lines count for
nothing. A line a later correction has replaced (an approved correction of a submitted line) counts no
more: the correction does (`Fact.replaced`). A correction not approved yet counts for nothing either when it
stays with the same member: the hours sent count until it is, and it would otherwise add its hours beside
them (`uncounted_ids`); one that would move the credit to another member is that member's pending credit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from zoombot.core.licensing_year import year_of

ZERO = Decimal("0.00")
KINDS = ("growth", "training")
COUNTED = ("approved", "pending")


@dataclass(frozen=True)
class Fact:
    member_id: int
    local_date: date
    status: str
    growth: Decimal
    training: Decimal
    replaced: bool = False


def _bucket() -> dict[str, dict[str, Decimal]]:
    return {status: {kind: ZERO for kind in KINDS} for status in COUNTED}


@dataclass
class Hours:
    """Hours by status and kind: `hours.of["approved"]["training"]`."""

    of: dict[str, dict[str, Decimal]] = field(default_factory=_bucket)

    def add(self, fact: Fact) -> None:
        self.of[fact.status]["growth"] += Decimal(fact.growth)
        self.of[fact.status]["training"] += Decimal(fact.training)

    @property
    def approved(self) -> dict[str, Decimal]:
        return self.of["approved"]

    @property
    def pending(self) -> dict[str, Decimal]:
        return self.of["pending"]

    @property
    def approved_total(self) -> Decimal:
        return sum(self.approved.values(), ZERO)

    @property
    def pending_total(self) -> Decimal:
        return sum(self.pending.values(), ZERO)

    @property
    def empty(self) -> bool:
        return not (self.approved_total or self.pending_total)


@dataclass
class MemberYear:
    """One member's licensing year: each month, the year's total and the progress to the requirement."""

    member_id: int
    year: int
    requirement: Decimal
    months: list[Hours] = field(default_factory=lambda: [Hours() for _ in range(12)])
    total: Hours = field(default_factory=Hours)

    @property
    def approved(self) -> dict[str, Decimal]:
        return self.total.approved

    @property
    def pending(self) -> dict[str, Decimal]:
        return self.total.pending

    @property
    def approved_total(self) -> Decimal:
        return self.total.approved_total

    @property
    def pending_total(self) -> Decimal:
        return self.total.pending_total

    @property
    def remaining(self) -> Decimal:
        """Approved hours still missing to meet the yearly requirement (never negative)."""
        return max(self.requirement - self.total.approved_total, ZERO)

    @property
    def percent(self) -> int:
        if self.requirement <= 0:
            return 100
        return min(100, int(self.total.approved_total * 100 / self.requirement))

    @property
    def below(self) -> bool:
        return self.total.approved_total < self.requirement


def counts(fact: Fact) -> bool:
    return fact.status in COUNTED and not fact.replaced


def years_of(facts: Iterable[Fact], start_month: int, requirement: int | Decimal) -> dict[tuple[int, int], MemberYear]:
    """(member id, licensing year) -> MemberYear, for every member and year with a counted line."""
    out: dict[tuple[int, int], MemberYear] = {}
    for fact in facts:
        if not counts(fact):
            continue
        year = year_of(fact.local_date, start_month)
        summary = out.get((fact.member_id, year.start_year))
        if summary is None:
            summary = out[(fact.member_id, year.start_year)] = MemberYear(
                fact.member_id, year.start_year, Decimal(requirement)
            )
        summary.months[year.month_index(fact.local_date)].add(fact)
        summary.total.add(fact)
    return out


def member_years(facts: Iterable[Fact], start_month: int, requirement: int | Decimal) -> list[MemberYear]:
    """One member's years, newest first (the member page)."""
    return sorted(years_of(facts, start_month, requirement).values(), key=lambda y: y.year, reverse=True)


def grid(
    facts: Iterable[Fact], member_ids: Iterable[int], year: int, start_month: int, requirement: int | Decimal
) -> list[MemberYear]:
    """One row per member of `member_ids` (in that order) for licensing year `year`, members without hours
    included (they are the ones furthest below the requirement)."""
    found = years_of(facts, start_month, requirement)
    return [
        found.get((member_id, year)) or MemberYear(member_id, year, Decimal(requirement)) for member_id in member_ids
    ]


def totals(rows: Iterable[MemberYear]) -> MemberYear:
    """The grid's bottom line: every month and the year summed over its rows."""
    out = MemberYear(0, 0, ZERO)
    for row in rows:
        for index, month in enumerate(row.months):
            for status in COUNTED:
                for kind in KINDS:
                    out.months[index].of[status][kind] += month.of[status][kind]
                    out.total.of[status][kind] += month.of[status][kind]
    return out


Revision = tuple[int, int, str, int, str, int | None]  # line id, session id, participant key, revision, status, member


def _chains(lines: Iterable[Revision]) -> list[list[tuple[int, int, str, int | None]]]:
    """The revisions of each session and participant, oldest first: (revision, line id, status, member)."""
    chains: dict[tuple[int, str], list[tuple[int, int, str, int | None]]] = {}
    for line_id, session_id, key, revision, status, member in lines:
        chains.setdefault((session_id, key), []).append((revision, line_id, status, member))
    return [sorted(chain) for chain in chains.values()]


def replaced_ids(lines: Iterable[Revision]) -> set[int]:
    """Lines an approved correction replaced: the ids of lines that a later approved revision of the same
    session and participant supersedes."""
    out: set[int] = set()
    for chain in _chains(lines):
        for index, (_, line_id, _, _) in enumerate(chain):
            if any(status == "approved" for _, _, status, _ in chain[index + 1 :]):
                out.add(line_id)
    return out


def uncounted_ids(lines: Iterable[Revision]) -> set[int]:
    """`replaced_ids`, and every revision not approved that follows an approved one of the same session,
    participant and member (a correction waiting for review, or one staff rejected): the approved one
    counts. A correction that would move the credit to another member is that member's pending credit."""
    lines = list(lines)
    out = replaced_ids(lines)
    for chain in _chains(lines):
        for index, (_, line_id, status, member) in enumerate(chain):
            if status != "approved" and any(
                earlier == "approved" and owner == member for _, _, earlier, owner in chain[:index]
            ):
                out.add(line_id)
    return out
