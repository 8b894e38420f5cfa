"""Durable, idempotent storage of verified events: the unique dedupe key decides, even across workers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webhooks.event import Event
from zoombot.db import insert_ignoring_conflict
from zoombot.models import ZoomEvent


def store_event(session: Session, event: Event, *, now: datetime, status: str,
                source: str = "webhook") -> int | None:
    """Insert the event once and return its id; None when it was stored before (a redelivery)."""
    return insert_ignoring_conflict(session, ZoomEvent, {
        "dedupe_key": event.dedupe_key, "event": event.name, "event_ts": event.event_ts, "source": source,
        "received_at": now, "account_id": event.account_id, "meeting_id": event.meeting_id,
        "meeting_uuid": event.meeting_uuid, "body": dict(event.body), "status": status,
    }, ["dedupe_key"])
