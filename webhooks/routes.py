"""Every handled Zoom event name, composed from the handler modules."""

from webhooks import meeting_events, participant_events, schedule_events
from webhooks.router import Router

router = Router(meeting_events.router, participant_events.router, schedule_events.router)
