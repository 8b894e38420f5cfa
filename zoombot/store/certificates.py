"""Certificates in the database: issuing one (its verification code), reading back what a code attests,
and the facts a certificate or transcript prints. The rules are in `zoombot.core.certificates`.

A code is issued the first time a certificate (or a transcript listing the line) is made for a line's
current credit, and the same credit always gets the same code (a unique key on line and fingerprint
decides between two downloads at once). Codes are random (`zoombot.core.verification_codes`), never ids.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import roles, verification_codes
from zoombot.core.certificates import Credit, LineNow, SessionFacts, Standing, credit_of, initials, standing
from zoombot.store import agenda_store
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import CertificateRecord, Community, CreditLine, CreditSession, Member, Membership


def session_facts(session: Session, held: CreditSession, settings: Settings) -> SessionFacts:
    """Community, local date and time (the scheduled ones where known, else when it ran) and who facilitated:
    the facilitators the meeting's agenda named, else the community's facilitators."""
    community = session.get(Community, held.community_id) if held.community_id else None
    tz = community.timezone if community else settings.schedule.timezone
    start: datetime | None
    end: datetime | None
    if held.scheduled_start is not None and held.scheduled_minutes:
        start, end = held.scheduled_start, held.scheduled_start + timedelta(minutes=held.scheduled_minutes)
    else:
        start, end = held.started_at, held.ended_at
    return SessionFacts(
        community=community.name if community else (held.topic or "Zoom meeting"),
        local_date=held.local_date,
        start=start,
        end=end,
        timezone=tz,
        facilitators=facilitators(session, held),
    )


def facilitators(session: Session, held: CreditSession) -> tuple[str, ...]:
    agenda = agenda_store.stored(session, held.occurrence_id) if held.occurrence_id else None
    named = tuple(a.name for a in agenda.roles if roles.facilitates(a.role) and a.name) if agenda else ()
    if named or held.community_id is None:
        return named
    return tuple(
        session.scalars(
            select(Member.name)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.community_id == held.community_id, Membership.role.in_(roles.FACILITATING))
            .order_by(Membership.role, Member.name)
        )
    )


def issue(session: Session, line: CreditLine, member: Member, now: datetime) -> CertificateRecord:
    """The certificate of the line's current credit: the one issued before for exactly this credit, or a
    new one with a new code."""
    credit = credit_of(line)
    fingerprint = credit.fingerprint()
    found = _issued(session, line.id, fingerprint)
    if found is None:
        insert_ignoring_conflict(
            session,
            CertificateRecord,
            {
                "code": verification_codes.new_code(secrets.token_bytes(verification_codes.RANDOM_BYTES)),
                "line_id": line.id,
                "member_id": line.member_id,
                "session_id": line.session_id,
                "fingerprint": fingerprint,
                "credit": credit.to_json(),
                "member_initials": initials(member.name),
                "issued_at": now,
            },
            ["line_id", "fingerprint"],
        )
        found = _issued(session, line.id, fingerprint)
        if found is None:  # inserted just now or by a racing caller, and certificates are kept
            raise RuntimeError(f"the certificate of line {line.id} is missing right after its insert")
    return found


def _issued(session: Session, line_id: int, fingerprint: str) -> CertificateRecord | None:
    return session.scalar(
        select(CertificateRecord).where(
            CertificateRecord.line_id == line_id, CertificateRecord.fingerprint == fingerprint
        )
    )


def issue_all(session: Session, lines: Iterable[CreditLine], member: Member, now: datetime) -> dict[int, str]:
    """Line id -> displayed code, for each approved line (a transcript lists them)."""
    return {
        line.id: verification_codes.display(issue(session, line, member, now).code)
        for line in lines
        if line.status == "approved"
    }


def latest_revision(session: Session, line: CreditLine) -> CreditLine:
    """The line as it stands today: its latest correction staff did not reject (a submitted line itself
    never changes; `zoombot.store.credit_lines`), else the line."""
    later = session.scalar(
        select(CreditLine)
        .where(
            CreditLine.session_id == line.session_id,
            CreditLine.participant_key == line.participant_key,
            CreditLine.revision > line.revision,
            CreditLine.status != "rejected",
        )
        .order_by(CreditLine.revision.desc())
        .limit(1)
    )
    return later if later is not None else line


@dataclass(frozen=True)
class Verified:
    """What the public verification page shows of a certificate, and nothing more."""

    code: str  # displayed
    issued_at: datetime
    member_initials: str
    session: SessionFacts | None
    credit: Credit
    standing: Standing


def verify(session: Session, code: str, settings: Settings) -> Verified | None:
    """The certificate a code names, with whether it still holds; None for no such code."""
    record = session.scalar(select(CertificateRecord).where(CertificateRecord.code == code))
    if record is None:
        return None
    issued = Credit.from_json(record.credit)
    line = session.get(CreditLine, record.line_id) if record.line_id is not None else None
    line = latest_revision(session, line) if line is not None else None
    now = (
        None
        if line is None
        else LineNow(status=line.status, flagged=line.flagged, credit=credit_of(line), changed_at=line.updated_at)
    )
    held = session.get(CreditSession, record.session_id) if record.session_id is not None else None
    return Verified(
        code=verification_codes.display(record.code),
        issued_at=record.issued_at,
        member_initials=record.member_initials,
        session=session_facts(session, held, settings) if held is not None else None,
        credit=issued,
        standing=standing(issued, now),
    )
