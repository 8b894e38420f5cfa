"""Pure: what a certificate of attendance and a yearly transcript say, and whether a certificate still holds.

A certificate attests one approved credit line: who (name and registry id), which session (community,
local date and time, facilitators), how long they attended, and the credit by kind, with each training
segment's title, category and approval code. Its verification code names exactly the credit it was
issued for (`Credit`, kept as a snapshot), so a later change to the line never rewrites what an old
paper said: `standing` compares that snapshot with the line as it is now and says, in words a licensing
visitor understands, whether the paper still holds. A submitted line is never changed: a correction is a
later revision of it, so "the line as it is now" is its latest revision staff did not reject.

No database, no clock, no PDF here: `zoombot.store.certificates` gathers the facts, `zoombot.web.certificate_pdf`
draws them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from zoombot.core.licensing_year import LicensingYear
from zoombot.core.member_grid import Fact, MemberYear, member_years
from zoombot.core.times import clock_time, duration, when

TWO = Decimal("0.01")


def hours_text(value: Decimal | int | str) -> str:
    """Hours as certificates print them: two decimals."""
    return f"{Decimal(value).quantize(TWO)}"


@dataclass(frozen=True)
class TrainingPart:
    """A training segment the member was credited for."""

    title: str
    category: str
    approval_code: str
    hours: Decimal


def training_parts(segments: Iterable[dict[str, Any]] | None) -> tuple[TrainingPart, ...]:
    """The credited training segments of a line's `segments` detail (refused or zero ones counted as growth
    and are not training the member can claim)."""
    parts = []
    for entry in segments or ():
        hours = Decimal(str(entry.get("hours") or "0"))
        if hours > 0 and not entry.get("refused"):
            parts.append(
                TrainingPart(
                    title=str(entry.get("title") or ""),
                    category=str(entry.get("category") or ""),
                    approval_code=str(entry.get("approval_code") or ""),
                    hours=hours.quantize(TWO),
                )
            )
    return tuple(parts)


@dataclass(frozen=True)
class Credit:
    """What a certificate attests about a line; any change here makes a different certificate."""

    line_id: int
    member_id: int | None
    growth_hours: Decimal
    training_hours: Decimal
    training: tuple[TrainingPart, ...] = ()

    @property
    def total_hours(self) -> Decimal:
        return self.growth_hours + self.training_hours

    def to_json(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "member_id": self.member_id,
            "growth_hours": hours_text(self.growth_hours),
            "training_hours": hours_text(self.training_hours),
            "training": [
                {
                    "title": p.title,
                    "category": p.category,
                    "approval_code": p.approval_code,
                    "hours": hours_text(p.hours),
                }
                for p in self.training
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credit:
        return cls(
            line_id=int(data["line_id"]),
            member_id=data.get("member_id"),
            growth_hours=Decimal(data["growth_hours"]),
            training_hours=Decimal(data["training_hours"]),
            training=tuple(
                TrainingPart(
                    title=p["title"],
                    category=p["category"],
                    approval_code=p["approval_code"],
                    hours=Decimal(p["hours"]),
                )
                for p in data.get("training", ())
            ),
        )

    def fingerprint(self) -> str:
        """Equal for equal credit, whatever the Decimal's form ('1.5' and '1.50' are one credit)."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def credit_of(line: Any) -> Credit:
    """A credit line (model or anything with the same attributes) as a certificate sees it."""
    return Credit(
        line_id=line.id,
        member_id=line.member_id,
        growth_hours=Decimal(line.growth_hours).quantize(TWO),
        training_hours=Decimal(line.training_hours).quantize(TWO),
        training=training_parts(line.segments),
    )


# --- does a certificate still hold ---------------------------------------------------------------------


@dataclass(frozen=True)
class LineNow:
    """The certified line as it stands today."""

    status: str  # pending | approved | rejected | no_credit
    flagged: bool
    credit: Credit
    changed_at: datetime | None = None


VALID, UNDER_REVIEW, CORRECTED, WITHDRAWN = "valid", "under_review", "corrected", "withdrawn"


@dataclass(frozen=True)
class Standing:
    state: str  # valid | under_review | corrected | withdrawn
    summary: str  # one sentence for the verification page
    current: Credit | None = None  # the credit as it stands, when it differs from the paper


def _split(credit: Credit) -> str:
    text = f"{hours_text(credit.growth_hours)} growth"
    if credit.training_hours:
        text += f" + {hours_text(credit.training_hours)} training"
    return f"{text} = {hours_text(credit.total_hours)} hours"


