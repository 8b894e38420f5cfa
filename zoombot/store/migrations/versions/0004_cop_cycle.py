"""CoP cycle: community passcode, configurable roles, facilitator mail preference, closures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

- communities.passcode: shown in text with the join link (Zoom's `pwd=` in a link is an encrypted form
  only Zoom can make, so a typed passcode cannot go into a link).
- memberships.role: any role of `[community] roles` (the check for member/facilitator goes; checked where a
  role is set), up to 40 characters.
- memberships.facilitator_mail_unsubscribed_at: the facilitator mails' own preference. Until now one
  unsubscribe stopped everything, so whoever had unsubscribed keeps getting no facilitator mail either.
- occurrences.planned_start: the start the community's schedule gives an occurrence (NULL: its original
  start), so that a schedule edit can move it while a move made in Zoom is told apart.
- parking_lot_items.closed_occurrence_id and the closures table: how a meeting closed.

On SQLite, communities and occurrences are altered in place (recreate='never'; DROP COLUMN needs SQLite
3.35+): recreating them would drop the old table, and with foreign keys on that cascades into every row
that points at it (memberships, outbox, agendas...).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('communities', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('passcode', sa.String(length=10), nullable=True))

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_memberships_role'), type_='check')
        batch_op.alter_column('role', existing_type=sa.String(length=16), type_=sa.String(length=40),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('facilitator_mail_unsubscribed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE memberships SET facilitator_mail_unsubscribed_at = unsubscribed_at "
               "WHERE unsubscribed_at IS NOT NULL")

    with op.batch_alter_table('occurrences', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('planned_start', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('parking_lot_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_occurrence_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_parking_lot_items_closed_occurrence_id_occurrences'),
                                    'occurrences', ['closed_occurrence_id'], ['id'], ondelete='SET NULL')

    op.create_table('closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.JSON(), nullable=False),
    sa.Column('evaluation_url', sa.String(length=2000), nullable=True),
    sa.Column('recorded_by', sa.String(length=320), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_closures_occurrence_id_occurrences'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closures')),
    sa.UniqueConstraint('occurrence_id', name=op.f('uq_closures_occurrence_id'))
    )


def downgrade() -> None:
    op.drop_table('closures')
    with op.batch_alter_table('parking_lot_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_parking_lot_items_closed_occurrence_id_occurrences'),
                                 type_='foreignkey')
        batch_op.drop_column('closed_occurrence_id')
    with op.batch_alter_table('occurrences', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('planned_start')
    op.execute("UPDATE memberships SET role = 'member' WHERE role NOT IN ('member', 'facilitator')")
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('facilitator_mail_unsubscribed_at')
        batch_op.alter_column('role', existing_type=sa.String(length=40), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.create_check_constraint('role', "role IN ('member', 'facilitator')")
    with op.batch_alter_table('communities', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('passcode')
