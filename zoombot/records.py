"""Hours records: built when a meeting ends, kept in step with late events, changed only by review.

Every change writes an audit entry (who, when, from, to, why). Pending records follow the attendance;
approved or rejected ones are never changed by the system: a change in attendance flags them (and the
meeting) for review instead.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from zoombot import hours as policy_rules
from zoombot.attendance import MeetingAttendance
from zoombot.config import HoursSettings
from zoombot.models import AuditEntry, HoursRecord, Meeting

SYSTEM = "system"


def policy_from(settings: HoursSettings) -> policy_rules.Policy:
    return policy_rules.Policy(increment_minutes=settings.increment_minutes, rounding=settings.rounding,
                               minimum_minutes=settings.minimum_minutes, cap=settings.cap)


def audit_row(*, actor: str, entity: str, entity_id: int | None, action: str, meeting_id: int | None = None,
              from_value: object = None, to_value: object = None, reason: str | None = None,
              at: datetime | None = None) -> dict:
    """The columns of one audit entry (values shown as text), for one insert or a bulk one."""
    row = {"actor": actor, "entity": entity, "entity_id": entity_id, "action": action, "meeting_id": meeting_id,
           "from_value": None if from_value is None else str(from_value),
           "to_value": None if to_value is None else str(to_value), "reason": reason}
    if at is not None:
        row["at"] = at
    return row


def audit(session: Session, **fields) -> AuditEntry:
    """Record who changed what, when, from what, to what and why (fields: see `audit_row`)."""
    entry = AuditEntry(**audit_row(**fields))
    session.add(entry)
    return entry


def training_window(meeting: Meeting):
    if meeting.training_start and meeting.training_end and meeting.training_end > meeting.training_start:
        return meeting.training_start, meeting.training_end
    return None


def sync_records(session: Session, meetings: Sequence[tuple[Meeting, MeetingAttendance, Mapping[str, int | None]]],
                 settings: HoursSettings, now: datetime, *, reason: str) -> None:
    """Create or update these meetings' records from their attendance and their participants' matched
    members (as `meetings.refresh` wrote them): the existing records of all of them are read in one
    query, and the new ones written in two statements."""
    if not meetings:
        return
    policy = policy_from(settings)
    existing_by_meeting: dict[int, dict[tuple[str, str], HoursRecord]] = {m.id: {} for m, _, _ in meetings}
    for record in session.scalars(select(HoursRecord).where(HoursRecord.meeting_id.in_(list(existing_by_meeting)))):
        existing_by_meeting[record.meeting_id][(record.participant_key, record.kind)] = record
    created: list[dict] = []
    for meeting, result, members in meetings:
        scheduled = meeting.scheduled_minutes * 60 if meeting.scheduled_minutes else None
        window = training_window(meeting)
        existing = existing_by_meeting[meeting.id]
        wanted: set[tuple[str, str]] = set()
        for person in result.people.values():
            proposals = policy_rules.propose(person.spans(), policy, scheduled_seconds=scheduled,
                                             meeting_seconds=result.live_seconds, training_window=window)
            for proposal in proposals:
                key = (person.key, proposal.kind)
                wanted.add(key)
                record = existing.get(key)
                if record is None:
                    created.append({"meeting_id": meeting.id, "participant_key": person.key,
                                    "member_id": members.get(person.key), "kind": proposal.kind,
                                    "attended_seconds": proposal.attended_seconds, "proposed_hours": proposal.hours,
                                    "hours": proposal.hours, "status": "pending", "flagged": False,
                                    "created_at": now, "updated_at": now})
                else:
                    _update(session, record, proposal.attended_seconds, proposal.hours, members.get(person.key),
                            now, reason)
        for key, record in existing.items():
            if key not in wanted:
                _vanished(session, record, now, reason)
        meeting.needs_review = meeting.needs_review or any(r.flagged for r in existing.values())
        if meeting.records_built_at is None:
            meeting.records_built_at = now
    _create(session, created, now, reason)


def _create(session: Session, rows: list[dict], now: datetime, reason: str) -> None:
    """New pending records and their "created" audit entries, in two bulk statements (table-level: the
    ORM's per-row bookkeeping and ordered RETURNING would cost a rebuild more than the database does)."""
    if not rows:
        return
    records = HoursRecord.__table__
    ids = {(meeting_id, key, kind): record_id for record_id, meeting_id, key, kind in session.execute(
        insert(records).returning(records.c.id, records.c.meeting_id, records.c.participant_key, records.c.kind),
        rows)}
    session.execute(insert(AuditEntry.__table__), [
        audit_row(actor=SYSTEM, entity="hours_record", action="created", meeting_id=row["meeting_id"],
                  entity_id=ids[row["meeting_id"], row["participant_key"], row["kind"]],
                  to_value=f"{row['hours']} h", reason=reason, at=now)
        for row in rows])


def _update(session: Session, record: HoursRecord, seconds: int, proposed: Decimal, member_id: int | None,
            now: datetime, reason: str) -> None:
    changed = record.attended_seconds != seconds or Decimal(record.proposed_hours) != proposed
    if record.status == "pending":
        if record.member_id != member_id:
            record.member_id = member_id
            record.updated_at = now
        if not changed:
            return
        adjusted = Decimal(record.hours) != Decimal(record.proposed_hours)
        audit(session, actor=SYSTEM, entity="hours_record", entity_id=record.id, action="recomputed",
              meeting_id=record.meeting_id, from_value=f"{record.attended_seconds} s / {record.proposed_hours} h",
              to_value=f"{seconds} s / {proposed} h", reason=reason, at=now)
        record.attended_seconds, record.proposed_hours = seconds, proposed
        if adjusted:  # staff set the hours by hand: keep them, but ask for a second look
            record.flagged, record.flag_reason = True, "attendance changed after a manual adjustment"
        else:
            record.hours = proposed
        record.updated_at = now
    elif changed and not record.flagged:  # review acknowledges the new figures, which clears the flag
        flag = f"attendance changed after review: {record.attended_seconds} s -> {seconds} s ({proposed} h proposed)"
        record.flagged, record.flag_reason, record.updated_at = True, flag, now
        audit(session, actor=SYSTEM, entity="hours_record", entity_id=record.id, action="flagged",
              meeting_id=record.meeting_id, from_value=record.status, to_value=record.status, reason=flag, at=now)


def _vanished(session: Session, record: HoursRecord, now: datetime, reason: str) -> None:
    """The participant no longer exists on its own (merged into another, or the split changed)."""
    if record.status == "pending":
        audit(session, actor=SYSTEM, entity="hours_record", entity_id=record.id, action="removed",
              meeting_id=record.meeting_id, from_value=f"{record.hours} h", reason=reason, at=now)
        session.delete(record)
    elif not record.flagged:
        record.flagged, record.flag_reason, record.updated_at = True, "participant merged or removed after review", now
        audit(session, actor=SYSTEM, entity="hours_record", entity_id=record.id, action="flagged",
              meeting_id=record.meeting_id, reason=record.flag_reason, at=now)
