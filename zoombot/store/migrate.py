"""Schema migrations (Alembic), applied from code so no alembic.ini is needed beside the project."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from zoombot.store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
#: Revisions after which `zoombot db upgrade` re-derives attendance and lines from the stored events.
REBUILD_AFTER = {"0002"}


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "heads", *, default_timezone: str | None = None) -> None:
    """Apply every migration not yet applied; running it again changes nothing. `default_timezone`
    (`[schedule] timezone`) places meetings of no community in sessions (revision 0002)."""
    cfg = alembic_config(db)
    with db.engine.connect() as connection:
        # SQLite: a batch ALTER copies a table and drops the old one; with foreign keys on, that drop would
        # delete (or null) every row referencing it. The pragma only takes effect outside a transaction.
        raw = connection.connection.driver_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                cfg.attributes["default_timezone"] = default_timezone
                command.upgrade(cfg, revision)
                if raw is not None and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left rows whose foreign keys point nowhere")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def pending(db: Database) -> list[str]:
    """Revisions the database still lacks (empty when it is up to date)."""
    script = ScriptDirectory.from_config(alembic_config(db))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(script.get_heads())
    if heads <= current:
        return []
    lower = tuple(current) or "base"
    return sorted(rev.revision for rev in script.iterate_revisions(tuple(heads), lower))
