"""The retention job: strip personal data from meetings whose records are settled and old enough.

The rules are `zoombot.retention` (pure); this shell loads one meeting at a time, applies the plan,
re-derives the participants from the stripped events and checks that every person kept exactly the
attendance (and member) they had, under their new pseudonym, before committing. A meeting that would
change is rolled back and reported, never half-stripped. Running it again changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from zoombot import meetings, retention
from zoombot.db import insert_ignoring_conflict
from zoombot.models import AuditEntry, HoursRecord, Meeting, Participant, ParticipantAlias, ParticipantMerge, ZoomEvent
from zoombot.records import SYSTEM, audit
from zoombot.runtime import Runtime

log = logging.getLogger("zoombot.jobs.retention")
SECRET_NAME = "retention_pseudonym_key"
BATCH = 25  # meetings per run: short transactions; the next run continues


class RetentionMismatch(Exception):
    """Stripping a meeting would have changed someone's attendance; nothing of it was stored."""


@dataclass
class Summary:
    meetings: int = 0
    events: int = 0
    orphan_events: int = 0
    failed: list[int] = field(default_factory=list)


def strip_due(runtime: Runtime) -> Summary:
    """The job: every due meeting (in batches), then events that belong to no meeting instance."""
    settings = runtime.settings.retention
    summary = Summary()
    if not settings.enabled:
        return summary
    now = runtime.now()
    cutoff = now - timedelta(days=settings.days)
    secret = runtime.instance_secret(SECRET_NAME)
    with runtime.db.begin() as session:
        candidates = list(session.scalars(select(Meeting.id).where(
            Meeting.status == "ended", Meeting.ended_at.is_not(None), Meeting.ended_at <= cutoff,
            exists().where(ZoomEvent.meeting_uuid == Meeting.uuid, ZoomEvent.redacted_at.is_(None)),
            ~exists().where(HoursRecord.meeting_id == Meeting.id, or_(
                HoursRecord.status == "pending",
                and_(HoursRecord.status == "approved", HoursRecord.exported_at.is_(None)))),
        ).order_by(Meeting.ended_at).limit(BATCH)))
    for meeting_id in candidates:
        try:
            with runtime.db.begin() as session:
                summary.events += strip_meeting(session, meeting_id, now=now, days=settings.days, secret=secret)
                summary.meetings += 1
        except RetentionMismatch as exc:
            log.error("retention: meeting id=%s left unchanged: %s", meeting_id, exc)
            summary.failed.append(meeting_id)
    with runtime.db.begin() as session:
        summary.orphan_events = strip_orphan_events(session, now=now, cutoff=cutoff, secret=secret)
    if summary.meetings or summary.orphan_events:
        log.info("retention: stripped %d meetings (%d events) and %d other events", summary.meetings,
                 summary.events, summary.orphan_events)
    if summary.failed:
        raise RetentionMismatch(f"{len(summary.failed)} meetings left unchanged (ids {summary.failed})")
    return summary


