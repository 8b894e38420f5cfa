"""Engines and explicit sessions for SQLite (embedded) and PostgreSQL (production).

Operators write ordinary URLs (`postgresql://user@host/db`); the driver is chosen here. SQLite runs in
WAL mode with foreign keys on and takes its write lock at BEGIN, so concurrent writers queue instead
of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import os
import select as select_module
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Delete, Engine, Update, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from zoombot.core import json_codec

T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Map operator-style URLs to the SQLAlchemy dialect+driver zoombot installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(normalize_url(engine_or_url))
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: str) -> str | None:
    """A SQLite database's file, or None for one in memory (which no other connection or process sees)."""
    database = make_url(normalize_url(url)).database
    return database if database and database != ":memory:" else None


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10, read_only: bool = False) -> Engine:
    """Every engine zoombot makes. `hide_parameters`: a statement's bound values (participant names, e-mails,
    registrant ids) never appear in an error's text, which reaches logs in tracebacks; see also
    zoombot.logging_setup, which drops what the database server itself quotes from a row. `read_only`: the
    database refuses every write on its connections, and a SQLite transaction takes no write lock (a
    reader beside a writer's long transaction, as the rebuild's rules process is)."""
    url = normalize_url(url)
    if is_sqlite(url):
        database = sqlite_file(url)
        if database is not None:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
            json_serializer=json_codec.dumps,
            json_deserializer=json_codec.loads,
        )
        _configure_sqlite(engine, read_only=read_only)
        return engine
    # Positional parameters and bulk inserts of 50 rows a statement: psycopg rewrites every statement's
    # placeholders in Python, and a statewide rebuild's inserts run 30% faster this way (bench/records.py).
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args={"connect_timeout": 5} | ({"options": "-c default_transaction_read_only=on"} if read_only else {}),
        paramstyle="format",
        insertmanyvalues_page_size=50,
        hide_parameters=True,
        json_serializer=json_codec.dumps,
        json_deserializer=json_codec.loads,
    )
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """A pre-ping without the round trip (see _closed_by_server): the pool discards such a connection and
    checks out another. Saves a round trip per request."""
    if _closed_by_server(dbapi_connection):
        raise DisconnectionError("connection closed by the server while idle in the pool")


def _closed_by_server(dbapi_connection) -> bool:
    """An idle connection has nothing to read; once the server has closed it (restart, terminated
    backend, idle timeout) its socket is readable (the FATAL notice, or end of file)."""
    poller = select_module.poll()
    try:
        poller.register(dbapi_connection.fileno(), select_module.POLLIN | select_module.POLLERR | select_module.POLLHUP)
        ready = bool(poller.poll(0))
    except (OSError, ValueError):
        ready = True
    return ready or bool(dbapi_connection.closed)


def _detached(engine: Engine) -> Any:
    """A new driver connection made by the engine's pool (URL, connect arguments and hooks), then taken
    out of it: the pool no longer counts, resets or closes it."""
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    pooled.detach()
    return connection


BUSY_SECONDS = 30  # how long a SQLite writer waits for the write lock before it gives up (busy_timeout)


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no branch - tiny hook
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """The engine plus a session factory; sessions are always explicit (`with db.begin() as s:`)."""

    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 10, read_only: bool = False):
        self.url = normalize_url(url)
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow, read_only=read_only)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = is_sqlite(self.engine)
        self._dedicated: list[DedicatedConnection | DedicatedSqliteConnection] = []

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dedicated_connection(self) -> DedicatedConnection | DedicatedSqliteConnection:
        """A connection of its own, kept out of the pool (see DedicatedConnection and its SQLite
        counterpart); dispose() closes it."""
        connection = (DedicatedSqliteConnection if self.is_sqlite else DedicatedConnection)(self.engine)
        self._dedicated.append(connection)
        return connection

    def dispose(self) -> None:
        for connection in self._dedicated:
            connection.close()
        self.engine.dispose()


