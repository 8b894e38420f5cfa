"""Everything one outbox row needs to become an e-mail, read from the database, or why not now.

`compose` answers a claimed row with the message to send, a `Skip` (it must never go: the member
unsubscribed, the meeting was cancelled or moved again, it is too late) or a `Defer` (not yet: a
follow-up whose session has not ended or has no credit lines so far, or whose closure nobody has
recorded yet while `[schedule] closure_wait_hours` has not run out). `message_facts` gathers what one message
says; the mail preview (`zoombot.mail.preview`) uses it too, without the checks.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import roles, schedule
from zoombot.core.credit import KINDS
from zoombot.core.join_link import join_details
from zoombot.core.member_tokens import MemberLink, make_page_token, make_token
from zoombot.core.schedule import zone
from zoombot.mail import messages
from zoombot.store import agenda_store, closure_store
from zoombot.store.models import Community, CreditLine, CreditSession, Member, Membership, Occurrence, OutboxMessage
from zoombot.store.outbox import CALENDAR_KINDS, FACILITATOR_KINDS, RECORDS_WAIT, Defer, Skip

#: The token in the personal links of a staff preview: it opens nothing.
PREVIEW_TOKEN = "preview-only-link"


def public_url(settings: Settings, path: str) -> str:
    return settings.web.base_url.rstrip("/") + path


def _link(settings: Settings, secret: str | None, purpose: str, path: str, link: MemberLink) -> str:
    return public_url(settings, f"{path}/{make_token(secret, purpose, link) if secret else PREVIEW_TOKEN}")


def unsubscribe_url(
    settings: Settings, secret: str | None, member_id: int, community_id: int, *, facilitator_mail: bool = False
) -> str:
    """The member-mail unsubscribe link, or (for facilitator mail) the facilitator-mail one."""
    if facilitator_mail:
        return _link(
            settings, secret, "facilitator_unsubscribe", "/unsubscribe/facilitator", MemberLink(member_id, community_id)
        )
    return _link(settings, secret, "unsubscribe", "/unsubscribe", MemberLink(member_id, community_id))


def resources_url(settings: Settings, secret: str | None, member_id: int, community_id: int) -> str:
    return _link(settings, secret, "resources", "/resources", MemberLink(member_id, community_id))


def member_page_url(settings: Settings, secret: str | None, member_id: int, now: datetime) -> str:
    """The member's personal "my hours" page, by a link that works `[web] member_link_days` from now."""
    return public_url(settings, f"/me/{make_page_token(secret, member_id, now) if secret else PREVIEW_TOKEN}")


def closure_url(settings: Settings, secret: str | None, member_id: int, occurrence: Occurrence) -> str:
    return _link(settings, secret, "closure", "/closure", MemberLink(member_id, occurrence.community_id, occurrence.id))


def session_of(session: Session, occurrence: Occurrence) -> CreditSession | None:
    """The session that was this occurrence: the one placed on it, else the community's on its local date."""
    linked = session.scalar(select(CreditSession).where(CreditSession.occurrence_id == occurrence.id).limit(1))
    if linked is not None:
        return linked
    community = occurrence.community
    day = occurrence.start.astimezone(zone(community.timezone)).date()
    return session.scalar(select(CreditSession).where(CreditSession.key == f"c{community.id}:{day.isoformat()}"))


def attendance_of(session: Session, credit_session: CreditSession, member_id: int) -> messages.Attendance | None:
    """The member's credit line in the session, as the follow-up shows it (None: they did not attend)."""
    line = session.scalar(
        select(CreditLine)
        .where(CreditLine.session_id == credit_session.id, CreditLine.member_id == member_id)
        .order_by(CreditLine.revision.desc())
        .limit(1)
    )  # a correction is the current line
    if line is None:
        return None
    status = "pending review" if line.status == "pending" else line.status
    amounts = {"growth": line.growth_hours, "training": line.training_hours}
    hours = tuple(
        messages.HoursLine(kind=kind, hours=amounts[kind], status=status) for kind in KINDS if amounts[kind] > 0
    )
    no_credit = None if hours else (line.no_credit_reason or ("rejected" if line.status == "rejected" else None))
    return messages.Attendance(attended_seconds=line.attended_seconds, hours=hours, no_credit=no_credit)


