"""The migrations and the models describe the same schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from zoombot.store.db import Database
from zoombot.store.models import Base


def test_migrations_build_exactly_the_models(database_url):
    db = Database(database_url)  # migrated by the suite's template
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()
