"""Durable, idempotent storage of verified events: the unique dedupe key decides, even across workers."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from webhooks.event import Event
from webhooks.group_commit import GroupCommit
from zoombot.core.json_codec import dumps as json_text
from zoombot.store.db import Database, DedicatedConnection, DedicatedSqliteConnection, insert_ignoring_conflict
from zoombot.store.meetings import _new_meeting as new_meeting_row
from zoombot.store.models import ZoomEvent


def _row(event: Event, *, now: datetime, status: str, source: str) -> dict:
    return {
        "dedupe_key": event.dedupe_key,
        "event": event.name,
        "event_ts": event.event_ts,
        "source": source,
        "received_at": now,
        "account_id": event.account_id,
        "meeting_id": event.meeting_id,
        "meeting_uuid": event.meeting_uuid,
        "body": dict(event.body),
        "status": status,
    }


def store_event(session: Session, event: Event, *, now: datetime, status: str, source: str = "webhook") -> int | None:
    """Insert the event once and return its id; None when it was stored before (a redelivery)."""
    return insert_ignoring_conflict(
        session, ZoomEvent, _row(event, now=now, status=status, source=source), ["dedupe_key"]
    )


def store_while_meeting_open(db: Database, event: Event, *, now: datetime) -> bool:
    """The hot path for an event whose handler has nothing to do while its meeting has not ended:
    insert it, committed on its own, only if that meeting is open, creating the meeting's row when
    there is none yet (as the handler would: zoombot.store.meetings' new-meeting row, its community by
    Zoom meeting id), in the same statement (PostgreSQL) or transaction (SQLite).

    True when it was inserted; False when not (meeting ended, a redelivery, or a meeting another
    process was creating at that instant), and the caller then takes the general path. The meeting
    row is read FOR SHARE: a concurrent meeting.ended (which updates that row before it reads the
    events) either sees this event or makes this insert see the meeting ended. Why create the row
    here: a receiver that comes up mid-meeting (no meeting.started) otherwise sends the first
    deliveries of every meeting down the general path at once, where they queue on the new row.

    Deliveries that arrive together in a process share one commit on a connection of their own (group
    commit; see OpenMeetingWriter): on PostgreSQL one INSERT, on SQLite one write transaction. This
    path carries nearly every delivery, and the general one costs about eight round trips (PostgreSQL)
    and several times the CPU.
    """
    return OpenMeetingWriter.of(db).submit((event, now))


def _meeting_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The row each of these events' meetings gets if it has none yet (one per meeting; its community is
    found by the statement)."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        uuid, meeting_id = event.meeting_uuid, event.meeting_id
        if uuid is None or meeting_id is None:  # no row to make: its events go in nowhere, so the general way
            continue
        if uuid not in rows:
            try:
                rows[uuid] = new_meeting_row(uuid, meeting_id, event.object, None, False)
            except (TypeError, ValueError):  # not created here: its events go the general way (see _declined)
                continue
    return list(rows.values())


def _declined(exc: BaseException) -> bool:
    """Whether a row the database refused alone is left to the general path rather than failed: what it
    holds does not fit (a DataError; on SQLite, an integer past 64 bits), which the general path keeps
    as a failed event for review, where a failed delivery would be a 503 and Zoom's retries would all
    fail the same way."""
    return isinstance(exc, (DataError, OverflowError))


class OpenMeetingWriter:
    """The process's writer for the hot path: a group commit (webhooks.group_commit) whose batches run
    one at a time on a connection kept for the writer. `of` makes the database's kind:
    PostgresOpenMeetingWriter or SqliteOpenMeetingWriter."""

    _writers: weakref.WeakKeyDictionary[Database, OpenMeetingWriter] = weakref.WeakKeyDictionary()
    _writers_lock = threading.Lock()

    def __init__(self) -> None:
        self.group: GroupCommit[tuple[Event, datetime], bool] = GroupCommit(self.insert_batch)
        self.submit = self.group.submit

    @classmethod
    def of(cls, db: Database) -> OpenMeetingWriter:
        """The writer for `db` in this process (SQLite's or PostgreSQL's), made on first use."""
        writer = cls._writers.get(db)
        if writer is None:
            with cls._writers_lock:
                kind = SqliteOpenMeetingWriter if db.is_sqlite else PostgresOpenMeetingWriter
                writer = cls._writers.get(db) or cls._writers.setdefault(db, kind(db))
        return writer

    def insert_batch(self, deliveries: Sequence[tuple[Event, datetime]]) -> list[bool | DBAPIError]:
        """For each delivery, whether it went in (see the subclasses)."""
        raise NotImplementedError

    def _refused(
        self, deliveries: Sequence[tuple[Event, datetime]], exc: BaseException, *, whole_batch: bool
    ) -> list[bool | DBAPIError]:
        """What a batch the database refused comes to: the error for every delivery when it is the
        database's state (unreachable, locked), else each row alone, a row refused for its data left to
        the general path (see _declined)."""
        if whole_batch:
            raise exc
        if len(deliveries) > 1:
            return [self._alone(delivery) for delivery in deliveries]
        if _declined(exc):
            return [False]
        raise exc

    def _alone(self, delivery: tuple[Event, datetime]) -> bool | DBAPIError:
        try:
            return self.insert_batch([delivery])[0]
        except DBAPIError as exc:
            return exc


class PostgresOpenMeetingWriter(OpenMeetingWriter):
    """PostgreSQL's hot path: each batch one statement on a connection kept for the writer
    (zoombot.store.db's DedicatedConnection: autocommit, so a statement is its own transaction, with no
    pool checkout, no BEGIN/COMMIT round trips and no SQLAlchemy work per statement). Measured: letting
    two batches run at once, each on a connection of its own, gained nothing (smaller batches cost
    PostgreSQL what the overlap saved)."""

    def __init__(self, db: Database):
        self.connection = _dedicated(db, DedicatedConnection)  # only the batch that runs uses it
        super().__init__()

    def insert_batch(self, deliveries: Sequence[tuple[Event, datetime]]) -> list[bool | DBAPIError]:
        """One INSERT and one commit for the batch: for each delivery, whether it went in. When the
        database refuses the batch for what is in it (not for being unreachable), each row is tried
        alone, so a row it cannot take fails by itself instead of failing every delivery beside it."""
        meetings = _meeting_rows(event for event, _ in deliveries)
        events = [
            {
                "dedupe_key": event.dedupe_key,
                "event": event.name,
                "event_ts": event.event_ts,
                "received_at": now,
                "account_id": event.account_id,
                "meeting_id": event.meeting_id,
                "meeting_uuid": event.meeting_uuid,
                "body": event.body,
            }
            for event, now in deliveries
        ]
        params = (json_text(meetings), json_text(events))
        try:
            inserted = {key for (key,) in self.connection.execute(_BATCH_INSERT, params)}
        except DBAPIError as exc:
            return self._refused(deliveries, exc, whole_batch=exc.connection_invalidated)
        results: list[bool | DBAPIError] = []
        for event, _ in deliveries:  # an event twice in one batch (a redelivery racing it) went in once
            results.append(event.dedupe_key in inserted)
            inserted.discard(event.dedupe_key)
        return results


class SqliteOpenMeetingWriter(OpenMeetingWriter):
    """SQLite's hot path: the same group commit, each batch one BEGIN IMMEDIATE ... COMMIT on a sqlite3
    connection kept for the writer (zoombot.store.db's DedicatedSqliteConnection), the statements run by the
    driver with no SQLAlchemy work per row. Why: SQLite has one writer at a time, and a writer that finds
    the lock taken sleeps in the busy handler (1, 2, 5, 10 ... 100 ms); one transaction per delivery
    made 16 threads of two workers queue on it, one batch per process makes one writer per process."""

    def __init__(self, db: Database):
        self.connection = _dedicated(db, DedicatedSqliteConnection)
        time_text = ZoomEvent.__table__.c.received_at.type.bind_processor(db.engine.dialect)
        if time_text is None:  # UTCDateTime converts every value it binds
            raise RuntimeError("the received_at column has no bind processor on SQLite")
        self.time_text = time_text
        super().__init__()

    def insert_batch(self, deliveries: Sequence[tuple[Event, datetime]]) -> list[bool | DBAPIError]:
        def work(connection: sqlite3.Connection) -> list[bool | DBAPIError]:
            for meeting in _meeting_rows(event for event, _ in deliveries):
                connection.execute(
                    _SQLITE_MEETING_INSERT,
                    (
                        meeting["uuid"],
                        meeting["zoom_meeting_id"],
                        meeting["zoom_meeting_id"],
                        meeting["topic"],
                        meeting["status"],
                        self.time_text(meeting["scheduled_start"]),
                        meeting["scheduled_minutes"],
                        json_text(meeting["discrepancies"]),
                        meeting["is_demo"],
                    ),
                )
            return [
                connection.execute(
                    _SQLITE_EVENT_INSERT,
                    (
                        event.dedupe_key,
                        event.name,
                        event.event_ts,
                        self.time_text(now),
                        event.account_id,
                        event.meeting_id,
                        event.meeting_uuid,
                        json_text(event.body),
                        event.meeting_uuid,
                    ),
                ).fetchone()
                is not None
                for event, now in deliveries
            ]

        try:
            return self.connection.transaction(work)
        except (DBAPIError, OverflowError) as exc:  # OverflowError: the driver cannot bind an integer
            return self._refused(deliveries, exc, whole_batch=isinstance(exc, OperationalError))


C = TypeVar("C", DedicatedConnection, DedicatedSqliteConnection)


def _dedicated(db: Database, kind: type[C]) -> C:
    """The database's dedicated connection, which must be of the kind the writer drives."""
    connection = db.dedicated_connection()
    if not isinstance(connection, kind):
        raise TypeError(f"a writer for {kind.__name__} got a {type(connection).__name__}")
    return connection


_SQLITE_MEETING_INSERT = """
INSERT INTO meetings (uuid, zoom_meeting_id, community_id, topic, status, scheduled_start, scheduled_minutes,
                      discrepancies, is_demo)
VALUES (?, ?, (SELECT id FROM communities WHERE zoom_meeting_id = ?), ?, ?, ?, ?, ?, ?)
ON CONFLICT (uuid) DO NOTHING
"""
_SQLITE_EVENT_INSERT = """
INSERT INTO zoom_events (dedupe_key, event, event_ts, source, received_at, account_id, meeting_id, meeting_uuid,
                         body, status)
SELECT ?, ?, ?, 'webhook', ?, ?, ?, ?, ?, 'processed'
WHERE EXISTS (SELECT 1 FROM meetings WHERE uuid = ? AND status <> 'ended')
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""


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
                          discrepancies, is_demo)
    SELECT n.uuid, n.zoom_meeting_id, (SELECT c.id FROM communities c WHERE c.zoom_meeting_id = n.zoom_meeting_id),
           n.topic, n.status, n.scheduled_start, n.scheduled_minutes, n.discrepancies, n.is_demo
    FROM json_to_recordset(%s::json)
         AS n (uuid text, zoom_meeting_id text, topic text, status text, scheduled_start timestamptz,
               scheduled_minutes integer, discrepancies json, is_demo boolean)
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
