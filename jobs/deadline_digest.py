"""Job: a daily digest to staff of sessions with open lines near (or past) their registry deadline.

Safe to run twice and from several schedulers: the day's rows (one per staff login) are inserted ignoring
conflicts, and each row is claimed with a compare-and-set and a lease before SMTP is spoken to, as the
outbox does, so nobody gets a day's digest twice; a sender that died leaves its claim to expire and be
taken again. The digest's content is read at sending time. Off when `[registry] submission_days` is 0.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from jobs.sending import worker_name
from zoombot.core import deadlines
from zoombot.mail import digest
from zoombot.mail.messages import environment
from zoombot.mail.sending import Mailer, MailFailure, PermanentFailure
from zoombot.runtime import Runtime
from zoombot.store.db import insert_ignoring_conflict, rows_changed
from zoombot.store.models import Community, CreditLine, CreditSession, DeadlineDigest, StaffUser

log = logging.getLogger("zoombot.jobs.digest")
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def due_items(session: Session, runtime: Runtime, today: date) -> list[digest.Item]:
    """Sessions with open lines whose due date is near or past."""
    settings = runtime.settings
    days, before = settings.registry.submission_days, settings.registry.digest_days_before
    pending = func.sum(case((CreditLine.status == "pending", 1), else_=0))
    unsent = func.sum(case((and_(CreditLine.status == "approved", CreditLine.submitted_at.is_(None)), 1), else_=0))
    rows = session.execute(
        select(CreditSession.id, CreditSession.local_date, CreditSession.topic, Community.name, pending, unsent)
        .join(CreditLine, CreditLine.session_id == CreditSession.id)
        .outerjoin(Community, Community.id == CreditSession.community_id)
        .where(CreditSession.status == "ended", CreditSession.local_date >= today - timedelta(days=days + 365))
        .group_by(CreditSession.id, CreditSession.local_date, CreditSession.topic, Community.name)
    ).all()
    base = settings.web.base_url.rstrip("/")
    return [
        digest.Item(
            sid,
            name or topic or "Session",
            day,
            due,
            waiting or 0,
            ready or 0,
            f"{base}/staff/sessions/{sid}",
        )
        for sid, day, topic, name, waiting, ready in rows
        if (waiting or ready)
        and deadlines.near(day, days, today, before)
        and (due := deadlines.due(day, days, today)) is not None  # a near session has a due date
    ]


def run(runtime: Runtime) -> dict[str, int]:
    settings = runtime.settings
    counts = {"planned": 0, "sent": 0, "failed": 0}
    if settings.registry.submission_days <= 0:
        return counts
    now = runtime.now()
    today = now.astimezone(ZoneInfo(settings.schedule.timezone)).date()
    with runtime.db.begin() as session:
        items = due_items(session, runtime, today)
        if items:
            for email in session.scalars(select(StaffUser.email).where(StaffUser.role == "staff")):
                counts["planned"] += (
                    insert_ignoring_conflict(
                        session,
                        DeadlineDigest,
                        {
                            "digest_date": today,
                            "recipient": email,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": now,
                        },
                        ["digest_date", "recipient"],
                    )
                    is not None
                )
        session.execute(
            update(DeadlineDigest)
            .where(DeadlineDigest.status == "sending", DeadlineDigest.claimed_until <= now)
            .values(status="pending", claimed_by=None, claimed_until=None)
        )
        session.execute(
            update(DeadlineDigest)
            .where(DeadlineDigest.status == "pending", DeadlineDigest.digest_date < today)
            .values(status="failed", last_error="not sent on its day; a newer digest follows")
        )
    if not items:
        return counts
    environment(settings.mail.templates_dir)  # template errors show before anything is claimed
    worker = worker_name()
    with Mailer(settings.mail) as mailer:
        while True:
            with runtime.db.begin() as session:
                row = session.scalar(
                    select(DeadlineDigest)
                    .where(DeadlineDigest.digest_date == today, DeadlineDigest.status == "pending")
                    .order_by(DeadlineDigest.id)
                    .limit(1)
                )
                if row is None:
                    break
                won = rows_changed(
                    session,
                    update(DeadlineDigest)
                    .where(DeadlineDigest.id == row.id, DeadlineDigest.status == "pending")
                    .values(status="sending", claimed_by=worker, claimed_until=now + LEASE),
                )
                row_id, recipient, attempts = row.id, row.recipient, row.attempts
            if not won:
                continue
            message = digest.build(
                items,
                recipient=recipient,
                registry=settings.registry.name,
                queue_url=f"{settings.web.base_url.rstrip('/')}/staff/attention",
                today=today,
                mail=settings.mail,
                now=now,
            )
            mine = and_(DeadlineDigest.id == row_id, DeadlineDigest.claimed_by == worker)
            try:
                mailer.send(message)
            except MailFailure as exc:
                give_up = isinstance(exc, PermanentFailure) or attempts + 1 >= MAX_ATTEMPTS
                with runtime.db.begin() as session:
                    session.execute(
                        update(DeadlineDigest)
                        .where(mine)
                        .values(
                            status="failed" if give_up else "pending",
                            attempts=attempts + 1,
                            claimed_by=None,
                            claimed_until=None,
                            last_error=str(exc)[:1000],
                        )
                    )
                counts["failed"] += 1
                log.warning("deadline digest %s not sent: %s", row_id, exc)
                if not give_up:
                    break  # the next run tries again
                continue
            with runtime.db.begin() as session:
                session.execute(
                    update(DeadlineDigest)
                    .where(mine)
                    .values(
                        status="sent",
                        sent_at=runtime.now(),
                        attempts=attempts + 1,
                        claimed_by=None,
                        claimed_until=None,
                        last_error=None,
                    )
                )
            counts["sent"] += 1
    return counts
