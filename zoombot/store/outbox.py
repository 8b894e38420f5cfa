"""The outbox: every message zoombot will send, one row per (occurrence, kind, recipient, revision).

Planning inserts rows ignoring conflicts, so running it again (or in two processes at once) adds
nothing. Sending claims one row at a time with a compare-and-set UPDATE (`pending` -> `sending`, checked
by its rowcount; on PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED` so two senders do not
even queue behind each other) and commits the claim before talking to SMTP: a row is sent by whoever
won the claim and nobody else. A claim is a lease: if its sender dies, it expires and the row is tried
again (the only case where a message might arrive twice is a crash between SMTP's "250 OK" and the
commit that follows it).

Revisions: an invite, update or cancellation carries the occurrence's `sequence` as `revision`, so a moved
occurrence gets new rows (the old unsent ones are superseded) while other kinds keep revision 0 and
simply follow the new time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from zoombot.config import ScheduleSettings
from zoombot.core import roles, schedule
from zoombot.store import closure_store
from zoombot.store.audit import audit
from zoombot.store.db import insert_ignoring_conflict, rows_changed
from zoombot.store.models import Member, Membership, Occurrence, OutboxMessage

#: Kinds that carry a calendar file; their revision is the occurrence's sequence.
CALENDAR_KINDS = ("invite", "update", "cancellation")
FACILITATOR_KINDS = schedule.FACILITATOR_KINDS
ALL_KINDS = schedule.MESSAGE_KINDS + ("update", "cancellation")
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
#: When a follow-up waits for the meeting's records, look again this much later.
RECORDS_WAIT = timedelta(minutes=30)


def offsets(settings: ScheduleSettings) -> schedule.Offsets:
    return schedule.Offsets(
        facilitator_prep_days=settings.facilitator_prep_days,
        invite_days=settings.invite_days,
        agenda_days=settings.agenda_days,
        reminder_minutes=settings.reminder_minutes,
        followup_hours=settings.followup_hours,
        closure_wait_hours=settings.closure_wait_hours,
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 5 min, 10, 20, ... at most 6 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


# --- Planning -----------------------------------------------------------------------------------------


def recipients(session: Session, occurrence: Occurrence, kind: str) -> list[tuple[int, str]]:
    """(member id, address) of whoever gets this kind of message about this meeting and still wants it:
    every member for member mail; the facilitators and co-facilitators for the preparation mail; them and
    the meeting's note-taker for the closure request (each under the facilitator-mail preference)."""
    condition: ColumnElement[bool]
    if kind == "facilitator_closure":
        wanted = {member_id for member_id, _ in closure_store.meeting_closers(session, occurrence)}
        condition = Member.id.in_(wanted)
    elif kind == "facilitator_prep":
        condition = Membership.role.in_(roles.FACILITATING)
    else:
        condition = Membership.unsubscribed_at.is_(None)
    if kind in FACILITATOR_KINDS:
        condition = condition & Membership.facilitator_mail_unsubscribed_at.is_(None)
    query = (
        select(Member.id, Member.email)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.community_id == occurrence.community_id, condition)
        .order_by(Member.id)
    )
    return [(member_id, email.lower()) for member_id, email in session.execute(query)]


def _insert(
    session: Session,
    occurrence: Occurrence,
    kind: str,
    member_id: int,
    address: str,
    revision: int,
    due: datetime,
    expires: datetime,
    now: datetime,
    known: set[tuple[str, str, int]] | None = None,
) -> bool:
    """Insert one row unless it exists (`known` only saves statements; the unique key decides races)."""
    if known is not None and (kind, address, revision) in known:
        return False
    return (
        insert_ignoring_conflict(
            session,
            OutboxMessage,
            {
                "occurrence_id": occurrence.id,
                "kind": kind,
                "recipient": address,
                "member_id": member_id,
                "revision": revision,
                "status": "pending",
                "due_at": due,
                "expires_at": expires,
                "attempts": 0,
                "created_at": now,
            },
            ["occurrence_id", "kind", "recipient", "revision"],
        )
        is not None
    )


