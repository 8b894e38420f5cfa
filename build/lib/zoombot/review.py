"""Staff review of hours records and of a meeting's attendance: the only way reviewed data changes.

Each function changes one thing and writes an audit entry per change (who, when, from, to, why) with
`zoombot.records.audit`. Decisions about attendance (a match, a merge, a training window) are stored in
their own tables and then applied through `zoombot.meetings.attendance_changed`, so a rebuild from the
stored events reaches the same result.

Record states: pending -> approved | rejected (approve, reject); approved | rejected -> pending (reopen).
Hours may be adjusted while pending or approved (a rejected record is reopened first). A flagged
record was changed by late events after review: `acknowledge` takes in the new figures and clears the
flag; approving a flagged pending record clears its flag too, since the reviewer has now seen it.
`approve_meeting` approves every pending record of the meeting, flagged ones included, for the same
reason; approved records that are flagged stay flagged until acknowledged one by one.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot import hours as policy_rules
from zoombot import meetings
from zoombot.config import HoursSettings
from zoombot.db import insert_ignoring_conflict
from zoombot.models import HoursRecord, Meeting, Member, Participant, ParticipantAlias, ParticipantMerge
from zoombot.records import audit, policy_from, training_window

MAX_HOURS = Decimal("24")


class ReviewError(ValueError):
    """A review action that cannot be done as asked; the message is for the reviewer."""


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("a reason is required")
    return reason


def _record(session: Session, record_id: int) -> HoursRecord:
    record = session.get(HoursRecord, record_id, with_for_update=True)
    if record is None:
        raise ReviewError(f"no hours record {record_id}")
    return record


def _meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise ReviewError(f"no meeting {meeting_id}")
    return meeting


def parse_hours(value: object) -> Decimal:
    """Hours as typed by a reviewer ('1.5', '1,5') -> Decimal with two places, 0..24."""
    try:
        hours = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ReviewError("hours must be a number, e.g. 1.5") from None
    if not hours.is_finite() or hours < 0 or hours > MAX_HOURS:
        raise ReviewError("hours must be between 0 and 24")
    return hours.quantize(Decimal("0.01"))


def _set_status(session: Session, record: HoursRecord, status: str, *, actor: str, now: datetime,
                action: str, reason: str | None) -> None:
    audit(session, actor=actor, entity="hours_record", entity_id=record.id, action=action,
          meeting_id=record.meeting_id, from_value=record.status, to_value=status, reason=reason, at=now)
    record.status, record.updated_at = status, now


def approve(session: Session, record_ids: Iterable[int], *, actor: str, now: datetime,
            reason: str | None = None) -> int:
    """Approve pending records (clearing their flags); any record not pending is refused."""
    records = [_record(session, record_id) for record_id in dict.fromkeys(record_ids)]
    for record in records:
        if record.status != "pending":
            raise ReviewError(f"record {record.id} is {record.status}, not pending")
    for record in records:
        seen = f"flag cleared: {record.flag_reason}" if record.flagged else None
        _set_status(session, record, "approved", actor=actor, now=now, action="approved",
                    reason="; ".join(part for part in (reason, seen) if part) or None)
        record.flagged, record.flag_reason = False, None
    for meeting_id in {record.meeting_id for record in records}:
        _settle(session, _meeting(session, meeting_id))
    return len(records)


def approve_meeting(session: Session, meeting_id: int, *, actor: str, now: datetime) -> int:
    """Approve every pending record of an ended meeting; returns how many."""
    meeting = _meeting(session, meeting_id)
    if meeting.status != "ended":
        raise ReviewError("the meeting has not ended yet")
    ids = session.scalars(select(HoursRecord.id).where(HoursRecord.meeting_id == meeting_id,
                                                       HoursRecord.status == "pending")
                          .order_by(HoursRecord.id)).all()
    return approve(session, ids, actor=actor, now=now)


def adjust(session: Session, record_id: int, hours: Decimal, *, actor: str, now: datetime, reason: str) -> None:
    """Set a pending or approved record's hours by hand (0..24, reason required)."""
    reason = _reason(reason)
    hours = parse_hours(hours)
    record = _record(session, record_id)
    if record.status == "rejected":
        raise ReviewError("reopen a rejected record before changing its hours")
    if Decimal(record.hours) == hours:
        raise ReviewError(f"the record already has {hours} h")
    audit(session, actor=actor, entity="hours_record", entity_id=record.id, action="adjusted",
          meeting_id=record.meeting_id, from_value=f"{record.hours} h", to_value=f"{hours} h", reason=reason, at=now)
    record.hours, record.updated_at = hours, now


