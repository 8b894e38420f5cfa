"""Reconciliation with Zoom's reports: the second source of attendance, for whatever webhooks missed.

Some time after an instance ends (`[zoom] report_delay_minutes`; Zoom's reports lag), its participant report
is fetched (every page) and each row stored as a `report.participant` event (`zoombot.zoom.report`). The
attendance is then recomputed from all stored events: the report's spans join the same union as the webhook
intervals, so time both sources saw is counted once. Undecided credit lines follow; decided ones are reopened
(`zoombot.store.credit_lines`). What the report changed is written on `meeting.discrepancies`.

An instance whose own meeting.ended never arrived also gets its real start and end from
GET /past_meetings/{uuid}, stored as a `meeting.ended` event with source 'report'.

Zoom is called outside any database transaction (a transaction is never held open across the network);
each instance is then stored in one transaction. Re-running stores nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from zoombot.core import attendance, discrepancies
from zoombot.core.times import parse_time
from zoombot.runtime import Runtime
from zoombot.store import meetings
from zoombot.store.audit import SYSTEM, audit
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import Meeting, ZoomEvent
from zoombot.zoom import report as zoom_report
from zoombot.zoom.client import ZoomClient, ZoomError

__all__ = ["Outcome", "reconcile_instance", "due_meetings", "RETRY_EVERY", "GIVE_UP_AFTER"]

log = logging.getLogger(__name__)

#: An unavailable or failed report is asked for again this often...
RETRY_EVERY = timedelta(hours=1)
#: ...until this long after the meeting ended (Zoom usually has its report within the hour).
GIVE_UP_AFTER = timedelta(days=1)
REASON = "reconciled with Zoom report"
#: Stored events that describe the meeting instance itself (its end, its host).
_MEETING_EVENTS = ("meeting.started", zoom_report.ENDED_EVENT)


@dataclass(frozen=True)
class Outcome:
    """The result of reconciling one instance: `status` is the meeting's new report_status."""

    meeting_uuid: str
    status: str  # done | unavailable | error
    rows: int = 0  # report rows Zoom returned
    stored: int = 0  # of which new (not stored before)
    discrepancies: int = 0
    error: ZoomError | None = None


def due_meetings(session: Session, now: datetime, delay: timedelta) -> list[Meeting]:
    """Ended instances whose report is due: never reconciled, ended again since, or a failed attempt to
    retry (hourly, for a day). Demo meetings are never sent to Zoom."""
    ready = now - delay
    return list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.status == "ended",
                Meeting.ended_at.is_not(None),
                Meeting.ended_at <= ready,
                Meeting.is_demo.is_(False),
                or_(
                    Meeting.report_status.is_(None),
                    and_(Meeting.report_status == "done", Meeting.reconciled_at < Meeting.ended_at),
                    and_(
                        Meeting.report_status.in_(("unavailable", "error")),
                        Meeting.reconciled_at <= now - RETRY_EVERY,
                        Meeting.ended_at >= now - GIVE_UP_AFTER,
                    ),
                ),
            )
            .order_by(Meeting.ended_at)
        )
    )


def reconcile_instance(
    runtime: Runtime,
    client: ZoomClient,
    meeting_uuid: str,
    zoom_meeting_id: str,
    *,
    instance: Mapping[str, Any] | None = None,
) -> Outcome:
    """Fetch one instance's report and merge it (creating the meeting row when it is new, as in a
    backfill; `instance` is its entry from past_instances). Zoom failures are recorded on the meeting, when
    it exists (report_status 'unavailable' or 'error', attendance untouched), and returned, never raised."""
    with runtime.db.begin() as session:
        known = session.execute(
            select(ZoomEvent.event, ZoomEvent.body).where(
                ZoomEvent.meeting_uuid == meeting_uuid, ZoomEvent.event.in_(_MEETING_EVENTS)
            )
        ).all()
    has_end = any(event == zoom_report.ENDED_EVENT for event, _ in known)
    try:
        details = None if has_end else _past_meeting(client, meeting_uuid)
        rows = list(client.report_participants(meeting_uuid))
    except ZoomError as error:
        status = "unavailable" if zoom_report.is_unavailable(error.status, error.code) else "error"
        log.warning("reconcile %s: report %s (%s)", meeting_uuid, status, error)
        with runtime.db.begin() as session:  # an instance zoombot never saw gets no row for a failure
            meeting = session.scalar(select(Meeting).where(Meeting.uuid == meeting_uuid))
            if meeting is not None:
                _set_status(session, meeting, status, runtime.now(), str(error))
        return Outcome(meeting_uuid, status, error=error)

    with runtime.db.begin() as session:
        now = runtime.now()
        meeting = _meeting(session, meeting_uuid, zoom_meeting_id, details or instance, settings=runtime.settings)
        if details is None and not has_end and rows:
            details = _ended_from_rows(instance, rows)
        ended = zoom_report.ended_event(zoom_meeting_id, meeting_uuid, details) if details else None
        host_id = zoom_report.host_of([body for _, body in known] + [details or {}])
        stored = 0
        if ended is not None:
            _store(session, ended, zoom_meeting_id, meeting_uuid, now)
            _close(
                meeting,
                parse_time(ended["payload"]["object"]["start_time"]),
                parse_time(ended["payload"]["object"]["end_time"]),
            )
        for row in rows:
            body = zoom_report.participant_event(zoom_meeting_id, meeting_uuid, row, host_id)
            stored += _store(session, body, zoom_meeting_id, meeting_uuid, now)
        found = merge(session, meeting, runtime, now)
        _set_status(session, meeting, "done", now, f"{len(rows)} report rows, {stored} new")
    log.info("reconcile %s: %d report rows, %d new, %d discrepancies", meeting_uuid, len(rows), stored, len(found))
    return Outcome(meeting_uuid, "done", rows=len(rows), stored=stored, discrepancies=len(found))


