"""Revision 0007 (members' proof) on SQLite and PostgreSQL: the outbox (recreated on SQLite to let a member's
own mail name no meeting) keeps its rows and its unique key, and the downgrade returns."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from test_migration_cop_cycle import old_database  # noqa: F401 (fixture: a database at 0001 with an outbox row)

from zoombot.store.migrate import upgrade

ROW = (
    "INSERT INTO outbox (id, occurrence_id, kind, recipient, member_id, revision, status, due_at, expires_at, "
    "attempts, created_at) VALUES ({id}, {occurrence}, '{kind}', 'alice@example.org', 2, 0, 'pending', "
    "'2026-10-27 23:30:00', '2026-11-10 23:30:00', 0, '2026-10-01 00:00:00')"
)


def test_the_outbox_keeps_its_rows_and_key_and_takes_member_mail(old_database):
    db = old_database
    upgrade(db)
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT id, occurrence_id, kind, recipient, status, attempts FROM outbox")).all() == [
            (1, 1, "invite", "alice@example.org", "sent", 1)
        ]
        conn.execute(text(ROW.format(id=10, occurrence="NULL", kind="member_link")))
        conn.execute(text(ROW.format(id=11, occurrence="NULL", kind="member_link")))  # each request is its own row
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE occurrence_id IS NULL")).scalar() == 2
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(ROW.format(id=12, occurrence=1, kind="invite")))  # (occurrence, kind, recipient, revision)
    assert {"certificates", "member_claims"} <= set(inspect(db.engine).get_table_names())
    from alembic import command

    from zoombot.store.migrate import alembic_config

    cfg = alembic_config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0006")  # a member's own mail cannot be kept without a meeting: it goes
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT id, occurrence_id FROM outbox")).all() == [(1, 1)]
    assert not {"certificates", "member_claims"} & set(inspect(db.engine).get_table_names())
