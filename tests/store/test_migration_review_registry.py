"""Revision 0006 (review and registry) on SQLite and PostgreSQL: lines approved and exported before it were
given to the registry by hand and become submitted (final); other lines stay as they were; a participant
may then hold a correction beside a submitted line; the downgrade returns to 0004's schema."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from test_migration_cop_cycle import old_database  # noqa: F401  (a 0001 database, SQLite and PostgreSQL)

from zoombot.store.migrate import alembic_config, upgrade

LINES = (
    "INSERT INTO credit_lines (id, session_id, participant_key, attended_seconds, training_attended_seconds, "
    "proposed_growth_hours, proposed_training_hours, growth_hours, training_hours, adjusted, segments, status, "
    "flagged, exported_at, created_at, updated_at) VALUES "
    "(1, 1, 'email:alice@example.org', 6890, 0, 1.75, 0, 1.75, 0, false, '[]', 'approved', false, "
    "'2026-10-20 12:00:00', '2026-10-14 00:30:00', '2026-10-14 00:30:00'), "
    "(2, 1, 'email:bob@example.org', 4500, 0, 1.25, 0, 1.25, 0, false, '[]', 'approved', false, NULL, "
    "'2026-10-14 00:30:00', '2026-10-14 00:30:00'), "
    "(3, 1, 'name:+1 555 0100', 6840, 0, 1.75, 0, 1.75, 0, false, '[]', 'pending', false, NULL, "
    "'2026-10-14 00:30:00', '2026-10-14 00:30:00')"
)
SESSION = (
    "INSERT INTO sessions (id, key, community_id, zoom_meeting_id, local_date, topic, status, needs_review, "
    "is_demo) VALUES (1, 'c1:2026-10-13', 1, '81234567890', '2026-10-13', 'CoP', 'ended', false, false)"
)


def test_exported_lines_become_submitted_and_downgrade_returns(old_database):  # noqa: F811
    db = old_database
    upgrade(db, "0004")
    with db.engine.begin() as conn:
        conn.execute(text(SESSION))
        conn.execute(text(LINES))
    upgrade(db, "0006")
    with db.engine.begin() as conn:
        rows = conn.execute(
            text("SELECT id, revision, submitted_at IS NOT NULL, batch_id, status FROM credit_lines ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (1, 0, True, None, "approved"),
            (2, 0, False, None, "approved"),
            (3, 0, False, None, "pending"),
        ]
        # a correction of the submitted line is the same participant's next revision
        conn.execute(
            text(
                "INSERT INTO credit_lines (id, session_id, participant_key, revision, corrects_id, "
                "attended_seconds, training_attended_seconds, proposed_growth_hours, "
                "proposed_training_hours, growth_hours, training_hours, adjusted, segments, status, "
                "flagged, created_at, updated_at) VALUES (4, 1, 'email:alice@example.org', 1, 1, 7000, 0, "
                "2, 0, 2, 0, false, '[]', 'pending', true, '2026-10-21 00:00:00', '2026-10-21 00:00:00')"
            )
        )
    with pytest.raises(IntegrityError):  # but never a second line of the same revision
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO credit_lines (id, session_id, participant_key, revision, attended_seconds, "
                    "training_attended_seconds, proposed_growth_hours, proposed_training_hours, "
                    "growth_hours, training_hours, adjusted, segments, status, flagged, created_at, "
                    "updated_at) VALUES (5, 1, 'email:alice@example.org', 1, 0, 0, 0, 0, 0, 0, false, "
                    "'[]', 'pending', false, '2026-10-21 00:00:00', '2026-10-21 00:00:00')"
                )
            )
    cfg = alembic_config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004")
    with db.engine.begin() as conn:
        assert [tuple(r) for r in conn.execute(text("SELECT id, status FROM credit_lines ORDER BY id"))] == [
            (1, "approved"),
            (2, "approved"),
            (3, "pending"),
        ]  # the correction goes with its revision
    upgrade(db)
