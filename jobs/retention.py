"""The retention job: strip personal data from sessions whose credit lines are settled and old enough.

The rules are `zoombot.core.retention` (pure); this shell loads one session (all its Zoom instances) at a time,
applies the plan, re-derives the participants from the stripped events and checks that every person kept
exactly the attendance (and member) they had, under their new pseudonym, before committing. A session that
would change is rolled back and reported, never half-stripped. Running it again changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from zoombot.core import claims, retention
from zoombot.core.attendance import Attendance
from zoombot.runtime import Runtime
from zoombot.store import meetings
from zoombot.store.audit import SYSTEM, audit
from zoombot.store.claims import without_words
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import (
    AuditEntry,
    CreditLine,
    CreditSession,
    Meeting,
    MemberClaim,
    Participant,
    ParticipantAlias,
    ParticipantMerge,
    ZoomEvent,
)

log = logging.getLogger("zoombot.jobs.retention")
SECRET_NAME = "retention_pseudonym_key"
BATCH = 25  # sessions per run: short transactions; the next run continues


class RetentionMismatch(Exception):
    """Stripping a session would have changed someone's attendance; nothing of it was stored."""


@dataclass
class Summary:
    sessions: int = 0
    events: int = 0
    orphan_events: int = 0
    failed: list[int] = field(default_factory=list)


def strip_due(runtime: Runtime) -> Summary:
    """The job: every due session (in batches), then events that belong to no meeting instance."""
    settings = runtime.settings.retention
    summary = Summary()
    if not settings.enabled:
        return summary
    now = runtime.now()
    cutoff = now - timedelta(days=settings.days)
    secret = runtime.instance_secret(SECRET_NAME)
    with runtime.db.begin() as session:
        candidates = list(
            session.scalars(
                select(CreditSession.id)
                .where(
                    CreditSession.status == "ended",
                    CreditSession.ended_at.is_not(None),
                    CreditSession.ended_at <= cutoff,
                    exists().where(
                        Meeting.session_id == CreditSession.id,
                        ZoomEvent.meeting_uuid == Meeting.uuid,
                        ZoomEvent.redacted_at.is_(None),
                    ),
                    ~exists().where(MemberClaim.session_id == CreditSession.id, MemberClaim.status == claims.OPEN),
                    ~exists().where(
                        CreditLine.session_id == CreditSession.id,
                        or_(
                            CreditLine.status == "pending",
                            and_(CreditLine.status == "approved", CreditLine.exported_at.is_(None)),
                        ),
                    ),
                )
                .order_by(CreditSession.ended_at)
                .limit(BATCH)
            )
        )
    for session_id in candidates:
        try:
            with runtime.db.begin() as session:
                summary.events += strip_session(session, session_id, now=now, days=settings.days, secret=secret)
                summary.sessions += 1
        except RetentionMismatch as exc:
            log.error("retention: session id=%s left unchanged: %s", session_id, exc)
            summary.failed.append(session_id)
    with runtime.db.begin() as session:
        summary.orphan_events = strip_orphan_events(session, now=now, cutoff=cutoff, secret=secret)
    if summary.sessions or summary.orphan_events:
        log.info(
            "retention: stripped %d sessions (%d events) and %d other events",
            summary.sessions,
            summary.events,
            summary.orphan_events,
        )
    if summary.failed:
        raise RetentionMismatch(f"{len(summary.failed)} sessions left unchanged (ids {summary.failed})")
    return summary


