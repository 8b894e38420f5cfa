"""Meeting instances and their derived attendance, loaded from and written to the database.

The thin shell around `zoombot.attendance`: load a meeting's stored events, compute, and rewrite the
derived `participants` rows. Staff decisions (merges, remembered matches) are read, never rebuilt.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from zoombot import attendance
from zoombot.attendance import MeetingAttendance, parse_time
from zoombot.config import HoursSettings
from zoombot.db import insert_ignoring_conflict
from zoombot.matching import match_member
from zoombot.models import (Community, Meeting, Member, Participant, ParticipantAlias, ParticipantMerge,
                            ZoomEvent)
from zoombot.records import sync_records


def ensure_meeting(session: Session, uuid: str, zoom_meeting_id: str, obj: dict, *, is_demo: bool = False) -> Meeting:
    """The meeting row for `uuid`, created on first sight (events may arrive before meeting.started)."""
    meeting = session.scalar(select(Meeting).where(Meeting.uuid == uuid))
    if meeting is not None:
        return meeting
    community_id = session.scalar(select(Community.id).where(Community.zoom_meeting_id == zoom_meeting_id))
    duration = obj.get("duration")
    insert_ignoring_conflict(session, Meeting, {
        "uuid": uuid, "zoom_meeting_id": zoom_meeting_id, "community_id": community_id,
        "topic": str(obj.get("topic") or "")[:300], "status": "scheduled", "discrepancies": [],
        "scheduled_start": parse_time(obj.get("start_time")),
        "scheduled_minutes": int(duration) if isinstance(duration, (int, float, str)) and str(duration).isdigit() else None,
        "is_demo": is_demo, "needs_review": False,
    }, ["uuid"])
    return session.scalar(select(Meeting).where(Meeting.uuid == uuid))


def signals(session: Session, uuid: str) -> list[attendance.Signal]:
    rows = session.execute(select(ZoomEvent.event, ZoomEvent.body).where(ZoomEvent.meeting_uuid == uuid))
    out: list[attendance.Signal] = []
    for name, body in rows:
        out.extend(attendance.signals_from_event(name, body))
    return out


def merges(session: Session, meeting_id: int) -> dict[str, str]:
    rows = session.execute(select(ParticipantMerge.source_key, ParticipantMerge.target_key)
                           .where(ParticipantMerge.meeting_id == meeting_id))
    return dict(rows.all())


def until_for(meeting: Meeting, now: datetime) -> datetime | None:
    """Where open presence ends: the meeting's end, or now while it is live."""
    if meeting.status == "ended" and meeting.ended_at:
        return meeting.ended_at
    return now


def compute(session: Session, meeting: Meeting, now: datetime) -> MeetingAttendance:
    return attendance.compute(signals(session, meeting.uuid), until=until_for(meeting, now),
                              merges=merges(session, meeting.id))


def refresh_participants(session: Session, meeting: Meeting, now: datetime) -> MeetingAttendance:
    """Recompute the meeting's attendance and rewrite its derived participant rows."""
    result = compute(session, meeting, now)
    keys = list(result.people)
    aliases = dict(session.execute(select(ParticipantAlias.identity_key, ParticipantAlias.member_id)
                                   .where(ParticipantAlias.identity_key.in_(keys))).all()) if keys else {}
    emails = {p.email for p in result.people.values() if p.email}
    members_by_email = dict(session.execute(select(Member.email, Member.id).where(Member.email.in_(emails))).all()) \
        if emails else {}
    session.execute(delete(Participant).where(Participant.meeting_id == meeting.id))
    rows = []
    for person in result.people.values():
        member_id, method = match_member(person.key, person.email, aliases=aliases, members_by_email=members_by_email)
        rows.append({
            "meeting_id": meeting.id, "identity_key": person.key, "name": person.name[:200],
            "email": person.email or None, "registrant_id": person.registrant_id or None,
            "zoom_user_id": person.user_id or None, "is_host": person.is_host, "devices": person.devices,
            "incomplete": person.incomplete, "attended_seconds": person.attended_seconds,
            "intervals": [[a.isoformat(), b.isoformat(), src] for a, b, src in person.intervals],
            "first_join": person.first_join, "last_leave": person.last_leave, "member_id": member_id,
            "match_method": method})
    if rows:  # one bulk statement: a statewide rebuild writes tens of thousands of rows
        session.execute(insert(Participant), rows)
    live = result.live
    if live:
        meeting.started_at = min(live[0][0], meeting.started_at or live[0][0])
    session.flush()
    return result


