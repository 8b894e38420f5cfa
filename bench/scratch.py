"""A fresh, migrated database for one benchmark run: a PostgreSQL database created on a server and
dropped afterwards, or a SQLite file in a temporary folder."""

from __future__ import annotations

import os
import tempfile
import uuid as uuid_module

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from zoombot.store.db import Database, normalize_url
from zoombot.store.migrate import upgrade

DEFAULT_SERVER = os.environ.get("ZOOMBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class BenchDatabase:
    def __init__(self, sqlite: bool, server_url: str | None = DEFAULT_SERVER):
        self.admin = None
        if sqlite or not server_url:
            self.url = f"sqlite:///{tempfile.mkdtemp(prefix='zoombot-bench-')}/bench.db"
            self.label = "SQLite (WAL, a fresh file)"
        else:
            base = make_url(normalize_url(server_url))
            self.name = f"zoombot_bench_{os.getpid()}_{uuid_module.uuid4().hex[:6]}"
            self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
                version = conn.execute(text("SHOW server_version")).scalar()
            self.url = base.set(database=self.name).render_as_string(hide_password=False)
            self.label = f"PostgreSQL {version} (a fresh database)"
        db = Database(self.url)
        upgrade(db)
        db.dispose()

    def count_events(self, where: str = "true") -> int:
        engine = create_engine(normalize_url(self.url))
        with engine.connect() as conn:
            count = conn.execute(text(f"SELECT count(*) FROM zoom_events WHERE {where}")).scalar()
        engine.dispose()
        return count

    def drop(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()
