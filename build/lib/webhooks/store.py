"""Durable, idempotent storage of verified events: the unique dedupe key decides, even across workers."""
from __future__ import annotations

import functools
import json
from datetime import datetime

from sqlalchemy import bindparam, exists, literal, select
from sqlalchemy.orm import Session

from webhooks.event import Event
from zoombot.db import Database, dialect_insert_for, insert_ignoring_conflict
from zoombot.models import Meeting, ZoomEvent


def _row(event: Event, *, now: datetime, status: str, source: str) -> dict:
    return {"dedupe_key": event.dedupe_key, "event": event.name, "event_ts": event.event_ts, "source": source,
            "received_at": now, "account_id": event.account_id, "meeting_id": event.meeting_id,
            "meeting_uuid": event.meeting_uuid, "body": dict(event.body), "status": status}


def store_event(session: Session, event: Event, *, now: datetime, status: str,
                source: str = "webhook") -> int | None:
    """Insert the event once and return its id; None when it was stored before (a redelivery)."""
    return insert_ignoring_conflict(session, ZoomEvent, _row(event, now=now, status=status, source=source),
                                    ["dedupe_key"])


def store_while_meeting_open(db: Database, event: Event, *, now: datetime) -> int | None:
    """The hot path for an event whose handler has nothing to do while its meeting has not ended:
    insert it, in one statement that commits on its own, only if that meeting exists and is open.

    Returns the new id; None when nothing was inserted (meeting unknown or ended, or a redelivery), and
    the caller then takes the general path. The meeting row is read FOR SHARE: a concurrent
    meeting.ended (which updates that row before it reads the events) either sees this event or makes
    this statement see the meeting ended.

    On PostgreSQL this is one round trip on the driver's own connection (autocommit, no BEGIN/COMMIT,
    no SAVEPOINT, no ORM): this path carries nearly every delivery, and the general one costs about
    eight round trips and several times the CPU (see bench/webhooks.py).
    """
    row = _row(event, now=now, status="processed", source="webhook")
    if db.is_sqlite:  # local calls, no round trips to save: an ordinary short transaction
        with db.engine.begin() as conn:
            return conn.execute(_sqlite_open_meeting_insert(), row).scalar()
    row["body"] = json.dumps(row["body"], separators=(",", ":"))  # ASCII, as SQLAlchemy's JSON type writes it
    with db.driver_autocommit() as connection:
        found = connection.execute(_POSTGRESQL_OPEN_MEETING_INSERT, row).fetchone()
    return found[0] if found else None


_POSTGRESQL_OPEN_MEETING_INSERT = """
INSERT INTO zoom_events (dedupe_key, event, event_ts, source, received_at, account_id, meeting_id,
                         meeting_uuid, body, status)
SELECT %(dedupe_key)s, %(event)s, %(event_ts)s, %(source)s, %(received_at)s, %(account_id)s, %(meeting_id)s,
       %(meeting_uuid)s::varchar, %(body)s::json, %(status)s
WHERE EXISTS (SELECT 1 FROM meetings WHERE uuid = %(meeting_uuid)s::varchar AND status <> 'ended' FOR SHARE)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""


@functools.cache
def _sqlite_open_meeting_insert():
    """The same statement for SQLite, built once."""
    table = ZoomEvent.__table__
    binds = {c: bindparam(c, type_=table.c[c].type) for c in _COLUMNS}
    open_meeting = select(literal(1)).where(Meeting.uuid == binds["meeting_uuid"], Meeting.status != "ended")
    values = select(*binds.values()).where(exists(open_meeting))
    return dialect_insert_for("sqlite", ZoomEvent).from_select(list(binds), values) \
        .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(ZoomEvent.id)


_COLUMNS = ("dedupe_key", "event", "event_ts", "source", "received_at", "account_id", "meeting_id",
            "meeting_uuid", "body", "status")