def strip_session(session: Session, session_id: int, *, now: datetime, days: int, secret: str) -> int:
    """Strip one session if it is due; returns the number of events stripped (0 when not due)."""
    held = session.get(CreditSession, session_id, with_for_update=True)
    if held is None:  # candidates come from the same table, and nothing deletes a session
        raise LookupError(f"retention: session id={session_id} does not exist")
    lines = list(session.scalars(select(CreditLine).where(CreditLine.session_id == held.id)))
    states = [retention.LineState(line.status, line.exported_at) for line in lines]
    member_claims = list(session.scalars(select(MemberClaim).where(MemberClaim.session_id == held.id)))
    claims_open = any(claim.status == claims.OPEN for claim in member_claims)
    if not retention.is_due(held.ended_at, states, now=now, days=days, claims_open=claims_open):
        return 0
    instances = list(held.meetings)
    rows = session.execute(
        select(ZoomEvent.id, ZoomEvent.event, ZoomEvent.body, ZoomEvent.redacted_at)
        .where(ZoomEvent.meeting_uuid.in_([m.uuid for m in instances]))
        .order_by(ZoomEvent.id)
    ).all()
    decision_rows = list(session.scalars(select(ParticipantMerge).where(ParticipantMerge.session_id == held.id)))
    merged = [(m.source_key, m.target_key) for m in decision_rows if m.kind == "merge"]
    unbinds = [frozenset((m.source_key, m.target_key)) for m in decision_rows if m.kind == "unbind"]
    people = list(session.scalars(select(Participant).where(Participant.session_id == held.id)))
    before = meetings.compute(session, held, now)
    keys = (
        {p.identity_key for p in people}
        | {line.participant_key for line in lines}
        | set(before.people)
        | {key for pair in unbinds for key in pair}
    )
    plan = retention.plan_meeting(
        [(r.id, r.event, r.body, r.redacted_at is not None) for r in rows],
        dict(merged),
        keys,
        secret=secret,
        unbinds=unbinds,
    )
    if not plan.bodies:
        return 0
    members = {p.identity_key: p.member_id for p in people}

    for event_id, body in plan.bodies.items():
        session.execute(update(ZoomEvent).where(ZoomEvent.id == event_id).values(body=body, redacted_at=now))
    for row in decision_rows:  # merged people share one pseudonym: a merge is kept on record, inert
        rename = (lambda key: retention.inert_key(secret, key)) if row.kind == "merge" else plan.key
        row.source_key, row.target_key = rename(row.source_key), rename(row.target_key)
    for key, member_id in members.items():
        if member_id is not None:  # the match survives a rebuild from the stripped events
            insert_ignoring_conflict(
                session,
                ParticipantAlias,
                {
                    "identity_key": plan.key(key),
                    "member_id": member_id,
                    "created_by": SYSTEM,
                    "created_at": now,
                },
                ["identity_key"],
            )
    session.flush()
    after = meetings.refresh(session, [held], now)[held.id].result
    _check_unchanged(before, after, plan, members, session, held)

    for line in lines:
        line.participant_key = plan.key(line.participant_key)
    renames = {key: retention.inert_key(secret, key) for pair in merged for key in pair}
    renames.update(plan.keys)
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.session_id == held.id)):
        for column in ("from_value", "to_value", "reason"):
            value = getattr(entry, column)
            if value:
                value = _rename(value, renames, plan.known)
                if entry.entity == "member_claim" and column != "reason":  # the claim as described: the member's words
                    value = without_words(value, retention.REDACTED)
                setattr(entry, column, value)
    for claim in member_claims:  # a member's own words may name anyone; staff's reason is masked as audit text is
        if claim.description:
            claim.description = retention.REDACTED
        if claim.decision_reason:
            claim.decision_reason = _rename(claim.decision_reason, renames, plan.known)
    for meeting in instances:
        if meeting.discrepancies:
            meeting.discrepancies = retention.strip_event(
                {"entries": meeting.discrepancies}, person_of=lambda p: "", secret=secret, known=plan.known
            )["entries"]
    audit(
        session,
        actor=SYSTEM,
        entity="session",
        entity_id=held.id,
        action="redacted",
        session_id=held.id,
        to_value=f"{len(plan.bodies)} events",
        reason=f"retention: personal data stripped {days} days after the session, lines settled and exported",
        at=now,
    )
    return len(plan.bodies)


def _rename(text: str, renames: dict[str, str], known: Iterable[str]) -> str:
    """Audit text with participant keys renamed to their pseudonyms and other personal values masked."""
    for old in sorted(renames, key=len, reverse=True):
        text = text.replace(old, renames[old])
    return retention.mask_text(text, known)


def _check_unchanged(
    before: Attendance,
    after: Attendance,
    plan: retention.MeetingPlan,
    members: dict[str, int | None],
    session: Session,
    held: CreditSession,
) -> None:
    expected = {plan.key(k): (p.attended_seconds, p.spans()) for k, p in before.people.items()}
    got = {k: (p.attended_seconds, p.spans()) for k, p in after.people.items()}
    if expected != got:
        raise RetentionMismatch(f"session id={held.id}: attendance would change")
    matched = dict(
        session.execute(
            select(Participant.identity_key, Participant.member_id).where(Participant.session_id == held.id)
        ).all()
    )
    if any(matched.get(plan.key(k)) != member for k, member in members.items() if plan.key(k) in matched):
        raise RetentionMismatch(f"session id={held.id}: a member match would be lost")


def strip_orphan_events(session: Session, *, now: datetime, cutoff: datetime, secret: str, limit: int = 500) -> int:
    """Old events of no meeting instance (schedule changes, registrations, unknown types): nothing derives
    from them any more, so they are stripped once they are older than the retention period."""
    rows = session.execute(
        select(ZoomEvent.id, ZoomEvent.event, ZoomEvent.body)
        .where(
            ZoomEvent.redacted_at.is_(None),
            ZoomEvent.received_at <= cutoff,
            ~exists().where(Meeting.uuid == ZoomEvent.meeting_uuid),
        )
        .order_by(ZoomEvent.id)
        .limit(limit)
    ).all()
    for row in rows:
        plan = retention.plan_meeting([(row.id, row.event, row.body, False)], {}, [], secret=secret)
        session.execute(
            update(ZoomEvent).where(ZoomEvent.id == row.id).values(body=plan.bodies[row.id], redacted_at=now)
        )
    return len(rows)
