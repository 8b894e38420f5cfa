"""Meeting instances and their derived attendance, loaded from and written to the database.

The thin shell around `zoombot.attendance`: load a meeting's stored events, compute, and rewrite the
derived `participants` rows. Staff decisions (merges, remembered matches) are read, never rebuilt.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from zoombot import attendance
from zoombot.attendance import MeetingAttendance, parse_time
from zoombot.config import HoursSettings
from zoombot.db import dialect_insert
from zoombot.matching import match_member
from zoombot.models import (Community, Meeting, Member, Participant, ParticipantAlias, ParticipantMerge,
                            ZoomEvent)
from zoombot.records import sync_records


def ensure_meeting(session: Session, uuid: str, zoom_meeting_id: str, obj: dict, *, is_demo: bool = False) -> Meeting:
    """The meeting row for `uuid`, created on first sight (events may arrive before meeting.started)."""
    return ensure_meetings(session, {uuid: (zoom_meeting_id, obj)}, is_demo=is_demo)[uuid]


def ensure_meetings(session: Session, wanted: Mapping[str, tuple[str, Mapping]], *,
                    is_demo: bool = False) -> dict[str, Meeting]:
    """The meeting rows for these uuids ({uuid: (zoom meeting id, the event's meeting object)}), the
    missing ones created, in a few statements whatever their number."""
    found = {m.uuid: m for m in session.scalars(select(Meeting).where(Meeting.uuid.in_(list(wanted))))}
    missing = {uuid: spec for uuid, spec in wanted.items() if uuid not in found}
    if missing:
        communities = dict(session.execute(select(Community.zoom_meeting_id, Community.id).where(
            Community.zoom_meeting_id.in_({zoom_id for zoom_id, _ in missing.values()}))).all())
        rows = [_new_meeting(uuid, zoom_id, obj, communities.get(zoom_id), is_demo)
                for uuid, (zoom_id, obj) in missing.items()]
        session.execute(dialect_insert(session.get_bind(), Meeting).on_conflict_do_nothing(index_elements=["uuid"]),
                        rows)  # a concurrent delivery may have created one: the unique uuid decides
        found.update((m.uuid, m) for m in session.scalars(select(Meeting).where(Meeting.uuid.in_(list(missing)))))
    return found


def _new_meeting(uuid: str, zoom_meeting_id: str, obj: Mapping, community_id: int | None, is_demo: bool) -> dict:
    duration = obj.get("duration")
    return {"uuid": uuid, "zoom_meeting_id": zoom_meeting_id, "community_id": community_id,
            "topic": str(obj.get("topic") or "")[:300], "status": "scheduled", "discrepancies": [],
            "scheduled_start": parse_time(obj.get("start_time")),
            "scheduled_minutes": int(duration) if isinstance(duration, (int, float, str)) and str(duration).isdigit()
            else None,
            "is_demo": is_demo, "needs_review": False}


def signals(session: Session, uuid: str) -> list[attendance.Signal]:
    return signals_of(session, [uuid])[uuid]


def signals_of(session: Session, uuids: Collection[str]) -> dict[str, list[attendance.Signal]]:
    """Each meeting's attendance signals from its stored events, in one query for all of them."""
    out: dict[str, list[attendance.Signal]] = {uuid: [] for uuid in uuids}
    rows = session.execute(select(ZoomEvent.meeting_uuid, ZoomEvent.event, ZoomEvent.body)
                           .where(ZoomEvent.meeting_uuid.in_(list(out))))
    for uuid, name, body in rows:
        out[uuid].extend(attendance.signals_from_event(name, body))
    return out


def merges(session: Session, meeting_id: int) -> dict[str, str]:
    return merges_of(session, [meeting_id])[meeting_id]


def merges_of(session: Session, meeting_ids: Collection[int]) -> dict[int, dict[str, str]]:
    """Staff merges by meeting, in one query."""
    out: dict[int, dict[str, str]] = {meeting_id: {} for meeting_id in meeting_ids}
    rows = session.execute(select(ParticipantMerge.meeting_id, ParticipantMerge.source_key, ParticipantMerge.target_key)
                           .where(ParticipantMerge.meeting_id.in_(list(out))))
    for meeting_id, source, target in rows:
        out[meeting_id][source] = target
    return out


def until_for(meeting: Meeting, now: datetime) -> datetime | None:
    """Where open presence ends: the meeting's end, or now while it is live."""
    if meeting.status == "ended" and meeting.ended_at:
        return meeting.ended_at
    return now


def compute(session: Session, meeting: Meeting, now: datetime) -> MeetingAttendance:
    return attendance.compute(signals(session, meeting.uuid), until=until_for(meeting, now),
                              merges=merges(session, meeting.id))


class Refreshed(NamedTuple):
    """A meeting's recomputed attendance and the member each of its participants was matched to."""
    result: MeetingAttendance
    members: dict[str, int | None]


def refresh_participants(session: Session, meeting: Meeting, now: datetime) -> MeetingAttendance:
    """Recompute the meeting's attendance and rewrite its derived participant rows."""
    return refresh(session, [meeting], now)[meeting.id].result


def refresh(session: Session, meetings: Sequence[Meeting], now: datetime, *,
            signals_by_uuid: Mapping[str, list[attendance.Signal]] | None = None) -> dict[int, Refreshed]:
    """Recompute these meetings' attendance and rewrite their participant rows: a handful of statements
    for all of them (a statewide rebuild goes through here a few hundred meetings at a time)."""
    if signals_by_uuid is None:
        signals_by_uuid = signals_of(session, [m.uuid for m in meetings])
    merges_by_meeting = merges_of(session, [m.id for m in meetings])
    results = {m.id: attendance.compute(signals_by_uuid.get(m.uuid, []), until=until_for(m, now),
                                        merges=merges_by_meeting[m.id]) for m in meetings}
    keys = {key for result in results.values() for key in result.people}
    emails = {p.email for result in results.values() for p in result.people.values() if p.email}
    aliases = dict(session.execute(select(ParticipantAlias.identity_key, ParticipantAlias.member_id)
                                   .where(ParticipantAlias.identity_key.in_(keys))).all()) if keys else {}
    members_by_email = dict(session.execute(select(Member.email, Member.id).where(Member.email.in_(emails))).all()) \
        if emails else {}
    session.execute(delete(Participant).where(Participant.meeting_id.in_(list(results))))
    rows, refreshed = [], {}
    for meeting in meetings:
        result = results[meeting.id]
        members: dict[str, int | None] = {}
        for person in result.people.values():
            member_id, method = match_member(person.key, person.email, aliases=aliases,
                                             members_by_email=members_by_email)
            members[person.key] = member_id
            rows.append({
                "meeting_id": meeting.id, "identity_key": person.key, "name": person.name[:200],
                "email": person.email or None, "registrant_id": person.registrant_id or None,
                "zoom_user_id": person.user_id or None, "is_host": person.is_host, "devices": person.devices,
                "incomplete": person.incomplete, "attended_seconds": person.attended_seconds,
                "intervals": [[a.isoformat(), b.isoformat(), src] for a, b, src in person.intervals],
                "first_join": person.first_join, "last_leave": person.last_leave, "member_id": member_id,
                "match_method": method})
        live = result.live
        if live:
            meeting.started_at = min(live[0][0], meeting.started_at or live[0][0])
        refreshed[meeting.id] = Refreshed(result, members)
    if rows:  # one bulk statement for all the meetings' participants (table-level: no ORM bookkeeping)
        session.execute(insert(Participant.__table__), rows)
    session.flush()
    return refreshed


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
    return attendance_changed_for(session, [meeting], settings, now, reason=reason)[meeting.id]


def attendance_changed_for(session: Session, meetings: Sequence[Meeting], settings: HoursSettings, now: datetime, *,
                           reason: str, signals_by_uuid: Mapping[str, list[attendance.Signal]] | None = None,
                           ) -> dict[int, MeetingAttendance]:
    """`attendance_changed` for several meetings at once, in statements shared by all of them."""
    refreshed = refresh(session, meetings, now, signals_by_uuid=signals_by_uuid)
    sync_records(session, [(m, *refreshed[m.id]) for m in meetings if m.status == "ended"], settings, now,
                 reason=reason)
    return {meeting_id: r.result for meeting_id, r in refreshed.items()}


REBUILD_CHUNK = 200  # meetings per round of statements: bounded memory, few round trips


def rebuild(session: Session, settings: HoursSettings, now: datetime) -> int:
    """Re-derive every meeting's state, participants and records from the stored events, a chunk of
    meetings at a time: each chunk's events are read once, and its writes are shared statements."""
    uuids = session.scalars(select(ZoomEvent.meeting_uuid).where(ZoomEvent.meeting_uuid.is_not(None))
                            .group_by(ZoomEvent.meeting_uuid).order_by(ZoomEvent.meeting_uuid)).all()
    for first in range(0, len(uuids), REBUILD_CHUNK):
        chunk = uuids[first:first + REBUILD_CHUNK]
        events: dict[str, list[tuple[str, str | None, dict]]] = {uuid: [] for uuid in chunk}
        for uuid, name, meeting_id, body in session.execute(
                select(ZoomEvent.meeting_uuid, ZoomEvent.event, ZoomEvent.meeting_id, ZoomEvent.body)
                .where(ZoomEvent.meeting_uuid.in_(chunk)).order_by(ZoomEvent.meeting_uuid, ZoomEvent.event_ts)):
            events[uuid].append((name, meeting_id, body))
        wanted = {}
        for uuid, stored in events.items():
            meeting_id = next((mid for _, mid, _ in stored if mid), None)
            if meeting_id is not None:
                wanted[uuid] = (meeting_id, (stored[0][2].get("payload") or {}).get("object") or {})
        found = ensure_meetings(session, wanted)
        for uuid, meeting in found.items():
            for name, _, body in events[uuid]:
                event_obj = (body.get("payload") or {}).get("object") or {}
                if name == "meeting.started":
                    mark_started(meeting, parse_time(event_obj.get("start_time")))
                elif name == "meeting.ended":
                    mark_ended(meeting, parse_time(event_obj.get("start_time")),
                               parse_time(event_obj.get("end_time")))
        signals_by_uuid = {uuid: [s for name, _, body in events[uuid]
                                  for s in attendance.signals_from_event(name, body)] for uuid in found}
        attendance_changed_for(session, list(found.values()), settings, now, reason="rebuilt from stored events",
                               signals_by_uuid=signals_by_uuid)
    return len(uuids)
