"""Database outages, for real: the receiver answers 503 (so Zoom redelivers), writes nothing half-way, and
the redelivery afterwards is stored exactly once. Readiness follows the database.

Two kinds of failure on each backend:
- locked: another connection holds the lock the receiver needs (SQLite `BEGIN EXCLUSIVE`; PostgreSQL
  `LOCK TABLE meetings`, which the receiver meets only after it has inserted the event, so the test also
  proves the half-written insert is rolled back);
- unreachable: the runtime points at a database that cannot be opened (SQLite: a path that is a
  directory; PostgreSQL: a loopback port with nothing listening).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from tests.helpers.servers import free_port
from tests.helpers.zoom_events import signed_headers, zoom_event
from zoombot.app import create_app
from zoombot.runtime import Runtime
from zoombot.store.db import normalize_url
from zoombot.store.models import CreditLine, CreditSession, Meeting, Participant, ZoomEvent

NOTHING = (0, 0, 0, 0, 0)


def counts(url: str) -> tuple[int, ...]:
    """Rows of (events, meetings, sessions, participants, credit lines)."""
    engine = create_engine(normalize_url(url))
    with engine.connect() as conn:
        result = tuple(
            conn.scalar(select(func.count()).select_from(m))
            for m in (ZoomEvent, Meeting, CreditSession, Participant, CreditLine)
        )
    engine.dispose()
    return result


def client_for(runtime: Runtime):
    return create_app(runtime=runtime, test_config={"TESTING": True}).test_client()


def deliver(client, body: bytes):
    return client.post("/zoom/webhook", data=body, headers=signed_headers(body))


@pytest.fixture
def impatient_runtime(make_settings, clock):
    """A runtime that gives up on a held lock after a fraction of a second instead of waiting."""
    rt = Runtime.from_settings(make_settings())
    rt.clock = clock

    @event.listens_for(rt.db.engine, "connect")
    def _short_waits(dbapi_connection, _record):
        if rt.db.is_sqlite:
            dbapi_connection.execute("PRAGMA busy_timeout = 200")
        else:
            dbapi_connection.execute("SET lock_timeout = '300ms'")
            dbapi_connection.commit()

    yield rt
    rt.db.dispose()


class HeldLock:
    """Another session holding the lock the receiver needs, until released."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            self.conn = sqlite3.connect(make_url(url).database, isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            self.engine = create_engine(normalize_url(url))
            self.conn = self.engine.connect()
            self.conn.execute(text("LOCK TABLE meetings IN ACCESS EXCLUSIVE MODE"))

    def release(self) -> None:
        self.conn.rollback() if not self.url.startswith("sqlite") else self.conn.execute("ROLLBACK")
        self.conn.close()
        if not self.url.startswith("sqlite"):
            self.engine.dispose()


def test_locked_database_gives_503_then_the_redelivery_is_stored_once(impatient_runtime, database_url):
    client = client_for(impatient_runtime)
    body = json.dumps(zoom_event("participant_joined")).encode()
    lock = HeldLock(database_url)
    try:
        response = deliver(client, body)
    finally:
        lock.release()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert counts(database_url) == NOTHING  # nothing half-written
    # Zoom redelivers (the same bytes, maybe the first timestamp): stored once
    assert deliver(client, body).json == {"status": "stored"}
    assert deliver(client, body).json == {"status": "duplicate"}
    # the event and its instance (the hot path makes the instance; its session comes when it starts or ends)
    assert counts(database_url)[:3] == (1, 1, 0)


def test_lock_on_meeting_end_rolls_back_everything(impatient_runtime, database_url):
    """meeting.ended writes the event, the meeting, its session and the session's credit lines in one
    transaction: all or nothing."""
    client = client_for(impatient_runtime)
    for name in ("meeting_started", "participant_joined"):
        assert deliver(client, json.dumps(zoom_event(name)).encode()).status_code == 200
    before = counts(database_url)
    end = json.dumps(zoom_event("meeting_ended")).encode()
    lock = HeldLock(database_url)
    try:
        assert deliver(client, end).status_code == 503
    finally:
        lock.release()
    assert counts(database_url) == before
    assert before[4] == 0  # no credit line before the session ends
    with impatient_runtime.db.begin() as session:
        assert session.scalar(select(Meeting.status)) == "live"
        assert session.execute(select(CreditSession.status, CreditSession.lines_built_at)).one() == ("live", None)
    assert deliver(client, end).json == {"status": "stored"}
    assert counts(database_url) == (before[0] + 1, 1, 1, 1, 1)
    with impatient_runtime.db.begin() as session:
        assert session.scalar(select(Meeting.status)) == "ended"
        assert session.scalar(select(CreditSession.status)) == "ended"


