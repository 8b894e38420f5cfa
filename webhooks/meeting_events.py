"""Meeting life-cycle handlers: started and ended. Ending builds the session's credit lines."""

from __future__ import annotations

from webhooks.context import Context
from webhooks.event import Event
from webhooks.router import Router
from zoombot.store.meetings import apply_lifecycle, attendance_changed, ensure_meeting, place

router = Router()


def _meeting(event: Event, ctx: Context):
    if not event.meeting_uuid or not event.meeting_id:
        raise ValueError(f"{event.name} without a meeting id and uuid")
    return ensure_meeting(ctx.session, event.meeting_uuid, event.meeting_id, dict(event.object), settings=ctx.settings)


@router.register("meeting.started")
def meeting_started(event: Event, ctx: Context) -> None:
    meeting = _meeting(event, ctx)
    apply_lifecycle(meeting, event.name, event.object)
    place(ctx.session, [meeting], ctx.settings)  # its start decides its session


@router.register("meeting.ended")
def meeting_ended(event: Event, ctx: Context) -> None:
    meeting = _meeting(event, ctx)
    apply_lifecycle(meeting, event.name, event.object)
    ctx.session.flush()  # lock the meeting row before reading its events (see store_while_meeting_open)
    attendance_changed(ctx.session, meeting, ctx.settings, ctx.now, reason="meeting ended")
