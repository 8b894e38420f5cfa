"""Engines and explicit sessions for SQLite (embedded) and PostgreSQL (production).

Operators write ordinary URLs (`postgresql://user@host/db`); the driver is chosen here. SQLite runs in
WAL mode with foreign keys on and takes its write lock at BEGIN, so concurrent writers queue instead
of failing half-way with "database is locked".
"""
from __future__ import annotations

import contextlib
import select as select_module
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Map operator-style URLs to the SQLAlchemy dialect+driver zoombot installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(normalize_url(engine_or_url))
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, connect_args={"connect_timeout": 5})
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """A pre-ping without the round trip. An idle pooled connection has nothing to read; once the server
    has closed it (restart, terminated backend, idle timeout) its socket is readable (the FATAL notice,
    or end of file), so the pool discards it and checks out another. Saves a round trip per request."""
    poller = select_module.poll()
    try:
        poller.register(dbapi_connection.fileno(), select_module.POLLIN | select_module.POLLERR | select_module.POLLHUP)
        ready = poller.poll(0)
    except (OSError, ValueError):
        ready = True
    if ready or dbapi_connection.closed:
        raise DisconnectionError("connection closed by the server while idle in the pool")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no branch - tiny hook
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine plus a session factory; sessions are always explicit (`with db.begin() as s:`)."""

    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 10):
        self.url = normalize_url(url)
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextlib.contextmanager
    def driver_autocommit(self) -> Iterator[Any]:
        """The driver's own connection from the pool, in autocommit (each statement its own transaction:
        no BEGIN/COMMIT round trips) and without SQLAlchemy's per-statement work; for the webhook hot
        path. Driver errors come out as SQLAlchemy's DBAPIError subclasses, like everywhere else."""
        error = self.engine.dialect.dbapi.Error
        try:
            pooled = self.engine.raw_connection()
        except error as exc:
            raise DBAPIError.instance(None, None, exc, error) from exc
        try:
            connection = pooled.driver_connection
            connection.autocommit = True
            try:
                yield connection
            finally:
                connection.autocommit = False
        except error as exc:
            pooled.invalidate()  # whatever broke, this connection does not go back to the pool
            raise DBAPIError.instance(None, None, exc, error, hide_parameters=True,
                                      connection_invalidated=True) from exc
        finally:
            pooled.close()

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignoring_conflict(session: Session, model, values: dict, conflict: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the primary key; None when the row already existed.

    The database decides races: of two workers inserting the same key, exactly one gets an id.
    """
    primary_key = model.__mapper__.primary_key[0]
    statement = (dialect_insert(session.get_bind(), model).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict).returning(primary_key))
    return session.execute(statement).scalar()


def dialect_insert(bind, model):
    """The INSERT construct of the bind's dialect (both have ON CONFLICT ... DO NOTHING)."""
    return dialect_insert_for(bind.dialect.name, model)


def dialect_insert_for(dialect: str, model):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)