def unreachable_url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        directory = tmp_path / "not-a-database"
        directory.mkdir()
        return f"sqlite:///{directory}"
    return (
        make_url(normalize_url(database_url))
        .set(host="127.0.0.1", port=free_port())
        .render_as_string(hide_password=False)
    )


@pytest.mark.parametrize("secret_configured", [True, False])
def test_unreachable_database_gives_503_then_the_redelivery_is_stored_once(
    make_settings, clock, database_url, tmp_path, secret_configured
):
    zoom = {} if secret_configured else {"webhook_secret_token": ""}
    down = Runtime.from_settings(make_settings(database={"url": unreachable_url(database_url, tmp_path)}, zoom=zoom))
    down.clock = clock
    down_client = client_for(down)
    body = json.dumps(zoom_event("participant_joined")).encode()
    response = deliver(down_client, body)
    # without a configured secret the local one lives in the database: still 503, never a final 401
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert down_client.get("/readyz").status_code == 503
    assert down_client.get("/healthz").status_code == 200  # the process itself is fine
    down.db.dispose()

    assert counts(database_url) == NOTHING
    up = Runtime.from_settings(make_settings())
    up.clock = clock
    up_client = client_for(up)
    assert up_client.get("/readyz").status_code == 200
    assert deliver(up_client, body).json == {"status": "stored"}
    assert deliver(up_client, body).json == {"status": "duplicate"}
    assert counts(database_url)[0] == 1
    up.db.dispose()


def test_connections_closed_by_the_server_are_replaced_without_a_failed_delivery(runtime, client, database_url):
    """zoombot checks pooled connections without a round trip (webhooks' hot path saves the pre-ping):
    one the server has closed (restart, terminated backend) is discarded at checkout, not used."""
    first, second, end = (
        json.dumps(zoom_event(name, **kw)).encode()
        for name, kw in [("meeting_started", {}), ("participant_joined", {}), ("meeting_ended", {})]
    )
    assert deliver(client, first).json == {"status": "stored"}
    if database_url.startswith("sqlite"):
        _check_socket_probe()
        return
    admin = create_engine(normalize_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        victims = (
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            )
            .scalars()
            .all()
        )
        assert victims  # the runtime's pooled connections
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"), {"pids": victims}
        )
        deadline = time.monotonic() + 10
        while (
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(CAST(:pids AS int[]))"), {"pids": victims}
            ).scalar()
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)  # waiting for the backends to exit, not a timed assertion
    admin.dispose()
    assert deliver(client, second).json == {"status": "stored"}  # hot path
    assert deliver(client, end).json == {"status": "stored"}  # general path
    assert counts(database_url)[0] == 3


def _check_socket_probe() -> None:
    """SQLite has no server to lose: check the probe itself on a socket pair."""
    from sqlalchemy.exc import DisconnectionError

    from zoombot.store.db import _discard_if_closed_by_server

    class Driver:
        closed = False

        def __init__(self, sock):
            self.sock = sock

        def fileno(self):
            return self.sock.fileno()

    ours, server = socket.socketpair()
    try:
        _discard_if_closed_by_server(Driver(ours), None, None)  # idle and open: kept
        server.sendall(b"E")  # the server's FATAL notice
        with pytest.raises(DisconnectionError):
            _discard_if_closed_by_server(Driver(ours), None, None)
        ours.recv(1)
        server.close()  # end of file
        with pytest.raises(DisconnectionError):
            _discard_if_closed_by_server(Driver(ours), None, None)
    finally:
        ours.close()
