"""Everything one outbox row needs to become an e-mail, read from the database, or why not now.

`compose` answers a claimed row with the message to send, a `Skip` (it must never go: the member
unsubscribed, the meeting was cancelled or moved again, it is too late) or a `Defer` (not yet: a
follow-up whose meeting has no hours records so far).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from zoombot import agenda_store, messages, schedule
from zoombot.config import Settings
from zoombot.member_tokens import MemberLink, make_token
from zoombot.models import Community, HoursRecord, Meeting, Member, Membership, Occurrence, OutboxMessage
from zoombot.outbox import CALENDAR_KINDS, RECORDS_WAIT, Defer, Skip

#: How far a Zoom meeting instance's start may be from the occurrence's to count as that occurrence.
SAME_MEETING = timedelta(hours=12)


def public_url(settings: Settings, path: str) -> str:
    return settings.web.base_url.rstrip("/") + path


def unsubscribe_url(settings: Settings, secret: str, member_id: int, community_id: int) -> str:
    token = make_token(secret, "unsubscribe", MemberLink(member_id, community_id))
    return public_url(settings, "/unsubscribe/" + token)


def resources_url(settings: Settings, secret: str, member_id: int, community_id: int) -> str:
    return public_url(settings, "/resources/" + make_token(secret, "resources", MemberLink(member_id, community_id)))


def meeting_of(session: Session, occurrence: Occurrence) -> Meeting | None:
    """The Zoom meeting instance that was this occurrence (linked, or the community's closest in time)."""
    linked = session.scalar(select(Meeting).where(Meeting.occurrence_id == occurrence.id).limit(1))
    if linked is not None:
        return linked
    candidates = session.scalars(select(Meeting).where(
        Meeting.community_id == occurrence.community_id,
        or_(Meeting.started_at.between(occurrence.start - SAME_MEETING, occurrence.start + SAME_MEETING),
            Meeting.scheduled_start.between(occurrence.start - SAME_MEETING, occurrence.start + SAME_MEETING))))
    return min(candidates, default=None,
               key=lambda m: abs(((m.started_at or m.scheduled_start) - occurrence.start).total_seconds()))


def attendance_of(session: Session, meeting: Meeting, member_id: int) -> messages.Attendance | None:
    rows = list(session.scalars(select(HoursRecord).where(HoursRecord.meeting_id == meeting.id,
                                                          HoursRecord.member_id == member_id)
                                .order_by(HoursRecord.kind)))
    if not rows:
        return None
    lines = tuple(messages.HoursLine(kind=r.kind, hours=r.hours, status=r.status) for r in rows if r.hours > 0)
    return messages.Attendance(attended_seconds=max(r.attended_seconds for r in rows), hours=lines)


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
        meeting = meeting_of(session, occurrence)
        if meeting is None or meeting.status != "ended" or meeting.records_built_at is None:
            return Defer(now + RECORDS_WAIT, "waiting for the meeting's hours records")
        facts["agenda"] = agenda_store.current(session, occurrence, now)
        facts["attendance"] = attendance_of(session, meeting, member.id)
    elif row.kind == "update" and occurrence.sequence == 1 and occurrence.original_start != occurrence.start:
        facts["previous_start"] = occurrence.original_start
    return messages.build(messages.MessageFacts(**facts), settings.mail, now)


def _join_url(community: Community) -> str | None:
    url = (community.join_url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url) else None
