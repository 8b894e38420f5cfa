"""The finalizer's end for a stale meeting, and the meeting it never ends: one with no start at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs.finalize import end_of, finalize_meetings
from zoombot.store.models import Meeting


def test_a_meeting_without_any_start_is_never_stale_and_end_of_names_it(runtime):
    now = runtime.now()
    with runtime.db.begin() as session:
        meeting = Meeting(uuid="nostart==", zoom_meeting_id="123", status="live")
        session.add(meeting)
        session.flush()
        with pytest.raises(ValueError, match="neither a start nor a scheduled start"):
            end_of(session, meeting, now)
    assert finalize_meetings(runtime) == 0
    with runtime.db.begin() as session:
        assert session.get(Meeting, meeting.id).status == "live"


def test_end_of_a_scheduled_meeting_without_events_is_its_scheduled_end(runtime):
    now = runtime.now()
    start = now - timedelta(days=2)
    with runtime.db.begin() as session:
        meeting = Meeting(uuid="quiet==", zoom_meeting_id="123", scheduled_start=start, scheduled_minutes=60)
        session.add(meeting)
        session.flush()
        assert end_of(session, meeting, now) == start + timedelta(minutes=60)
        assert end_of(session, meeting, start + timedelta(minutes=30)) == start + timedelta(minutes=30)
