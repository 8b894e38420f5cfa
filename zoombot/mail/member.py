"""Mail about a member's own hours, beyond the meeting cycle, through the outbox like every message:
- a fresh link to their personal page, asked for by e-mail address on the page (`request_link`): a row about
  no meeting, sent by the next sending pass, so the answer on the page and its timing never depend on
  whether the address is known;
- "your certificate is ready" once staff approve their line for a session (`plan_certificate_mail`, a job):
  one row per member and meeting under the outbox's unique key, so it goes once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import schedule
from zoombot.core.member_tokens import page_link_expires
from zoombot.mail import messages
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import CreditLine, CreditSession, Member, OutboxMessage
from zoombot.store.outbox import RECORDS_WAIT, Defer, Skip

LINK_KIND = "member_link"
CERTIFICATE_KIND = "certificate_ready"
#: A link mail is useful for a day; one asked for sooner than LINK_SPACING after the last (a double click,
#: or someone filling in another person's address) is not sent again, nor more than LINKS_PER_DAY a day.
LINK_LIFETIME = timedelta(hours=24)
LINK_SPACING = timedelta(minutes=10)
LINKS_PER_DAY = 5
#: Approvals this recent are announced (a scheduler that was down a day still catches up) ...
LOOKBACK = timedelta(days=2)
#: ... after this grace, so an approval taken back at once never reaches the member ...
GRACE = timedelta(minutes=15)
#: ... and while this fresh (a line reopened meanwhile is waited for).
CERTIFICATE_LIFETIME = timedelta(days=7)


def request_link(session: Session, email: str, now: datetime) -> bool:
    """Queue a link mail to the member with this address (any case); False when there is none or one was
    queued very recently. Callers answer the same either way."""
    member = session.scalar(select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        return False
    recent = session.execute(
        select(func.count(), func.max(OutboxMessage.created_at)).where(
            OutboxMessage.kind == LINK_KIND,
            OutboxMessage.member_id == member.id,
            OutboxMessage.created_at > now - timedelta(days=1),
        )
    ).one()
    if recent[0] >= LINKS_PER_DAY or (recent[1] is not None and recent[1] > now - LINK_SPACING):
        return False
    session.add(
        OutboxMessage(
            occurrence_id=None,
            kind=LINK_KIND,
            recipient=member.email,
            member_id=member.id,
            revision=0,
            status="pending",
            due_at=now,
            expires_at=now + LINK_LIFETIME,
            attempts=0,
            created_at=now,
        )
    )
    return True


def compose_member_mail(
    session: Session, settings: Settings, secret: str, row: OutboxMessage, now: datetime
) -> EmailMessage | Skip:
    """The message of an outbox row about no meeting (today: a fresh page link)."""
    from zoombot.mail.context import member_page_url, public_url

    member = session.get(Member, row.member_id) if row.member_id is not None else None
    if row.kind != LINK_KIND or member is None:
        return Skip("no longer a member")
    if member.is_demo:
        return Skip("demo data: never mailed")
    if not schedule.is_sendable(row.due_at, row.expires_at, now):
        return Skip("expired before it could be sent")
    days = settings.web.member_link_days
    variables = {
        "name": member.name,
        "url": member_page_url(settings, secret, member.id, now),
        "days": days,
        "until": page_link_expires(now, days),
        "tz": settings.schedule.timezone,
        "request_url": public_url(settings, "/me"),
    }
    env = messages.environment(settings.mail.templates_dir)
    subject = " ".join(env.get_template(f"{LINK_KIND}.subject.txt").render(variables).split())
    text = env.get_template(f"{LINK_KIND}.txt").render(variables)
    html = env.get_template(f"{LINK_KIND}.html").render(variables)
    return messages.envelope(LINK_KIND, row.recipient, subject, text, html, settings.mail, now, unsubscribe_url=None)


def plan_certificate_mail(session: Session, settings: Settings, now: datetime) -> int:
    """One "your certificate is ready" row per member and meeting with a line approved lately; how many
    were new. Off with `[mail] certificate_ready_mail = false`."""
    if not settings.mail.certificate_ready_mail:
        return 0
    rows = session.execute(
        select(CreditLine.member_id, Member.email, CreditSession.occurrence_id, func.min(CreditLine.decided_at))
        .join(CreditSession, CreditSession.id == CreditLine.session_id)
        .join(Member, Member.id == CreditLine.member_id)
        .where(
            CreditLine.status == "approved",
            CreditLine.decided_at > now - LOOKBACK,
            CreditSession.occurrence_id.is_not(None),
            CreditSession.is_demo.is_(False),
            Member.is_demo.is_(False),
        )
        .group_by(CreditLine.member_id, Member.email, CreditSession.occurrence_id)
    ).all()
    created = 0
    for member_id, email, occurrence_id, decided_at in rows:
        assert decided_at is not None  # the earliest decision of lines the query kept for being decided lately
        created += (
            insert_ignoring_conflict(
                session,
                OutboxMessage,
                {
                    "occurrence_id": occurrence_id,
                    "kind": CERTIFICATE_KIND,
                    "recipient": email.lower(),
                    "member_id": member_id,
                    "revision": 0,
                    "status": "pending",
                    "due_at": decided_at + GRACE,
                    "expires_at": decided_at + CERTIFICATE_LIFETIME,
                    "attempts": 0,
                    "created_at": now,
                },
                ["occurrence_id", "kind", "recipient", "revision"],
            )
            is not None
        )
    return created


def certificate_readiness(
    session: Session, held: CreditSession | None, member_id: int, now: datetime
) -> Skip | Defer | None:
    """None when the member has an approved line in the session (send); wait while a line of theirs is
    pending again (reopened since the approval); otherwise the mail is not needed."""
    statuses = (
        set(
            session.scalars(
                select(CreditLine.status).where(CreditLine.session_id == held.id, CreditLine.member_id == member_id)
            )
        )
        if held is not None
        else set()
    )
    if "approved" in statuses:
        return None
    if "pending" in statuses:
        return Defer(now + RECORDS_WAIT, "the line is being reviewed again")
    return Skip("no approved line any more")