def stale_meetings(session: Session, now: datetime, after: timedelta) -> list[Meeting]:
    """Meetings that never got their meeting.ended: no event for `after` past their scheduled end."""
    last_event = (select(ZoomEvent.meeting_uuid, func.max(ZoomEvent.received_at).label("last"))
                  .group_by(ZoomEvent.meeting_uuid).subquery())
    rows = session.execute(select(Meeting, last_event.c.last)
                           .outerjoin(last_event, last_event.c.meeting_uuid == Meeting.uuid)
                           .where(Meeting.status != "ended")).all()
    stale = []
    for meeting, last in rows:
        start = meeting.started_at or meeting.scheduled_start
        if start is None:
            continue
        scheduled_end = start + timedelta(minutes=meeting.scheduled_minutes or 0)
        if now - max(scheduled_end, last or scheduled_end) >= after:
            stale.append(meeting)
    return stale


def mark_started(meeting: Meeting, start: datetime | None) -> None:
    """meeting.started: live, unless this is a late copy of a start that an end already closed."""
    if start is None:
        return
    meeting.started_at = min(start, meeting.started_at or start)
    if meeting.status != "ended" or (meeting.ended_at and start > meeting.ended_at):
        meeting.status = "live"


def mark_ended(meeting: Meeting, start: datetime | None, end: datetime | None, *, by: str = "event") -> None:
    """meeting.ended (or the finalizer): the latest end wins; a restarted meeting ends again later."""
    if end is None:
        return
    if start is not None:
        meeting.started_at = min(start, meeting.started_at or start)
    meeting.ended_at = max(end, meeting.ended_at or end)
    meeting.status = "ended"
    meeting.finalized_by = by


def attendance_changed(session: Session, meeting: Meeting, settings: HoursSettings, now: datetime, *,
                       reason: str) -> MeetingAttendance:
    """Recompute participants; once the meeting has ended, bring its hours records in step."""
    result = refresh_participants(session, meeting, now)
    if meeting.status == "ended":
        sync_records(session, meeting, result, settings, now, reason=reason)
    return result


def rebuild(session: Session, settings: HoursSettings, now: datetime) -> int:
    """Re-derive every meeting's state, participants and records from the stored events."""
    uuids = session.scalars(select(ZoomEvent.meeting_uuid).where(ZoomEvent.meeting_uuid.is_not(None))
                            .group_by(ZoomEvent.meeting_uuid)).all()
    for uuid in uuids:
        events = session.execute(select(ZoomEvent.event, ZoomEvent.meeting_id, ZoomEvent.body)
                                 .where(ZoomEvent.meeting_uuid == uuid).order_by(ZoomEvent.event_ts)).all()
        meeting_id = next((mid for _, mid, _ in events if mid), None)
        if meeting_id is None:
            continue
        obj = (events[0].body.get("payload") or {}).get("object") or {}
        meeting = ensure_meeting(session, uuid, meeting_id, obj)
        for name, _, body in events:
            event_obj = (body.get("payload") or {}).get("object") or {}
            if name == "meeting.started":
                mark_started(meeting, parse_time(event_obj.get("start_time")))
            elif name == "meeting.ended":
                mark_ended(meeting, parse_time(event_obj.get("start_time")), parse_time(event_obj.get("end_time")))
        attendance_changed(session, meeting, settings, now, reason="rebuilt from stored events")
    return len(uuids)