def reject(session: Session, record_id: int, *, actor: str, now: datetime, reason: str) -> None:
    """Reject a pending or approved record (reason required); clears its flag."""
    reason = _reason(reason)
    record = _record(session, record_id)
    if record.status == "rejected":
        raise ReviewError("the record is already rejected")
    _set_status(session, record, "rejected", actor=actor, now=now, action="rejected", reason=reason)
    record.flagged, record.flag_reason = False, None
    _settle(session, _meeting(session, record.meeting_id))


def reopen(session: Session, record_id: int, *, actor: str, now: datetime, reason: str,
           settings: HoursSettings) -> None:
    """Back to pending (reason required); the record then follows the attendance again, so it is brought
    in step at once (a record whose participant no longer exists on its own is removed)."""
    reason = _reason(reason)
    record = _record(session, record_id)
    if record.status == "pending":
        raise ReviewError("the record is already pending")
    _set_status(session, record, "pending", actor=actor, now=now, action="reopened", reason=reason)
    meeting = _meeting(session, record.meeting_id)
    meetings.attendance_changed(session, meeting, settings, now, reason="record reopened")


def current_proposals(session: Session, meeting: Meeting, settings: HoursSettings,
                      now: datetime) -> dict[tuple[str, str], policy_rules.Proposal]:
    """What the hours policy proposes now for each (participant key, kind) of the meeting."""
    result = meetings.compute(session, meeting, now)
    scheduled = meeting.scheduled_minutes * 60 if meeting.scheduled_minutes else None
    policy, window = policy_from(settings), training_window(meeting)
    out = {}
    for person in result.people.values():
        for proposal in policy_rules.propose(person.spans(), policy, scheduled_seconds=scheduled,
                                             meeting_seconds=result.live_seconds, training_window=window):
            out[(person.key, proposal.kind)] = proposal
    return out


def acknowledge(session: Session, record_id: int, *, actor: str, now: datetime, settings: HoursSettings,
                hours: Decimal | None = None, reason: str | None = None) -> None:
    """A flagged record: take in the current attendance figures, clear the flag, optionally set hours.

    A participant that no longer exists on its own (merged away) now counts 0 s / 0 h proposed.
    """
    record = _record(session, record_id)
    if not record.flagged:
        raise ReviewError("the record is not flagged")
    meeting = _meeting(session, record.meeting_id)
    proposal = current_proposals(session, meeting, settings, now).get((record.participant_key, record.kind))
    seconds, proposed = (proposal.attended_seconds, proposal.hours) if proposal else (0, Decimal("0.00"))
    audit(session, actor=actor, entity="hours_record", entity_id=record.id, action="acknowledged",
          meeting_id=record.meeting_id, from_value=f"{record.attended_seconds} s / {record.proposed_hours} h",
          to_value=f"{seconds} s / {proposed} h", reason=reason or record.flag_reason, at=now)
    record.attended_seconds, record.proposed_hours = seconds, proposed
    record.flagged, record.flag_reason, record.updated_at = False, None, now
    if hours is not None and parse_hours(hours) != Decimal(record.hours):
        adjust(session, record.id, hours, actor=actor, now=now, reason=reason or "acknowledged new attendance")
    _settle(session, meeting)


def _participant(session: Session, meeting_id: int, identity_key: str) -> Participant:
    participant = session.scalar(select(Participant).where(Participant.meeting_id == meeting_id,
                                                           Participant.identity_key == identity_key))
    if participant is None:
        raise ReviewError("no such participant in this meeting")
    return participant


