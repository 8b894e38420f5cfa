"""Participant handlers. While a meeting is live the stored event is all that is needed (attendance
is computed from events); an event that arrives after the end updates the session's credit lines."""

from __future__ import annotations

from webhooks.context import Context
from webhooks.event import Event
from webhooks.router import Router
from zoombot.store.audit import audit
from zoombot.store.meetings import attendance_changed, ensure_meeting, place
from zoombot.store.models import Meeting

router = Router()


def problem(event: Event) -> str | None:
    """Why this participant event cannot be processed, or None."""
    if not event.meeting_uuid or not event.meeting_id:
        return f"{event.name} without a meeting id and uuid"
    if not isinstance(event.object.get("participant"), dict):
        return f"{event.name} without a participant"
    return None


def track(event: Event, ctx: Context) -> Meeting:
    """The event's meeting (created on first sight), its attendance brought up to date if it has ended."""
    reason = problem(event)
    if reason is not None:
        raise ValueError(reason)
    uuid, meeting_id = event.meeting_uuid, event.meeting_id
    assert uuid is not None and meeting_id is not None  # problem() refuses an event without them
    meeting = ensure_meeting(ctx.session, uuid, meeting_id, dict(event.object), settings=ctx.settings)
    if meeting.status == "ended":
        attendance_changed(ctx.session, meeting, ctx.settings, ctx.now, reason=f"late {event.name}")
    return meeting


@router.register("meeting.participant_joined", store_only_while_open=True)
def participant_joined(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_left", store_only_while_open=True)
def participant_left(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_joined_waiting_room", store_only_while_open=True)
def joined_waiting_room(event: Event, ctx: Context) -> None:
    track(event, ctx)  # kept for the record; waiting time is never attendance


@router.register("meeting.participant_left_waiting_room", store_only_while_open=True)
def left_waiting_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_admitted", store_only_while_open=True)
def participant_admitted(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_put_in_waiting_room", store_only_while_open=True)
def put_in_waiting_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_joined_breakout_room", store_only_while_open=True)
def joined_breakout_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_left_breakout_room", store_only_while_open=True)
def left_breakout_room(event: Event, ctx: Context) -> None:
    track(event, ctx)


@router.register("meeting.participant_bind")
def participant_bind(event: Event, ctx: Context) -> None:
    """Zoom linked a phone caller to a computer participant: one person from now on (zoombot.core.attendance),
    which staff see on the session page, with an undo, and in the audit trail."""
    meeting = track(event, ctx)
    place(ctx.session, [meeting], ctx.settings)
    caller = str(event.object["participant"].get("user_name") or "a phone caller")[:200]
    audit(
        ctx.session,
        actor="zoom",
        entity="participant_merge",
        entity_id=None,
        action="bound",
        meeting_id=meeting.id,
        session_id=meeting.session_id,
        from_value=caller,
        to_value="the computer participant Zoom bound the call to",
        reason="meeting.participant_bind (undo on the session page)",
        at=ctx.now,
    )
