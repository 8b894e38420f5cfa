"""Durable, idempotent storage of verified events: the unique dedupe key decides, even across workers."""
from __future__ import annotations

import functools
import json
import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson

from sqlalchemy import bindparam, exists, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from webhooks.event import Event
from webhooks.group_commit import GroupCommit
from zoombot.db import Database, dialect_insert_for, insert_ignoring_conflict
from zoombot.meetings import _new_meeting as new_meeting_row
from zoombot.models import Community, Meeting, ZoomEvent


def _row(event: Event, *, now: datetime, status: str, source: str) -> dict:
    return {"dedupe_key": event.dedupe_key, "event": event.name, "event_ts": event.event_ts, "source": source,
            "received_at": now, "account_id": event.account_id, "meeting_id": event.meeting_id,
            "meeting_uuid": event.meeting_uuid, "body": dict(event.body), "status": status}


def store_event(session: Session, event: Event, *, now: datetime, status: str,
                source: str = "webhook") -> int | None:
    """Insert the event once and return its id; None when it was stored before (a redelivery)."""
    return insert_ignoring_conflict(session, ZoomEvent, _row(event, now=now, status=status, source=source),
                                    ["dedupe_key"])


def store_while_meeting_open(db: Database, event: Event, *, now: datetime) -> bool:
    """The hot path for an event whose handler has nothing to do while its meeting has not ended:
    insert it, committed on its own, only if that meeting is open, creating the meeting's row when
    there is none yet (as the handler would: zoombot.meetings' new-meeting row, its community by
    Zoom meeting id), in the same statement (PostgreSQL) or transaction (SQLite).

    True when it was inserted; False when not (meeting ended, a redelivery, or a meeting another
    process was creating at that instant), and the caller then takes the general path. The meeting
    row is read FOR SHARE: a concurrent meeting.ended (which updates that row before it reads the
    events) either sees this event or makes this insert see the meeting ended. Why create the row
    here: a receiver that comes up mid-meeting (no meeting.started) otherwise sends the first
    deliveries of every meeting down the general path at once, where they queue on the new row.

    On PostgreSQL, deliveries that arrive together in a process share one INSERT and one commit on a
    connection of their own (group commit; see OpenMeetingWriter). This path carries nearly every
    delivery, and the general one costs about eight round trips and several times the CPU.
    """
    if db.is_sqlite:  # local calls, no round trips to save: an ordinary short transaction
        with db.engine.begin() as conn:
            row = _row(event, now=now, status="processed", source="webhook")
            inserted = conn.execute(_sqlite_open_meeting_insert(), row).scalar() is not None
            if not inserted and conn.execute(_sqlite_meeting_insert(), _meeting_rows([event])[0]).rowcount:
                inserted = conn.execute(_sqlite_open_meeting_insert(), row).scalar() is not None
            return inserted
    return OpenMeetingWriter.of(db).submit((event, now))


def _meeting_rows(events: Iterable[Event]) -> list[dict]:
    """The row each of these events' meetings gets if it has none yet (one per meeting; its community is
    found by the statement)."""
    rows: dict[str, dict] = {}
    for event in events:
        if event.meeting_uuid not in rows:
            rows[event.meeting_uuid] = new_meeting_row(event.meeting_uuid, event.meeting_id, event.object,
                                                       None, False)
    return list(rows.values())


class OpenMeetingWriter:
    """The process's writer for the PostgreSQL hot path: a group commit (webhooks.group_commit) whose
    batches, one at a time, run on a connection kept for the writer (zoombot.db's DedicatedConnection:
    autocommit, so a statement is its own transaction, with no pool checkout, no BEGIN/COMMIT round
    trips and no SQLAlchemy work per statement). Measured: letting two batches run at once, each on a
    connection of its own, gained nothing (smaller batches cost PostgreSQL what the overlap saved)."""

    _writers: weakref.WeakKeyDictionary[Database, OpenMeetingWriter] = weakref.WeakKeyDictionary()
    _writers_lock = threading.Lock()

    def __init__(self, db: Database):
        self.connection = db.dedicated_connection()  # only the batch that runs uses it
        self.group = GroupCommit(self.insert_batch)
        self.submit = self.group.submit

    @classmethod
    def of(cls, db: Database) -> OpenMeetingWriter:
        """The writer for `db` in this process, made on first use."""
        writer = cls._writers.get(db)
        if writer is None:
            with cls._writers_lock:
                writer = cls._writers.get(db) or cls._writers.setdefault(db, cls(db))
        return writer

    def insert_batch(self, deliveries: Sequence[tuple[Event, datetime]]) -> list[bool | DBAPIError]:
        """One INSERT and one commit for the batch: for each delivery, whether it went in. When the
        database refuses the batch for what is in it (not for being unreachable), each row is tried
        alone, so a row it cannot take fails by itself instead of failing every delivery beside it."""
        meetings = _meeting_rows(event for event, _ in deliveries)
        events = [{"dedupe_key": event.dedupe_key, "event": event.name, "event_ts": event.event_ts, "received_at": now,
                   "account_id": event.account_id, "meeting_id": event.meeting_id, "meeting_uuid": event.meeting_uuid,
                   "body": event.body} for event, now in deliveries]
        params = (json_text(meetings), json_text(events))
        try:
            inserted = {key for (key,) in self.connection.execute(_BATCH_INSERT, params)}
        except DBAPIError as exc:
            if len(deliveries) == 1 or exc.connection_invalidated:
                raise
            return [self._alone(delivery) for delivery in deliveries]
        results = []
        for event, _ in deliveries:  # an event twice in one batch (a redelivery racing it) went in once
            results.append(event.dedupe_key in inserted)
            inserted.discard(event.dedupe_key)
        return results

    def _alone(self, delivery: tuple[Event, datetime]) -> bool | DBAPIError:
        try:
            return self.insert_batch([delivery])[0]
        except DBAPIError as exc:
            return exc