def match(session: Session, meeting_id: int, identity_key: str, member_id: int, *, actor: str, now: datetime,
          settings: HoursSettings) -> None:
    """This participant is this member, here and in later meetings (a `participant_aliases` row).

    A match is always remembered: participant rows are re-derived from events and aliases, so an alias
    is the one durable place a match lives. The meeting's records of that participant, reviewed ones
    included, take the member; then the meeting's attendance is refreshed.
    """
    meeting = _meeting(session, meeting_id)
    participant = _participant(session, meeting_id, identity_key)
    if session.get(Member, member_id) is None:
        raise ReviewError("no such member")
    before = participant.member_id
    alias_id = insert_ignoring_conflict(session, ParticipantAlias, {
        "identity_key": identity_key, "member_id": member_id, "created_by": actor, "created_at": now},
        ["identity_key"])
    if alias_id is None:
        alias = session.scalar(select(ParticipantAlias).where(ParticipantAlias.identity_key == identity_key))
        alias.member_id, alias.created_by, alias.created_at = member_id, actor, now
        alias_id = alias.id
    audit(session, actor=actor, entity="participant_alias", entity_id=alias_id, action="matched",
          meeting_id=meeting_id, from_value=f"member {before}" if before else "unmatched",
          to_value=f"member {member_id}", at=now)
    for record in session.scalars(select(HoursRecord).where(HoursRecord.meeting_id == meeting_id,
                                                            HoursRecord.participant_key == identity_key)):
        if record.member_id != member_id:
            audit(session, actor=actor, entity="hours_record", entity_id=record.id, action="matched",
                  meeting_id=meeting_id, from_value=f"member {record.member_id}" if record.member_id else "unmatched",
                  to_value=f"member {member_id}", at=now)
            record.member_id, record.updated_at = member_id, now
    meetings.attendance_changed(session, meeting, settings, now, reason="participant matched by staff")


def merge(session: Session, meeting_id: int, source_key: str, target_key: str, *, actor: str, now: datetime,
          settings: HoursSettings) -> None:
    """In this meeting, `source_key` (e.g. a phone dial-in) is the same person as `target_key`.

    Their presence becomes one union; the merged person keeps the strongest identifier of the two (a
    registrant id or e-mail beats a display name), so the surviving records follow `records.sync_records`:
    pending records of the vanished identity are removed, reviewed ones are flagged.
    """
    if source_key == target_key:
        raise ReviewError("pick two different participants")
    meeting = _meeting(session, meeting_id)
    _participant(session, meeting_id, source_key)
    _participant(session, meeting_id, target_key)
    merge_id = insert_ignoring_conflict(session, ParticipantMerge, {
        "meeting_id": meeting_id, "source_key": source_key, "target_key": target_key, "created_by": actor,
        "created_at": now}, ["meeting_id", "source_key"])
    if merge_id is None:
        raise ReviewError("that participant is already merged into another")
    audit(session, actor=actor, entity="participant_merge", entity_id=merge_id, action="merged",
          meeting_id=meeting_id, from_value=source_key, to_value=target_key, at=now)
    meetings.attendance_changed(session, meeting, settings, now, reason="participants merged by staff")


def set_training_window(session: Session, meeting_id: int, start: datetime | None, end: datetime | None, *,
                        actor: str, now: datetime, settings: HoursSettings) -> None:
    """Mark (or, with None, clear) the elective-training part of a meeting; records split accordingly."""
    meeting = _meeting(session, meeting_id)
    if (start is None) != (end is None):
        raise ReviewError("give both a start and an end, or neither")
    if start is not None:
        if end <= start:
            raise ReviewError("the training window must end after it starts")
        live_start, live_end = meeting.started_at, meeting.ended_at or now
        if live_start is None or start < live_start or end > live_end:
            raise ReviewError("the training window must lie within the time the meeting was live")
    old = (meeting.training_start, meeting.training_end)
    if old == (start, end):
        raise ReviewError("the training window is already set that way")
    audit(session, actor=actor, entity="meeting", entity_id=meeting.id, action="training_window",
          meeting_id=meeting.id, from_value=_window_text(*old), to_value=_window_text(start, end), at=now)
    meeting.training_start, meeting.training_end = start, end
    meetings.attendance_changed(session, meeting, settings, now, reason="training window changed by staff")


def _window_text(start: datetime | None, end: datetime | None) -> str:
    return f"{start.isoformat()} - {end.isoformat()}" if start and end else "none"


def _settle(session: Session, meeting: Meeting) -> None:
    """A meeting stops asking for review once none of its records is flagged."""
    session.flush()
    meeting.needs_review = bool(session.scalar(select(HoursRecord.id).where(
        HoursRecord.meeting_id == meeting.id, HoursRecord.flagged.is_(True)).limit(1)))
