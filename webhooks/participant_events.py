"""Participant handlers. While a meeting is live the stored event is all that is needed (attendance
is computed from events); an event that arrives after the end updates the meeting's records."""
from __future__ import annotations

from webhooks.context import Context
from webhooks.event import Event
from webhooks.router import Router
from zoombot.meetings import attendance_changed, ensure_meeting

router = Router()


def track(event: Event, ctx: Context) -> None:
    if not event.meeting_uuid or not event.meeting_id:
        raise ValueError(f"{event.name} without a meeting id and uuid")
    if not isinstance(event.object.get("participant"), dict):
        raise ValueError(f"{event.name} without a participant")
    meeting = ensure_meeting(ctx.session, event.meeting_uuid, event.meeting_id, dict(event.object))
    if meeting.status == "ended":
        attendance_changed(ctx.session, meeting, ctx.settings.hours, ctx.now, reason=f"late {event.name}")


@router.register("meeting.participant_joined")
def participant_joined(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_left")
def participant_left(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_joined_waiting_room")
def joined_waiting_room(event: Event, ctx: Context) -> None:
    track(event, ctx)  # kept for the record; waiting time is never attendance


@router.register("meeting.participant_left_waiting_room")
def left_waiting_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_admitted")
def participant_admitted(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_put_in_waiting_room")
def put_in_waiting_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_joined_breakout_room")
def joined_breakout_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_left_breakout_room")
def left_breakout_room(event: Event, ctx: Context) -> None:
    track(event, ctx)
