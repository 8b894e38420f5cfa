"""The SQLite writer's own wait for the write lock (store.db.DedicatedSqliteConnection): it gets the lock
as soon as another process's transaction ends, not after SQLite's busy handler's long sleeps, and still
gives up with the driver's "locked" error after the busy timeout."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from zoombot.store import db as db_module
from zoombot.store.db import Database


@pytest.fixture
def sqlite_db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'writer.db'}")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield database
    database.dispose()


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def test_a_writer_waits_for_the_lock_in_short_pauses_and_then_writes(sqlite_db, tmp_path, monkeypatch):
    pauses: list[float] = []
    real_sleep = time.sleep
    writer_thread = threading.current_thread()

    def sleep(seconds: float) -> None:
        if threading.current_thread() is writer_thread:  # not the lock holder's own wait
            pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(db_module.time, "sleep", sleep)
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(str(tmp_path / "writer.db"), 0.3, held))
    holder.start()
    held.wait(5)
    writer = sqlite_db.dedicated_connection()
    started = time.monotonic()
    writer.transaction(lambda conn: conn.execute("INSERT INTO t VALUES (2)"))
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 0.25  # it did wait for the other transaction
    # SQLite's own handler would have slept up to 100 ms at a time; this one never more than 2 ms
    assert len(pauses) > 20 and max(pauses) <= 0.002
    assert writer._connection.execute("PRAGMA busy_timeout").fetchone() == (0,)
    assert writer.transaction(lambda conn: conn.execute("SELECT x FROM t ORDER BY x").fetchall()) == [(1,), (2,)]


def test_a_writer_gives_up_after_the_busy_timeout(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setattr(db_module, "BUSY_SECONDS", 0.2)
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(str(tmp_path / "writer.db"), 1.0, held))
    holder.start()
    held.wait(5)
    writer = sqlite_db.dedicated_connection()
    with pytest.raises(OperationalError, match="locked"):
        writer.transaction(lambda conn: conn.execute("INSERT INTO t VALUES (3)"))
    holder.join()
    assert writer.transaction(lambda conn: conn.execute("SELECT x FROM t").fetchall()) == [(1,)]


def test_other_errors_are_not_retried(sqlite_db):
    writer = sqlite_db.dedicated_connection()
    writer.transaction(lambda conn: None)  # opens the connection
    writer._connection.execute("BEGIN")  # a transaction already open: BEGIN IMMEDIATE is refused at once
    started = time.monotonic()
    with pytest.raises(OperationalError, match="within a transaction"):
        writer.transaction(lambda conn: None)
    assert time.monotonic() - started < 0.1
