"""Scratch databases for the suite: the PostgreSQL server named by ZOOMBOT_DATABASE_URL (or the local one),
a database of its own per run, migrated to a revision, emptied between tests."""

from __future__ import annotations

import os
import uuid as uuid_module

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from zoombot.store.db import Database, normalize_url
from zoombot.store.migrate import upgrade
from zoombot.store.models import Base


def postgres_url_from_env() -> str | None:
    url = os.environ.get("ZOOMBOT_DATABASE_URL", "")
    return url if url.startswith(("postgresql", "postgres:")) else None


LOCAL_POSTGRES = os.environ.get("ZOOMBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def scratch_postgres_database(server_url: str, revision: str = "heads"):
    """A fresh PostgreSQL database on that server, migrated to `revision`; dropped when the generator is
    closed."""
    base = make_url(normalize_url(server_url))
    name = f"zoombot_test_{os.getpid()}_{uuid_module.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db, revision)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def emptied(postgres_url: str) -> str:
    engine = create_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url
