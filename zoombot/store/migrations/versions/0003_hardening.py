"""hardening: a session generation per staff user, so sessions can be revoked

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Existing users start at generation 0; cookies issued before this revision carry no generation and are
no longer accepted, so everyone signs in once more after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