def standing(issued: Credit, now: LineNow | None) -> Standing:
    """Whether a certificate issued for `issued` still holds, given the line today (its latest revision;
    None: the line is gone)."""
    if now is None:
        return Standing(
            WITHDRAWN, "This credit no longer exists: the attendance was corrected after this certificate was issued."
        )
    if now.credit.member_id != issued.member_id:
        return Standing(WITHDRAWN, "This credit was withdrawn: the attendance was found to be someone else's.")
    if now.status in ("rejected", "no_credit"):
        return Standing(WITHDRAWN, "This credit was withdrawn on review after this certificate was issued.")
    if now.status == "pending" or now.flagged:
        return Standing(
            UNDER_REVIEW,
            "This credit is being reviewed again since this certificate was issued "
            "(the attendance changed); ask the issuer before relying on it.",
            now.credit,
        )
    if now.credit.fingerprint() != issued.fingerprint():
        return Standing(
            CORRECTED,
            f"The credit was changed after this certificate was issued; it is now {_split(now.credit)}.",
            now.credit,
        )
    return Standing(VALID, "Valid: the credit is approved and unchanged since this certificate was issued.")


def initials(name: str) -> str:
    """'Ana María Ruiz-López' -> 'A. M. R.': all a verification page shows of who attended."""
    letters = [part[0] for part in name.replace("-", " ").split()[:3] if part[:1].isalpha()]
    # a letter whose capital is two letters ('ß' -> 'SS') stays as it is: one letter, one initial
    return " ".join(f"{c.upper() if len(c.upper()) == 1 else c}." for c in letters) or "—"


# --- what the papers say ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFacts:
    community: str
    local_date: date
    start: datetime | None  # UTC; the scheduled start, else when it began
    end: datetime | None
    timezone: str
    facilitators: tuple[str, ...] = ()

    @property
    def when(self) -> str:
        """'Tuesday, October 13, 2026 at 6:30 PM – 8:30 PM EDT' in the community's zone."""
        if self.start is None:
            return f"{self.local_date:%A, %B} {self.local_date.day}, {self.local_date.year}"
        text = when(self.start, self.timezone)
        if self.end is None:
            return text
        return f"{text.rsplit(' ', 1)[0]} – {clock_time(self.end, self.timezone)}"  # one zone name, at the end


@dataclass(frozen=True)
class Certificate:
    issuer: str
    member_name: str
    registry_id: str | None
    session: SessionFacts
    attended_seconds: int
    credit: Credit
    code: str  # displayed form
    verify_url: str
    issued_on: date

    @property
    def attended(self) -> str:
        return duration(self.attended_seconds)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs in the order the certificate prints them (the PDF and tests read these)."""
        rows = [
            ("Name", self.member_name),
            ("Registry ID", self.registry_id or "not on file"),
            ("Community of Practice", self.session.community),
            ("Session", self.session.when),
        ]
        if self.session.facilitators:
            rows.append(
                (
                    "Facilitator" if len(self.session.facilitators) == 1 else "Facilitators",
                    ", ".join(self.session.facilitators),
                )
            )
        rows += [
            ("Time attended", self.attended),
            ("Professional growth hours", hours_text(self.credit.growth_hours)),
            ("Training hours", hours_text(self.credit.training_hours)),
            ("Total hours", hours_text(self.credit.total_hours)),
        ]
        return rows


@dataclass(frozen=True)
class TranscriptRow:
    session: SessionFacts
    status: str
    credit: Credit
    code: str | None  # displayed verification code of the approved line's certificate


@dataclass(frozen=True)
class Transcript:
    issuer: str
    member_name: str
    registry_id: str | None
    year: LicensingYear
    rows: tuple[TranscriptRow, ...]  # approved lines of the year, oldest first
    hours: MemberYear
    verify_url: str  # where any code on it can be checked
    issued_on: date
    pending_sessions: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def year_hours(rows: Iterable[tuple[str, Credit]], year: LicensingYear, requirement: int | Decimal) -> MemberYear:
    """Totals by kind, approved apart from pending, and progress to the requirement, for one licensing year
    of one member's current lines (the staff pages' rule: `zoombot.core.member_grid`)."""
    facts = [Fact(0, year.first_day, status, credit.growth_hours, credit.training_hours) for status, credit in rows]
    found = member_years(facts, year.start_month, requirement)
    return found[0] if found else MemberYear(0, year.start_year, Decimal(requirement))


def transcript(
    *,
    issuer: str,
    member_name: str,
    registry_id: str | None,
    year: LicensingYear,
    lines: Sequence[tuple[SessionFacts, str, Credit, str | None]],
    requirement: int | Decimal,
    verify_url: str,
    issued_on: date,
) -> Transcript:
    """The year's transcript from the member's lines (session, status, credit, code), any order: approved
    lines are listed, pending ones only counted (they may still change)."""
    mine = [line for line in lines if year.contains(line[0].local_date)]
    rows = tuple(
        TranscriptRow(session=s, status=status, credit=c, code=code)
        for s, status, c, code in sorted(mine, key=lambda line: (line[0].local_date, line[2].line_id))
        if status == "approved"
    )
    totals = year_hours([(status, c) for _, status, c, _ in mine], year, requirement)
    pending = sum(1 for _, status, _, _ in mine if status == "pending")
    return Transcript(
        issuer=issuer,
        member_name=member_name,
        registry_id=registry_id,
        year=year,
        rows=rows,
        hours=totals,
        verify_url=verify_url,
        issued_on=issued_on,
        pending_sessions=pending,
    )