class DedicatedConnection:
    """One driver connection kept out of the pool, in autocommit, for one caller at a time (the leader of
    the webhook group commit): each statement is its own transaction, with no BEGIN/COMMIT round trips,
    no pool checkout or reset, and no SQLAlchemy work per statement. Made on first use from the engine
    (same URL and connect hooks); checked for a server-side close before each use, like the pool's
    checkout; dropped once broken. Driver errors come out as SQLAlchemy's DBAPIError, like everywhere else,
    with `connection_invalidated` telling a lost connection from a refused statement. Never used across
    a fork: a child makes its own.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Any = None
        self._cursor: Any = None
        self._pid = 0

    def execute(self, sql: str, params: Any) -> list[tuple]:
        """Run one statement and return its rows."""
        error = _dbapi_error(self.engine)
        try:
            cursor = self._live_cursor()
            return cursor.execute(sql, params).fetchall()
        except error as exc:
            broken = self._connection is None or self._connection.closed or self._connection.broken
            if broken:
                self.close()
            raise DBAPIError.instance(
                sql, None, exc, error, hide_parameters=True, connection_invalidated=broken
            ) from exc

    def _live_cursor(self) -> Any:
        if self._connection is not None and (self._pid != os.getpid() or _closed_by_server(self._connection)):
            self.close()
        if self._connection is None:
            self._connection = _detached(self.engine)
            self._connection.autocommit = True
            self._cursor = self._connection.cursor()
            self._pid = os.getpid()
        return self._cursor

    def close(self) -> None:
        connection, self._connection, self._cursor = self._connection, None, None
        if connection is not None and self._pid == os.getpid():  # a forked child must not end its parent's session
            with contextlib.suppress(Exception):
                connection.close()


class DedicatedSqliteConnection:
    """SQLite's counterpart of DedicatedConnection: one sqlite3 connection kept out of the pool (made by
    the engine, so with its pragmas: WAL, busy timeout, foreign keys), for one caller at a time, that
    runs a piece of work in one BEGIN IMMEDIATE ... COMMIT with no SQLAlchemy work per statement. Driver
    errors come out as SQLAlchemy's DBAPIError, parameters hidden. Never used across a fork."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Any = None
        self._pid = 0

    def transaction(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` inside one write transaction: committed when it returns, rolled back when
        it raises."""
        error = _dbapi_error(self.engine)
        try:
            connection = self._live()
            self._begin_immediate(connection, error)
            try:
                result = work(connection)
                connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(error):
                    connection.execute("ROLLBACK")
                raise
            return result
        except error as exc:
            raise DBAPIError.instance(None, None, exc, error, hide_parameters=True) from exc

    def _begin_immediate(self, connection: Any, error: type[Exception]) -> None:
        """Take the write lock, polling every half millisecond while another process holds it. SQLite's own
        busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms... between tries, so under a steady stream of short
        write transactions from two workers the waiting one oversleeps them by tens of milliseconds."""
        deadline = time.monotonic() + BUSY_SECONDS
        pause = 0.0002
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except error as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)

    def _live(self) -> Any:
        if self._connection is not None and self._pid != os.getpid():
            self._connection = None  # a forked child makes its own
        if self._connection is None:
            self._connection = _detached(self.engine)  # autocommit: isolation_level None (the connect hook)
            self._connection.execute("PRAGMA busy_timeout=0")  # _begin_immediate waits, finer than SQLite
            self._pid = os.getpid()
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):
                connection.close()


def insert_ignoring_conflict(session: Session, model, values: dict, conflict: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the primary key; None when the row already existed.

    The database decides races: of two workers inserting the same key, exactly one gets an id.
    """
    primary_key = model.__mapper__.primary_key[0]
    statement = (
        dialect_insert(session.get_bind(), model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(primary_key)
    )
    return session.execute(statement).scalar()


def rows_changed(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed: what a compare-and-set claim (a lease,
    an outbox row, lines taken by a batch) checks to know whether it won."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount  # DML's result is a CursorResult


def _dbapi_error(engine: Engine) -> type[Exception]:
    """The driver's base error class (sqlite3.Error, psycopg.Error)."""
    dbapi = engine.dialect.dbapi
    if dbapi is None:
        raise RuntimeError(f"no database driver loaded for {engine.dialect.name}")
    error: type[Exception] = dbapi.Error
    return error


def dialect_insert(bind, model):
    """The INSERT construct of the bind's dialect (both have ON CONFLICT ... DO NOTHING)."""
    return dialect_insert_for(bind.dialect.name, model)


def dialect_insert_for(dialect: str, model: Any) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def refresh_statistics(session: Session, *tables: str) -> bool:
    """PostgreSQL: bring the planner's statistics of `tables` up to date inside `session`'s transaction, rows
    it has written and not yet committed included; False when another transaction holds the tables for the
    same (two rebuilds at once: the first one's figures serve both) or there is nothing to do (SQLite).

    Why: a long transaction that fills tables that were empty when last analyzed (a rebuild after the
    derived tables were emptied and vacuumed, a first rebuild on a new installation) is otherwise planned
    as if they were still empty. The foreign-key checks of every participant, line and audit entry it
    inserts are cached plans made for a referenced table of a few rows, a scan of it; as the table grows
    to thousands of rows, each chunk's inserts take longer than the last (statewide year, sessions
    emptied and vacuumed: 9.6-10.2 s; refreshed after the first chunk: 5.5 s). ANALYZE inside a
    transaction keeps its lock until the transaction ends, so it is only tried (NOWAIT), never waited for."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.flush()
    names = ", ".join(session.get_bind().dialect.identifier_preparer.quote(t) for t in tables)
    try:
        with session.begin_nested():
            session.execute(text(f"LOCK TABLE {names} IN SHARE UPDATE EXCLUSIVE MODE NOWAIT"))
            session.execute(text(f"ANALYZE {names}"))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        return False
    return True