def json_text(value) -> str:
    """JSON text for the database: orjson (a tenth of json.dumps' time; datetimes in RFC 3339), or
    json.dumps for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), default=datetime.isoformat)


# The batch as one statement whatever its size, its rows in two JSON documents (meetings, events) that the
# server unpacks: one query text, prepared once, and two parameters that orjson writes in a few
# microseconds. Measured per batch of 8 (client CPU): about 90 µs, against 130-230 µs for arrays of
# columns (psycopg dumps each array in Python) and 210-300 µs for a VALUES list (8 parameters a row:
# above 50 parameters psycopg parses the query text again on every execution). The meetings not there
# yet are created by the first part, and their events go in with them (the main part's snapshot cannot
# see rows its own CTE inserts, hence IN created).
_BATCH_INSERT = """
WITH created AS (
    INSERT INTO meetings (uuid, zoom_meeting_id, community_id, topic, status, scheduled_start, scheduled_minutes,
                          discrepancies, needs_review, is_demo)
    SELECT n.uuid, n.zoom_meeting_id, (SELECT c.id FROM communities c WHERE c.zoom_meeting_id = n.zoom_meeting_id),
           n.topic, n.status, n.scheduled_start, n.scheduled_minutes, n.discrepancies, n.needs_review, n.is_demo
    FROM json_to_recordset(%s::json)
         AS n (uuid text, zoom_meeting_id text, topic text, status text, scheduled_start timestamptz,
               scheduled_minutes integer, discrepancies json, needs_review boolean, is_demo boolean)
    WHERE NOT EXISTS (SELECT 1 FROM meetings m WHERE m.uuid = n.uuid)
    ON CONFLICT (uuid) DO NOTHING
    RETURNING uuid
)
INSERT INTO zoom_events (dedupe_key, event, event_ts, source, received_at, account_id, meeting_id,
                         meeting_uuid, body, status)
SELECT v.dedupe_key, v.event, v.event_ts, 'webhook', v.received_at, v.account_id, v.meeting_id,
       v.meeting_uuid, v.body, 'processed'
FROM json_to_recordset(%s::json)
     AS v (dedupe_key text, event text, event_ts bigint, received_at timestamptz, account_id text, meeting_id text,
           meeting_uuid text, body json)
WHERE v.meeting_uuid IN (SELECT uuid FROM created)
   OR EXISTS (SELECT 1 FROM meetings m WHERE m.uuid = v.meeting_uuid AND m.status <> 'ended' FOR SHARE OF m)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING dedupe_key
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


@functools.cache
def _sqlite_meeting_insert():
    """A meeting's row when it has none, its community found by Zoom meeting id."""
    table = Meeting.__table__
    values = {c: bindparam(c, type_=table.c[c].type) for c in _MEETING_COLUMNS}  # as zoombot.meetings makes them
    values["community_id"] = select(Community.id).where(Community.zoom_meeting_id == values["zoom_meeting_id"]) \
        .scalar_subquery()
    return dialect_insert_for("sqlite", Meeting).values(values).on_conflict_do_nothing(index_elements=["uuid"])


_MEETING_COLUMNS = ("uuid", "zoom_meeting_id", "topic", "status", "scheduled_start", "scheduled_minutes",
                    "discrepancies", "needs_review", "is_demo")
_COLUMNS = ("dedupe_key", "event", "event_ts", "source", "received_at", "account_id", "meeting_id",
            "meeting_uuid", "body", "status")