def strip_meeting(session: Session, meeting_id: int, *, now: datetime, days: int, secret: str) -> int:
    """Strip one meeting if it is due; returns the number of events stripped (0 when not due)."""
    meeting = session.get(Meeting, meeting_id, with_for_update=True)
    records = list(session.scalars(select(HoursRecord).where(HoursRecord.meeting_id == meeting.id)))
    states = [retention.RecordState(r.status, r.exported_at) for r in records]
    if not retention.is_due(meeting.ended_at, states, now=now, days=days):
        return 0
    rows = session.execute(select(ZoomEvent.id, ZoomEvent.event, ZoomEvent.body, ZoomEvent.redacted_at)
                           .where(ZoomEvent.meeting_uuid == meeting.uuid).order_by(ZoomEvent.id)).all()
    merge_rows = list(session.scalars(select(ParticipantMerge).where(ParticipantMerge.meeting_id == meeting.id)))
    merged = [(m.source_key, m.target_key) for m in merge_rows]
    people = list(session.scalars(select(Participant).where(Participant.meeting_id == meeting.id)))
    before = meetings.compute(session, meeting, now)
    keys = {p.identity_key for p in people} | {r.participant_key for r in records} | set(before.people)
    plan = retention.plan_meeting([(r.id, r.event, r.body, r.redacted_at is not None) for r in rows],
                                  dict(merged), keys, secret=secret)
    if not plan.bodies:
        return 0
    members = {p.identity_key: p.member_id for p in people}

    for event_id, body in plan.bodies.items():
        session.execute(update(ZoomEvent).where(ZoomEvent.id == event_id).values(body=body, redacted_at=now))
    for merge in merge_rows:
        merge.source_key = retention.inert_key(secret, merge.source_key)
        merge.target_key = retention.inert_key(secret, merge.target_key)
    for key, member_id in members.items():
        if member_id is not None:  # the match survives a rebuild from the stripped events
            insert_ignoring_conflict(session, ParticipantAlias, {
                "identity_key": plan.key(key), "member_id": member_id, "created_by": SYSTEM, "created_at": now,
            }, ["identity_key"])
    session.flush()
    after = meetings.refresh_participants(session, meeting, now)
    _check_unchanged(before, after, plan, members, session, meeting)

    for record in records:
        record.participant_key = plan.key(record.participant_key)
    renames = {key: retention.inert_key(secret, key) for pair in merged for key in pair}
    renames.update(plan.keys)
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)):
        for column in ("from_value", "to_value", "reason"):
            value = getattr(entry, column)
            if value:
                setattr(entry, column, _rename(value, renames, plan.known))
    if meeting.discrepancies:
        meeting.discrepancies = retention.strip_event({"entries": meeting.discrepancies},
                                                      person_of=lambda p: "", secret=secret,
                                                      known=plan.known)["entries"]
    audit(session, actor=SYSTEM, entity="meeting", entity_id=meeting.id, action="redacted", meeting_id=meeting.id,
          to_value=f"{len(plan.bodies)} events", reason=f"retention: personal data stripped {days} days after the "
                                                        "meeting, records settled and exported", at=now)
    return len(plan.bodies)


def _rename(text: str, renames: dict[str, str], known) -> str:
    """Audit text with participant keys renamed to their pseudonyms and other personal values masked."""
    for old in sorted(renames, key=len, reverse=True):
        text = text.replace(old, renames[old])
    return retention.mask_text(text, known)


def _check_unchanged(before, after, plan: retention.MeetingPlan, members, session: Session, meeting: Meeting) -> None:
    expected = {plan.key(k): (p.attended_seconds, p.spans()) for k, p in before.people.items()}
    got = {k: (p.attended_seconds, p.spans()) for k, p in after.people.items()}
    if expected != got:
        raise RetentionMismatch(f"meeting id={meeting.id}: attendance would change")
    matched = dict(session.execute(select(Participant.identity_key, Participant.member_id)
                                   .where(Participant.meeting_id == meeting.id)).all())
    if any(matched.get(plan.key(k)) != member for k, member in members.items() if plan.key(k) in matched):
        raise RetentionMismatch(f"meeting id={meeting.id}: a member match would be lost")


def strip_orphan_events(session: Session, *, now: datetime, cutoff: datetime, secret: str, limit: int = 500) -> int:
    """Old events of no meeting instance (schedule changes, registrations, unknown types): nothing derives
    from them any more, so they are stripped once they are older than the retention period."""
    rows = session.execute(select(ZoomEvent.id, ZoomEvent.event, ZoomEvent.body).where(
        ZoomEvent.redacted_at.is_(None), ZoomEvent.received_at <= cutoff,
        ~exists().where(Meeting.uuid == ZoomEvent.meeting_uuid)).order_by(ZoomEvent.id).limit(limit)).all()
    for row in rows:
        plan = retention.plan_meeting([(row.id, row.event, row.body, False)], {}, [], secret=secret)
        session.execute(update(ZoomEvent).where(ZoomEvent.id == row.id)
                        .values(body=plan.bodies[row.id], redacted_at=now))
    return len(rows)
