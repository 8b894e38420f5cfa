"""Revision 0009 (lean indexes) on SQLite and PostgreSQL: credit lines lose their second index by session, the
referring columns that are mostly empty are indexed where they refer, each such index still finds the rows
that refer to a given row (what deleting that row asks), and the downgrade returns the full indexes."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from test_migration_cop_cycle import old_database  # noqa: F401 (fixture: a database at 0001 with some rows)

from zoombot.store.migrate import alembic_config, upgrade

NARROWED = {
    "ix_credit_lines_member_id": ("credit_lines", "member_id"),
    "ix_credit_lines_batch_id": ("credit_lines", "batch_id"),
    "ix_participants_member_id": ("participants", "member_id"),
    "ix_audit_entries_meeting_id": ("audit_entries", "meeting_id"),
}


def definitions(db) -> dict[str, str]:
    """Each index's definition as the database keeps it, by name."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
        else:
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
        return {name: " ".join(sql.split()) for name, sql in rows}


def plan(db, table: str, column: str) -> str:
    """How the database finds the rows of `table` that refer to row 7 through `column`."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            rows = conn.execute(text(f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE {column} = 7"))
            return " ".join(row[-1] for row in rows)
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # the tables are tiny: ask what it can use
        return " ".join(row[0] for row in conn.execute(text(f"EXPLAIN SELECT id FROM {table} WHERE {column} = 7")))


def test_indexes_are_lean_and_still_find_what_refers(old_database):
    db = old_database
    upgrade(db)
    found = definitions(db)
    assert "ix_credit_lines_session_id" not in found
    for name, (table, column) in NARROWED.items():
        assert found[name].endswith(f"WHERE {column} IS NOT NULL" if db.is_sqlite else f"WHERE ({column} IS NOT NULL)")
        assert name in plan(db, table, column)
    # a session's lines are found through the unique key on (session_id, participant_key, revision)
    by_session = plan(db, "credit_lines", "session_id")
    assert ("sqlite_autoindex_credit_lines" if db.is_sqlite else "uq_credit_lines_session_key_revision") in by_session

    cfg = alembic_config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0008")
    found = definitions(db)
    assert "ix_credit_lines_session_id" in found
    for name in NARROWED:
        assert "WHERE" not in found[name]
