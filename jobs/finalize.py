"""The finalizer: meetings whose `meeting.ended` never came are closed, so their credit lines appear.

A meeting is stale when nothing was heard of it for `[zoom] finalize_after_hours` past its scheduled
end. It ends at the last sign of presence (its last stored event) or its scheduled end, whichever is
later, and never after now.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from zoombot.runtime import Runtime
from zoombot.store import meetings
from zoombot.store.models import Meeting, ZoomEvent

log = logging.getLogger("zoombot.jobs.finalize")


def end_of(session: Session, meeting: Meeting, now: datetime) -> datetime:
    """When a stale meeting ended (see the module docstring). Only meetings with a start are stale
    (`meetings.stale_meetings`); ValueError for one without."""
    last_ts = session.scalar(select(func.max(ZoomEvent.event_ts)).where(ZoomEvent.meeting_uuid == meeting.uuid))
    last_event = datetime.fromtimestamp(last_ts / 1000, tz=UTC) if last_ts else None
    start = meeting.started_at or meeting.scheduled_start
    if start is None:
        raise ValueError(f"meeting id={meeting.id} has neither a start nor a scheduled start: it cannot be stale")
    scheduled_end = start + timedelta(minutes=meeting.scheduled_minutes or 0)
    return min(max(scheduled_end, last_event or scheduled_end), now)


def finalize_meetings(runtime: Runtime) -> int:
    now = runtime.now()
    after = timedelta(hours=runtime.settings.zoom.finalize_after_hours)
    finalized = 0
    with runtime.db.begin() as session:
        for meeting in meetings.stale_meetings(session, now, after):
            try:
                with session.begin_nested():  # a meeting the database refuses stops only itself
                    meetings.mark_ended(meeting, None, end_of(session, meeting, now), by="finalizer")
                    meetings.attendance_changed(
                        session, meeting, runtime.settings, now, reason="finalized: no meeting.ended received"
                    )
            except DataError as exc:
                log.error("finalize: meeting id=%s left open: %s", meeting.id, type(exc.orig).__name__)
                continue
            finalized += 1
    return finalized