def _calendar_holders(session: Session, occurrence: Occurrence) -> dict[str, int]:
    """Address -> highest revision of a calendar entry (invite or update) actually delivered."""
    rows = session.execute(
        select(OutboxMessage.recipient, func.max(OutboxMessage.revision))
        .where(
            OutboxMessage.occurrence_id == occurrence.id,
            OutboxMessage.status == "sent",
            OutboxMessage.kind.in_(("invite", "update")),
        )
        .group_by(OutboxMessage.recipient)
    )
    return dict(rows.all())


def plan_occurrence(session: Session, occurrence: Occurrence, settings: ScheduleSettings, now: datetime) -> int:
    """Insert the rows this occurrence needs now; returns how many were new. Idempotent."""
    if occurrence.status == "cancelled":
        return _plan_cancellation(session, occurrence, now)
    occ = schedule.Occurrence(
        original_start=occurrence.original_start,
        start=occurrence.start,
        end=occurrence.end,
        local_start=occurrence.start,
    )
    plans = {p.kind: p for p in schedule.plan_messages(occ, offsets(settings))}
    everyone = recipients(session, occurrence, "invite")
    revision = occurrence.sequence
    created = 0

    # Rows planned for an earlier time of a moved occurrence follow it.
    for kind, plan in plans.items():
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.occurrence_id == occurrence.id,
                OutboxMessage.kind == kind,
                OutboxMessage.status == "pending",
                or_(OutboxMessage.due_at != plan.due_at, OutboxMessage.expires_at != plan.expires_at),
            )
            .values(due_at=plan.due_at, expires_at=plan.expires_at)
        )
    # Calendar entries of an older revision that were never sent are replaced by the current one.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.occurrence_id == occurrence.id,
            OutboxMessage.kind.in_(CALENDAR_KINDS),
            OutboxMessage.status == "pending",
            OutboxMessage.revision < revision,
        )
        .values(status="skipped", last_error=f"superseded by revision {revision}")
    )

    holders = _calendar_holders(session, occurrence)
    known = {
        (known_kind, recipient, known_revision)
        for known_kind, recipient, known_revision in session.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.revision).where(
                OutboxMessage.occurrence_id == occurrence.id
            )
        )
    }
    for kind, plan in plans.items():
        if plan.expires_at <= now or plan.due_at >= plan.expires_at:
            continue  # already useless, or switched off by a zero offset
        people = recipients(session, occurrence, kind) if kind in FACILITATOR_KINDS else everyone
        for member_id, address in people:
            if kind == "invite":
                held = holders.get(address)
                if held is not None and held < revision and occurrence.start > now:
                    created += _insert(
                        session,
                        occurrence,
                        "update",
                        member_id,
                        address,
                        revision,
                        max(now, occurrence.updated_at),
                        occurrence.start,
                        now,
                        known,
                    )
                    continue
                if held is not None:
                    continue  # already holds the current entry
                created += _insert(
                    session, occurrence, kind, member_id, address, revision, plan.due_at, plan.expires_at, now, known
                )
            else:
                created += _insert(
                    session, occurrence, kind, member_id, address, 0, plan.due_at, plan.expires_at, now, known
                )
    return created


def _plan_cancellation(session: Session, occurrence: Occurrence, now: datetime) -> int:
    """Skip everything still pending; tell whoever holds a calendar entry that it is off."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.occurrence_id == occurrence.id,
            OutboxMessage.status == "pending",
            OutboxMessage.kind != "cancellation",
        )
        .values(status="skipped", last_error="occurrence cancelled")
    )
    if occurrence.start <= now:
        return 0
    wanted = {address: member_id for member_id, address in recipients(session, occurrence, "cancellation")}
    created = 0
    for address in _calendar_holders(session, occurrence):
        if address in wanted:
            created += _insert(
                session,
                occurrence,
                "cancellation",
                wanted[address],
                address,
                occurrence.sequence,
                max(now, occurrence.updated_at),
                occurrence.start,
                now,
            )
    return created


def occurrences_to_plan(session: Session, now: datetime, horizon: timedelta) -> list[Occurrence]:
    """Every occurrence some message may still be useful for (up to a follow-up's lifetime after it)."""
    oldest = now - schedule.FOLLOWUP_LIFETIME - timedelta(days=2)
    return list(
        session.scalars(
            select(Occurrence)
            .where(Occurrence.end > oldest, Occurrence.start < now + horizon)
            .order_by(Occurrence.start, Occurrence.id)
        )
    )


# --- Sending ------------------------------------------------------------------------------------------


def expire(session: Session, now: datetime) -> int:
    """Pending rows that can no longer be useful (the meeting started, the follow-up is too late)."""
    return rows_changed(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.expires_at <= now)
        .values(status="skipped", last_error="expired before it could be sent"),
    )