def merge(session: Session, meeting: Meeting, runtime: Runtime, now: datetime) -> list[dict]:
    """Recompute the instance's session from all its stored events, bring its lines in step, and record on
    the instance what its report changed (webhooks alone, the report alone, and both, for this instance)."""
    meetings.attendance_changed(session, meeting, runtime.settings, now, reason=REASON)
    signals = meetings.signals(session, meeting.uuid)
    until = meetings.until_for(meeting, now)
    decisions = (
        meetings.decisions_of(session, [meeting.session_id]).get(meeting.session_id)
        if meeting.session_id is not None
        else None
    )
    # staff's merges and undone binds apply to all three views, as they do to the session's attendance
    merges = decisions.merges if decisions is not None else {}
    unbinds = decisions.unbinds if decisions is not None else set()
    webhook_only = attendance.compute(
        [s for s in signals if s.kind != "span"], until=until, merges=merges, unbinds=unbinds
    )
    report_only = attendance.compute(
        [s for s in signals if s.who is None or s.kind == "span"], until=until, merges=merges, unbinds=unbinds
    )
    merged = attendance.compute(signals, until=until, merges=merges, unbinds=unbinds)
    found = discrepancies.find(webhook_only, merged, report_only)
    meeting.discrepancies = found
    return found


def _past_meeting(client: ZoomClient, meeting_uuid: str) -> dict | None:
    """The instance's real start and end; None when Zoom has no such record (the report may still exist)."""
    try:
        return client.past_meeting(meeting_uuid)
    except ZoomError as error:
        if zoom_report.is_unavailable(error.status, error.code, "past_meeting"):
            return None
        raise


def _ended_from_rows(instance: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]]) -> dict | None:
    """Without Zoom's own record of the instance: from its listed start to the last report leave."""
    start = parse_time((instance or {}).get("start_time"))
    leaves = [t for t in (parse_time(r.get("leave_time")) for r in rows) if t is not None]
    joins = [t for t in (parse_time(r.get("join_time")) for r in rows) if t is not None]
    if not leaves:
        return None
    start = start or (min(joins) if joins else None)
    end = max(leaves)
    if start is None or end <= start:
        return None
    return {
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topic": (instance or {}).get("topic") or "",
    }


def _meeting(
    session: Session, meeting_uuid: str, zoom_meeting_id: str, obj: Mapping[str, Any] | None, *, settings
) -> Meeting:
    return meetings.ensure_meeting(session, meeting_uuid, zoom_meeting_id, dict(obj or {}), settings=settings)


def _close(meeting: Meeting, start: datetime | None, end: datetime | None) -> None:
    """Zoom's recorded end replaces the finalizer's guess; an end a webhook reported is kept."""
    if end is None:
        return
    if meeting.status == "ended" and meeting.finalized_by not in (None, "event", "report"):
        meeting.ended_at = end
        meeting.finalized_by = "report"
    elif meeting.status != "ended":
        meetings.mark_ended(meeting, start, end, by="report")
    if start is not None:
        meeting.started_at = min(start, meeting.started_at or start)


def _store(session: Session, body: dict, zoom_meeting_id: str, meeting_uuid: str, now: datetime) -> int:
    inserted = insert_ignoring_conflict(
        session,
        ZoomEvent,
        {
            "dedupe_key": zoom_report.dedupe_key(body),
            "event": body["event"],
            "event_ts": 0,
            "source": "report",
            "received_at": now,
            "account_id": None,
            "meeting_id": str(zoom_meeting_id)[:32],
            "meeting_uuid": meeting_uuid[:100],
            "body": body,
            "status": "processed",
        },
        ["dedupe_key"],
    )
    return 0 if inserted is None else 1


def _set_status(session: Session, meeting: Meeting, status: str, now: datetime, note: str) -> None:
    before = meeting.report_status
    meeting.report_status = status
    meeting.reconciled_at = now
    if before != status:
        audit(
            session,
            actor=SYSTEM,
            entity="meeting",
            entity_id=meeting.id,
            meeting_id=meeting.id,
            action="reconciled",
            from_value=before,
            to_value=status,
            reason=note,
            at=now,
        )