def compose(
    session: Session, settings: Settings, secret: str, row: OutboxMessage, now: datetime
) -> EmailMessage | Skip | Defer:
    if row.occurrence_id is None:  # a member's own mail, about no meeting
        from zoombot.mail.member import compose_member_mail

        return compose_member_mail(session, settings, secret, row, now)
    occurrence = session.get(Occurrence, row.occurrence_id)
    # a meeting is cancelled, never deleted (and its outbox rows would go with it: ON DELETE CASCADE)
    assert occurrence is not None
    community = occurrence.community
    member = session.get(Member, row.member_id) if row.member_id is not None else None
    membership = (
        session.scalar(
            select(Membership).where(Membership.community_id == community.id, Membership.member_id == row.member_id)
        )
        if member
        else None
    )
    if member is None or membership is None:
        return Skip("no longer a member of this community")
    if community.is_demo or member.is_demo:  # zoombot demo's fictional people: planned and shown, never sent
        return Skip("demo data: never mailed")
    if row.kind in FACILITATOR_KINDS:
        if membership.facilitator_mail_unsubscribed_at is not None:
            return Skip("unsubscribed from facilitator mail")
    elif membership.unsubscribed_at is not None:
        return Skip("unsubscribed")
    if row.kind == "facilitator_prep" and not roles.facilitates(membership.role):
        return Skip("no longer a facilitator of this community")
    if row.kind == "facilitator_closure":
        if not closure_store.may_close(session, occurrence, member.id):
            return Skip("no longer facilitates or takes notes for this meeting")
        if closure_store.stored(session, occurrence.id) is not None:
            return Skip("the closure is already recorded")
    if occurrence.status == "cancelled" and row.kind != "cancellation":
        return Skip("occurrence cancelled")
    if row.kind in CALENDAR_KINDS and row.revision != occurrence.sequence:
        return Skip(f"superseded by revision {occurrence.sequence}")
    if not schedule.is_sendable(row.due_at, row.expires_at, now):
        return Skip("expired before it could be sent")
    if row.kind == "followup":
        held = session_of(session, occurrence)
        if held is None or held.status != "ended" or held.lines_built_at is None:
            return Defer(now + RECORDS_WAIT, "waiting for the session's credit lines")
        give_up = row.due_at + timedelta(hours=settings.schedule.closure_wait_hours)
        if now < give_up and closure_store.stored(session, occurrence.id) is None:
            return Defer(min(now + RECORDS_WAIT, give_up), "waiting for the meeting's closure")
    if row.kind == "certificate_ready":
        from zoombot.mail.member import certificate_readiness

        waiting = certificate_readiness(session, session_of(session, occurrence), member.id, now)
        if waiting is not None:
            return waiting
    facts = message_facts(session, settings, secret, row.kind, occurrence, community, member, row.recipient, now)
    return messages.build(facts, settings.mail, now)


def meeting_facts(community: Community, occurrence: Occurrence) -> messages.MeetingFacts:
    join = join_details(
        zoom_meeting_id=community.zoom_meeting_id, join_url=community.join_url, passcode=community.passcode
    )
    return messages.MeetingFacts(
        community=community.name,
        community_id=community.id,
        original_start=occurrence.original_start,
        start=occurrence.start,
        end=occurrence.end,
        timezone=community.timezone,
        sequence=occurrence.sequence,
        join_url=join.url,
        meeting_number=join.meeting_id,
        passcode=join.passcode,
    )


def message_facts(
    session: Session,
    settings: Settings,
    secret: str | None,
    kind: str,
    occurrence: Occurrence,
    community: Community,
    member: Member,
    address: str,
    now: datetime,
) -> messages.MessageFacts:
    """What one message of `kind` about `occurrence` says to `member` (no checks; `secret` None makes
    placeholder personal links, for a staff preview)."""
    facts = messages.MessageFacts(
        kind=kind,
        recipient_name=member.name,
        recipient_address=address,
        meeting=meeting_facts(community, occurrence),
        unsubscribe_url=unsubscribe_url(
            settings, secret, member.id, community.id, facilitator_mail=kind in FACILITATOR_KINDS
        ),
        resources_url=resources_url(settings, secret, member.id, community.id),
    )
    if kind in ("facilitator_prep", "agenda"):
        return replace(
            facts,
            agenda=agenda_store.current(session, occurrence, now),
            agenda_url=public_url(settings, f"/staff/agendas/{occurrence.id}"),
            extra={"agenda_days": settings.schedule.agenda_days},
        )
    if kind == "facilitator_closure":
        return replace(
            facts,
            agenda=agenda_store.current(session, occurrence, now),
            closure_url=closure_url(settings, secret, member.id, occurrence),
            extra={"closure_wait_hours": settings.schedule.closure_wait_hours},
        )
    if kind == "followup":
        held = session_of(session, occurrence)
        return replace(
            facts,
            agenda=agenda_store.current(session, occurrence, now),
            attendance=attendance_of(session, held, member.id) if held is not None else None,
            outcome=closure_store.outcome(session, occurrence),
            member_page_url=member_page_url(settings, secret, member.id, now),
            member_link_days=settings.web.member_link_days,
        )
    if kind == "certificate_ready":
        held = session_of(session, occurrence)
        return replace(
            facts,
            attendance=attendance_of(session, held, member.id) if held is not None else None,
            member_page_url=member_page_url(settings, secret, member.id, now),
            member_link_days=settings.web.member_link_days,
        )
    if kind == "update" and occurrence.sequence == 1 and occurrence.original_start != occurrence.start:
        return replace(facts, previous_start=occurrence.original_start)
    return facts