def release_expired_claims(session: Session, now: datetime) -> int:
    """Claims whose sender died (its lease ran out) go back to the queue, counting as an attempt."""
    expired = and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until <= now)
    reason = "claim expired: the sender stopped before finishing"
    given_up = rows_changed(
        session,
        update(OutboxMessage)
        .where(expired, OutboxMessage.attempts + 1 >= MAX_ATTEMPTS)
        .values(
            status="failed", claimed_by=None, claimed_until=None, attempts=OutboxMessage.attempts + 1, last_error=reason
        ),
    )
    return given_up + rows_changed(
        session,
        update(OutboxMessage)
        .where(expired)
        .values(
            status="pending",
            claimed_by=None,
            claimed_until=None,
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now,
            last_error=reason,
        ),
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.status == "pending",
        OutboxMessage.due_at <= now,
        OutboxMessage.expires_at > now,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def claim_next(session: Session, worker: str, now: datetime, lease: timedelta) -> int | None:
    """Claim one due row for `worker`; its id, or None when nothing is left. Commit right after."""
    query = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.due_at, OutboxMessage.id).limit(10)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for row_id in session.scalars(query).all():
        won = rows_changed(
            session,
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
            .values(status="sending", claimed_by=worker, claimed_until=now + lease),
        )
        if won == 1:
            return row_id
    return None


def _mine(row_id: int, worker: str) -> ColumnElement[bool]:
    return and_(OutboxMessage.id == row_id, OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker)


def mark_sent(session: Session, row_id: int, worker: str, now: datetime, message_id: str) -> bool:
    return (
        rows_changed(
            session,
            update(OutboxMessage)
            .where(_mine(row_id, worker))
            .values(
                status="sent",
                sent_at=now,
                message_id=message_id[:300],
                claimed_by=None,
                claimed_until=None,
                attempts=OutboxMessage.attempts + 1,
                last_error=None,
            ),
        )
        == 1
    )


def mark_skipped(session: Session, row_id: int, worker: str, reason: str) -> bool:
    return (
        rows_changed(
            session,
            update(OutboxMessage)
            .where(_mine(row_id, worker))
            .values(status="skipped", claimed_by=None, claimed_until=None, last_error=reason),
        )
        == 1
    )


def defer(session: Session, row_id: int, worker: str, until: datetime, reason: str) -> bool:
    """Not yet (e.g. a follow-up waiting for records): back to the queue, no attempt used."""
    return (
        rows_changed(
            session,
            update(OutboxMessage)
            .where(_mine(row_id, worker))
            .values(status="pending", claimed_by=None, claimed_until=None, next_attempt_at=until, last_error=reason),
        )
        == 1
    )


def mark_failed_attempt(
    session: Session, row: OutboxMessage, worker: str, now: datetime, error: str, *, permanent: bool
) -> str:
    """Record a failed try: back to `pending` with backoff, or `failed` for good. Returns the new status."""
    attempts = row.attempts + 1
    retry_at = now + retry_delay(attempts)
    give_up = permanent or attempts >= MAX_ATTEMPTS or retry_at >= row.expires_at
    status = "failed" if give_up else "pending"
    session.execute(
        update(OutboxMessage)
        .where(_mine(row.id, worker))
        .values(
            status=status,
            attempts=attempts,
            next_attempt_at=None if give_up else retry_at,
            claimed_by=None,
            claimed_until=None,
            last_error=error[:1000],
        )
    )
    return status


def retry(session: Session, row_id: int, now: datetime, *, actor: str) -> bool:
    """Staff asked to try a failed (or waiting) message again, now, with a fresh count of attempts (audited).

    A message past its useful time stays as it is: an invite after the meeting started helps nobody.
    """
    done = (
        rows_changed(
            session,
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.status.in_(("failed", "pending")),
                OutboxMessage.expires_at > now,
            )
            .values(status="pending", attempts=0, next_attempt_at=now, last_error=None),
        )
        == 1
    )
    if done:
        audit(session, actor=actor, entity="outbox", entity_id=row_id, action="retry", at=now)
    return done


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str
