"""Everything one outbox row needs to become an e-mail, read from the database, or why not now.

`compose` answers a claimed row with the message to send, a `Skip` (it must never go: the member
unsubscribed, the meeting was cancelled or moved again, it is too late) or a `Defer` (not yet: a
follow-up whose session has not ended or has no credit lines so far).
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot import agenda_store, messages, schedule
from zoombot.config import Settings
from zoombot.member_tokens import MemberLink, make_token
from zoombot.credit import KINDS
from zoombot.models import Community, CreditLine, CreditSession, Member, Membership, Occurrence, OutboxMessage
from zoombot.schedule import zone
from zoombot.outbox import CALENDAR_KINDS, RECORDS_WAIT, Defer, Skip

def public_url(settings: Settings, path: str) -> str:
    return settings.web.base_url.rstrip("/") + path


def unsubscribe_url(settings: Settings, secret: str, member_id: int, community_id: int) -> str:
    token = make_token(secret, "unsubscribe", MemberLink(member_id, community_id))
    return public_url(settings, "/unsubscribe/" + token)


def resources_url(settings: Settings, secret: str, member_id: int, community_id: int) -> str:
    return public_url(settings, "/resources/" + make_token(secret, "resources", MemberLink(member_id, community_id)))


def session_of(session: Session, occurrence: Occurrence) -> CreditSession | None:
    """The session that was this occurrence: the one placed on it, else the community's on its local date."""
    linked = session.scalar(select(CreditSession).where(CreditSession.occurrence_id == occurrence.id).limit(1))
    if linked is not None:
        return linked
    community = session.get(Community, occurrence.community_id)
    day = occurrence.start.astimezone(zone(community.timezone)).date()
    return session.scalar(select(CreditSession).where(CreditSession.key == f"c{community.id}:{day.isoformat()}"))


def attendance_of(session: Session, credit_session: CreditSession, member_id: int) -> messages.Attendance | None:
    """The member's credit line in the session, as the follow-up shows it (None: they did not attend)."""
    line = session.scalar(select(CreditLine).where(CreditLine.session_id == credit_session.id,
                                                   CreditLine.member_id == member_id).order_by(CreditLine.id).limit(1))
    if line is None:
        return None
    status = "pending review" if line.status == "pending" else line.status
    amounts = {"growth": line.growth_hours, "training": line.training_hours}
    hours = tuple(messages.HoursLine(kind=kind, hours=amounts[kind], status=status) for kind in KINDS
                  if amounts[kind] > 0)
    no_credit = None if hours else (line.no_credit_reason or ("rejected" if line.status == "rejected" else None))
    return messages.Attendance(attended_seconds=line.attended_seconds, hours=hours, no_credit=no_credit)


def compose(session: Session, settings: Settings, secret: str, row: OutboxMessage,
            now: datetime) -> EmailMessage | Skip | Defer:
    occurrence = session.get(Occurrence, row.occurrence_id)
    community = session.get(Community, occurrence.community_id)
    member = session.get(Member, row.member_id) if row.member_id is not None else None
    membership = session.scalar(select(Membership).where(Membership.community_id == community.id,
                                                         Membership.member_id == row.member_id)) if member else None
    if member is None or membership is None:
        return Skip("no longer a member of this community")
    if community.is_demo or member.is_demo:  # zoombot demo's fictional people: planned and shown, never sent
        return Skip("demo data: never mailed")
    if membership.unsubscribed_at is not None:
        return Skip("unsubscribed")
    if row.kind == "facilitator_prep" and membership.role != "facilitator":
        return Skip("no longer a facilitator of this community")
    if occurrence.status == "cancelled" and row.kind != "cancellation":
        return Skip("occurrence cancelled")
    if row.kind in CALENDAR_KINDS and row.revision != occurrence.sequence:
        return Skip(f"superseded by revision {occurrence.sequence}")
    if not schedule.is_sendable(row.due_at, row.expires_at, now):
        return Skip("expired before it could be sent")

    facts = dict(kind=row.kind, recipient_name=member.name, recipient_address=row.recipient,
                 meeting=messages.MeetingFacts(community=community.name, community_id=community.id,
                                               original_start=occurrence.original_start, start=occurrence.start,
                                               end=occurrence.end, timezone=community.timezone,
                                               sequence=occurrence.sequence, join_url=_join_url(community)),
                 unsubscribe_url=unsubscribe_url(settings, secret, member.id, community.id),
                 resources_url=resources_url(settings, secret, member.id, community.id))
    if row.kind in ("facilitator_prep", "agenda"):
        facts["agenda"] = agenda_store.current(session, occurrence, now)
        facts["agenda_url"] = public_url(settings, f"/staff/agendas/{occurrence.id}")
        facts["extra"] = {"agenda_days": settings.schedule.agenda_days}
    elif row.kind == "followup":
        held = session_of(session, occurrence)
        if held is None or held.status != "ended" or held.lines_built_at is None:
            return Defer(now + RECORDS_WAIT, "waiting for the session's credit lines")
        facts["agenda"] = agenda_store.current(session, occurrence, now)
        facts["attendance"] = attendance_of(session, held, member.id)
    elif row.kind == "update" and occurrence.sequence == 1 and occurrence.original_start != occurrence.start:
        facts["previous_start"] = occurrence.original_start
    return messages.build(messages.MessageFacts(**facts), settings.mail, now)


def _join_url(community: Community) -> str | None:
    url = (community.join_url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url) else None
