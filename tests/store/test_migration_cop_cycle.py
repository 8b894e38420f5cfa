"""Revision 0004 (CoP cycle) carries existing data forward on SQLite and PostgreSQL: roles beyond member and
facilitator become storable, whoever had unsubscribed keeps getting no facilitator mail either, and the
downgrade returns to the old schema."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.helpers.databases import LOCAL_POSTGRES
from zoombot.store.db import Database, normalize_url
from zoombot.store.migrate import upgrade

OLD_ROWS = [
    "INSERT INTO communities (id, name, region, audience, zoom_meeting_id, first_start_local, timezone, "
    "duration_minutes, created_at, is_demo) VALUES (1, 'Infant-Toddler CoP', '', '', '81234567890', "
    "'2026-11-10 18:30:00', 'America/New_York', 120, '2026-10-01 00:00:00', false)",
    "INSERT INTO members (id, name, email, created_at, is_demo) VALUES "
    "(1, 'Fran', 'fran@example.org', '2026-10-01 00:00:00', false), "
    "(2, 'Alice', 'alice@example.org', '2026-10-01 00:00:00', false)",
    "INSERT INTO memberships (id, community_id, member_id, role, unsubscribed_at) VALUES "
    "(1, 1, 1, 'facilitator', '2026-10-20 12:00:00'), (2, 1, 2, 'member', NULL)",
    'INSERT INTO occurrences (id, community_id, original_start, start, "end", status, sequence, updated_at) '
    "VALUES (1, 1, '2026-11-10 23:30:00', '2026-11-10 23:30:00', '2026-11-11 01:30:00', 'scheduled', 0, "
    "'2026-10-01 00:00:00')",
    "INSERT INTO outbox (id, occurrence_id, kind, recipient, member_id, revision, status, due_at, expires_at, "
    "attempts, created_at) VALUES (1, 1, 'invite', 'alice@example.org', 2, 0, 'sent', '2026-10-27 23:30:00', "
    "'2026-11-10 23:30:00', 1, '2026-10-01 00:00:00')",
    "INSERT INTO parking_lot_items (id, community_id, text, raised_occurrence_id, created_at) VALUES "
    "(1, 1, 'Biting?', 1, '2026-10-01 00:00:00')",
]
COUNTS = (
    "SELECT (SELECT count(*) FROM memberships), (SELECT count(*) FROM occurrences), "
    "(SELECT count(*) FROM outbox), (SELECT count(*) FROM parking_lot_items)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path):
    """A database at revision 0001 holding a community, a facilitator who unsubscribed and a member."""
    if request.param == "sqlite":
        url, cleanup = f"sqlite:///{tmp_path / 'old.db'}", None
    else:
        base = make_url(
            normalize_url(
                os.environ.get("ZOOMBOT_DATABASE_URL", "")
                if os.environ.get("ZOOMBOT_DATABASE_URL", "").startswith("postgres")
                else LOCAL_POSTGRES
            )
        )
        name = f"zoombot_migration_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    db = Database(url)
    upgrade(db, "0001")
    with db.engine.begin() as conn:
        for statement in OLD_ROWS:
            conn.execute(text(statement))
    yield db
    db.dispose()
    if cleanup:
        cleanup()


def test_upgrade_carries_memberships_forward_and_downgrade_returns(old_database):
    db = old_database
    upgrade(db)
    with db.engine.begin() as conn:
        assert tuple(conn.execute(text(COUNTS)).one()) == (2, 1, 1, 1)
        rows = conn.execute(
            text(
                "SELECT member_id, role, unsubscribed_at IS NOT NULL, "
                "facilitator_mail_unsubscribed_at FROM memberships ORDER BY member_id"
            )
        ).all()
        assert [(r[0], r[1], r[2]) for r in rows] == [(1, "facilitator", True), (2, "member", False)]
        # The facilitator had unsubscribed from everything: facilitator mail stays off too, since that moment.
        assert str(rows[0][3]).startswith("2026-10-20 12:00:00") and rows[1][3] is None
        conn.execute(text("UPDATE memberships SET role = 'note-taker' WHERE member_id = 2"))
        conn.execute(text("UPDATE communities SET passcode = 'a1b2c3' WHERE id = 1"))
    columns = {c["name"] for c in inspect(db.engine).get_columns("parking_lot_items")}
    assert "closed_occurrence_id" in columns and "closures" in inspect(db.engine).get_table_names()

    from alembic import command

    from zoombot.store.migrate import alembic_config

    cfg = alembic_config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003")  # the revision before 0004 (0002 cannot be undone)
    with db.engine.begin() as conn:
        assert tuple(conn.execute(text(COUNTS)).one()) == (2, 1, 1, 1)
        # A role the old schema cannot hold falls back to member; the old check is back.
        assert conn.execute(text("SELECT role FROM memberships ORDER BY member_id")).scalars().all() == [
            "facilitator",
            "member",
        ]
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE memberships SET role = 'timekeeper' WHERE member_id = 2"))
    assert "closures" not in inspect(db.engine).get_table_names()
