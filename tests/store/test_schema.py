"""The migrations and the models describe the same schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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


def test_every_reference_is_indexed(database_url):
    """Deleting a row makes the database find the rows that refer to it; without an index on the referring
    column that is a scan of the table per deleted row (a year of credit lines took minutes to delete)."""
    db = Database(database_url)
    try:
        inspector = inspect(db.engine)
        unindexed = []
        for table in inspector.get_table_names():
            leading = {tuple(index["column_names"][:1]) for index in inspector.get_indexes(table)}
            leading |= {tuple(unique["column_names"][:1]) for unique in inspector.get_unique_constraints(table)}
            leading.add(tuple(inspector.get_pk_constraint(table)["constrained_columns"][:1]))
            for key in inspector.get_foreign_keys(table):
                if tuple(key["constrained_columns"][:1]) not in leading:
                    unindexed.append(f"{table}.{key['constrained_columns'][0]}")
        assert unindexed == []
    finally:
        db.dispose()
