"""What a member's personal page shows, read from the database for one member only.

Every query here is filtered by the member the signed link names: their credit lines, the sessions of
their own communities, their claims, their memberships. Other people appear only as join and leave times
of unmatched participants a member may claim (`zoombot.core.claims.choices`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import claims, roles
from zoombot.core.certificates import TrainingPart, credit_of, hours_text, training_parts, year_hours
from zoombot.core.licensing_year import LicensingYear, year_of
from zoombot.core.member_grid import MemberYear
from zoombot.core.times import clock_time, duration
from zoombot.store import credit_lines
from zoombot.store.models import Community, CreditLine, CreditSession, Member, MemberClaim, Membership, Participant

#: How a line's status reads to the member it credits.
STATUS_WORDS = {
    "approved": "Approved",
    "pending": "Waiting for staff review",
    "rejected": "Not approved",
    "no_credit": "No hours",
}


def day_text(moment: datetime | None, tz: str, fallback: date) -> str:
    """'Tue, Oct 13, 2026': the local day of `moment`, else `fallback`."""
    local = moment.astimezone(ZoneInfo(tz)).date() if moment is not None else fallback
    return f"{local:%a, %b} {local.day}, {local.year}"


def span_text(spans, tz: str) -> str:
    """'6:31 PM – 7:02 PM, 7:10 PM – 8:25 PM EDT': join and leave times, nothing else."""
    parts = [f"{clock_time(a, tz).rsplit(' ', 1)[0]} – {clock_time(b, tz).rsplit(' ', 1)[0]}" for a, b in spans]
    zone = clock_time(spans[-1][1], tz).rsplit(" ", 1)[1] if spans else ""
    return f"{', '.join(parts)} {zone}".strip()


@dataclass
class ClaimView:
    status: str
    description: str | None
    chosen: str | None  # the times the member chose
    reason: str | None  # why staff declined
    updated_at: datetime


@dataclass
class SessionRow:
    session_id: int
    community: str
    local_date: date
    tz: str
    day: str
    time: str
    year: LicensingYear
    ended: bool
    line_id: int | None = None
    status: str | None = None  # a line's status, None: not counted
    status_text: str = "Not counted"
    flagged: bool = False
    note: str | None = None
    attended: str | None = None
    growth: str = "0.00"
    training: str = "0.00"
    total: str = "0.00"
    parts: tuple[TrainingPart, ...] = ()
    claim: ClaimView | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)  # (ref, times)

    @property
    def certificate(self) -> bool:
        return self.status == "approved"

    @property
    def may_claim(self) -> bool:
        return self.ended and (self.claim is None or self.claim.status != claims.ACCEPTED)


@dataclass
class Preference:
    community_id: int
    community: str
    role: str
    member_mail: bool
    facilitator_mail: bool | None  # None: this role gets no facilitator mail


@dataclass
class MemberPage:
    member: Member
    years: list[tuple[LicensingYear, MemberYear]]
    sessions: list[SessionRow]
    preferences: list[Preference]


def _zone(community: Community | None, settings: Settings) -> str:
    return community.timezone if community else settings.schedule.timezone


def _time(held: CreditSession, tz: str) -> str:
    start = held.scheduled_start or held.started_at
    if start is None:
        return ""
    end = (
        held.scheduled_start + timedelta(minutes=held.scheduled_minutes)
        if held.scheduled_start and held.scheduled_minutes
        else held.ended_at
    )
    return span_text([(start, end)], tz) if end else clock_time(start, tz)


def _unmatched(s: Session, session_ids: list[int]) -> dict[int, list[claims.Unmatched]]:
    found: dict[int, list[claims.Unmatched]] = defaultdict(list)
    if not session_ids:
        return found
    for p in s.scalars(
        select(Participant).where(
            Participant.session_id.in_(session_ids), Participant.member_id.is_(None), Participant.is_host.is_(False)
        )
    ):
        found[p.session_id].append(claims.Unmatched(p.identity_key, p.member_id, p.is_host, tuple(p.spans())))
    return found


def member_page(s: Session, settings: Settings, member_id: int, now: datetime, secret: str) -> MemberPage | None:
    member = s.get(Member, member_id)
    if member is None:
        return None
    start_month = settings.hours.licensing_year_start_month
    this_year = year_of(now.date(), start_month)
    memberships = s.execute(
        select(Membership, Community)
        .join(Community, Community.id == Membership.community_id)
        .where(Membership.member_id == member_id)
        .order_by(Community.name)
    ).all()
    community_ids = [c.id for _, c in memberships]
    lines = s.execute(
        select(CreditLine, CreditSession, Community)
        .join(CreditSession, CreditSession.id == CreditLine.session_id)
        .outerjoin(Community, Community.id == CreditSession.community_id)
        .where(CreditLine.member_id == member_id)
        .order_by(CreditSession.local_date.desc(), CreditSession.id.desc(), CreditLine.id)
    ).all()
    everything = lines
    replaced = credit_lines.uncounted(s, [held.id for _, held, _ in lines])  # an approved correction counts instead
    lines = [row for row in lines if row[0].id not in replaced]
    # a correction waiting for review is told on the row of the hours sent, which count until it is approved:
    # not a row and hours of its own beside them (the member would read both as hers)
    kept = {line.id for line, _, _ in lines}
    corrections = {
        line.corrects_id: line
        for line, _, _ in everything
        if line.id in replaced and line.corrects_id in kept and line.status != "rejected"
    }
    counted = {held.id for _, held, _ in lines}
    window_start = this_year.previous().first_day
    in_window = (
        s.execute(
            select(CreditSession, Community)
            .join(Community, Community.id == CreditSession.community_id)
            .where(
                CreditSession.community_id.in_(community_ids),
                CreditSession.local_date >= window_start,
                CreditSession.is_demo.is_(member.is_demo),
            )
            .order_by(CreditSession.local_date.desc())
        ).all()
        if community_ids
        else []
    )
    uncounted = [(held, c) for held, c in in_window if held.id not in counted and held.status != "scheduled"]
    mine = {c.session_id: c for c in s.scalars(select(MemberClaim).where(MemberClaim.member_id == member_id))}
    claimable = [held.id for _, held, _ in lines if held.local_date >= window_start] + [h.id for h, _ in uncounted]
    unmatched = _unmatched(s, claimable)

    rows: list[SessionRow] = []
    for line, held, community in lines:
        row = _row(held, community, _zone(community, settings), start_month)
        row.line_id, row.status, row.flagged = line.id, line.status, line.flagged
        row.status_text = STATUS_WORDS[line.status]
        correction = corrections.get(line.id)
        if correction is not None:
            row.note = (
                f"Staff are reviewing a correction of these hours, already sent to the registry: "
                f"{credit_lines.split_text(correction.growth_hours, correction.training_hours)} instead. Until it is "
                "approved, the hours sent count."
            )
        elif line.status == "no_credit" and line.no_credit_reason:
            row.note = line.no_credit_reason
        elif line.status == "pending" and line.corrects_id is not None:
            row.note = (
                "A correction of hours already sent to the registry; staff are reviewing it (until then "
                "the hours sent count)."
            )
        elif line.status == "pending" and line.flagged:
            row.note = "Your attendance changed since it was first reviewed; staff are checking it again."
        row.attended = duration(line.attended_seconds)
        credit = credit_of(line)
        row.growth, row.training = hours_text(credit.growth_hours), hours_text(credit.training_hours)
        row.total, row.parts = hours_text(credit.total_hours), training_parts(line.segments)
        rows.append(row)
    for held, community in uncounted:
        rows.append(_row(held, community, _zone(community, settings), start_month))
    rows.sort(key=lambda r: (r.local_date, r.session_id), reverse=True)
    for row in rows:
        claim = mine.get(row.session_id)
        if claim is not None:
            chosen = (
                span_text([(claim.chosen_first_join, claim.chosen_last_leave)], row.tz)
                if claim.chosen_first_join and claim.chosen_last_leave
                else None
            )
            row.claim = ClaimView(
                status=claim.status,
                description=claim.description,
                chosen=chosen,
                reason=claim.decision_reason,
                updated_at=claim.updated_at,
            )
        if row.may_claim and row.session_id in unmatched:
            row.choices = [
                (c.ref, span_text(c.spans, row.tz))
                for c in claims.choices(unmatched[row.session_id], secret=secret, session_id=row.session_id)
            ]

    facts = [(year_of(held.local_date, start_month), line.status, credit_of(line)) for line, held, _ in lines]
    shown = sorted({year for year, _, _ in facts} | {this_year}, reverse=True)
    years = [
        (
            year,
            year_hours(
                [(status, c) for y, status, c in facts if y == year], year, settings.hours.yearly_requirement_hours
            ),
        )
        for year in shown
    ]
    preferences = [
        Preference(
            community_id=c.id,
            community=c.name,
            role=roles.label(m.role),
            member_mail=m.unsubscribed_at is None,
            facilitator_mail=(m.facilitator_mail_unsubscribed_at is None) if roles.may_close(m.role) else None,
        )
        for m, c in memberships
    ]
    return MemberPage(member=member, years=years, sessions=rows, preferences=preferences)


def _row(held: CreditSession, community: Community | None, tz: str, start_month: int) -> SessionRow:
    start = held.scheduled_start or held.started_at
    return SessionRow(
        session_id=held.id,
        community=community.name if community else (held.topic or "Zoom meeting"),
        local_date=held.local_date,
        tz=tz,
        day=day_text(start, tz, held.local_date),
        time=_time(held, tz),
        year=year_of(held.local_date, start_month),
        ended=held.status == "ended",
    )
