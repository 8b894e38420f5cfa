"""Participant handlers. While a meeting is live the stored event is all that is needed (attendance
is computed from events); an event that arrives after the end updates the session's credit lines."""
from __future__ import annotations

from webhooks.context import Context
from webhooks.event import Event
from webhooks.router import Router
from zoombot.store.meetings import attendance_changed, ensure_meeting

router = Router()


def problem(event: Event) -> str | None:
    """Why this participant event cannot be processed, or None."""
    if not event.meeting_uuid or not event.meeting_id:
        return f"{event.name} without a meeting id and uuid"
    if not isinstance(event.object.get("participant"), dict):
        return f"{event.name} without a participant"
    return None


def stored_is_enough_while_open(event: Event, routes: Router) -> bool:
    """True when, as long as the event's meeting exists and has not ended, storing the event is all that
    `routes` would do with it: its only handlers are these (the delivery hot path,
    webhooks.store.store_while_meeting_open)."""
    own = router.handlers(event.name)
    return bool(own) and routes.handlers(event.name) == own and problem(event) is None


def track(event: Event, ctx: Context) -> None:
    reason = problem(event)
    if reason is not None:
        raise ValueError(reason)
    meeting = ensure_meeting(ctx.session, event.meeting_uuid, event.meeting_id, dict(event.object),
                             settings=ctx.settings)
    if meeting.status == "ended":
        attendance_changed(ctx.session, meeting, ctx.settings, ctx.now, reason=f"late {event.name}")


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


@router.register("meeting.participant_bind")
def participant_bind(event: Event, ctx: Context) -> None:
    track(event, ctx)  # Zoom linked a phone caller to a computer participant: one person (zoombot.core.attendance)
