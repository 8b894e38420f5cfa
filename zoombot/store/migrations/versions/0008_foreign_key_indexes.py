"""foreign key indexes: every column that refers to another row is indexed

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Deleting a row makes the database look for the rows that refer to it (to cascade, set NULL or refuse).
Without an index on the referring column that is a scan of the whole table for each deleted row: deleting
a statewide year's 60 000 credit lines scanned credit_lines once per line for corrections naming it (minutes
on SQLite). Indexed here: credit_lines.corrects_id (only the rows that name a line: corrections are few),
certificates.session_id, outbox.member_id, participant_aliases.member_id, meetings.occurrence_id,
sessions.occurrence_id, resource_submissions.member_id and .occurrence_id, parking_lot_items'
raised_occurrence_id and closed_occurrence_id. Nothing else changes; downgrade drops them.
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PLAIN = [
    ("certificates", "session_id"),
    ("outbox", "member_id"),
    ("participant_aliases", "member_id"),
    ("meetings", "occurrence_id"),
    ("sessions", "occurrence_id"),
    ("resource_submissions", "member_id"),
    ("resource_submissions", "occurrence_id"),
    ("parking_lot_items", "raised_occurrence_id"),
    ("parking_lot_items", "closed_occurrence_id"),
]


def upgrade() -> None:
    for table, column in PLAIN:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    op.create_index(
        "ix_credit_lines_corrects_id",
        "credit_lines",
        ["corrects_id"],
        unique=False,
        postgresql_where=sa.text("corrects_id IS NOT NULL"),
        sqlite_where=sa.text("corrects_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_credit_lines_corrects_id", table_name="credit_lines")
    for table, column in reversed(PLAIN):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
