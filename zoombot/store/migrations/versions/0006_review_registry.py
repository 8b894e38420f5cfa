"""review and registry: submission batches, corrections, facilitator proposals, registry fields, digests

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30

- submission_batches: each file sent to the registry (who, when, which lines, held-back lines with their
  reasons, the file's bytes).
- credit_lines: submitted_at and batch_id (a submitted line is final); revision and corrects_id (a change
  after submission is a new correction line of the same participant, so the unique key becomes
  session, participant, revision); a facilitator's proposal (confirmed | disputed), note, proposed_by/at.
- communities: registry_title, registry_category, approval_code; training_segments: trainer_registry_id.
- deadline_digests: one row per day and staff recipient, claimed before the digest mail is sent.

Lines exported before this revision ("mark as exported", `hours export --mark-exported`) were given to the
registry by hand: approved ones become submitted (submitted_at = exported_at, no batch), so they are final
from now on and later changes to them become corrections.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'submission_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False),
        sa.Column('registry_name', sa.String(length=200), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('line_ids', sa.JSON(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('held_back', sa.JSON(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("format IN ('csv', 'xlsx')", name=op.f('ck_submission_batches_format')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_batches')),
    )
    op.create_table(
        'deadline_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest_date', sa.Date(), nullable=False),
        sa.Column('recipient', sa.String(length=320), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claimed_by', sa.String(length=100), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_deadline_digests_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_digests')),
        sa.UniqueConstraint('digest_date', 'recipient', name=op.f('uq_deadline_digests_digest_date')),
    )
    with op.batch_alter_table('credit_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('corrects_id', BIG_ID, nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('proposal', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('proposed_by', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_credit_lines_session_id'), type_='unique')
        batch_op.create_unique_constraint('uq_credit_lines_session_key_revision',
                                          ['session_id', 'participant_key', 'revision'])
        batch_op.create_check_constraint('proposal', "proposal IN ('confirmed', 'disputed')")
        batch_op.create_index(batch_op.f('ix_credit_lines_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_credit_lines_corrects_id_credit_lines'), 'credit_lines',
                                    ['corrects_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_credit_lines_batch_id_submission_batches'),
                                    'submission_batches', ['batch_id'], ['id'], ondelete='RESTRICT')
    with op.batch_alter_table('communities', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('registry_title', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('registry_category', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('approval_code', sa.String(length=100), nullable=True))
    with op.batch_alter_table('training_segments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trainer_registry_id', sa.String(length=64), server_default='',
                                      nullable=False))
    op.execute("UPDATE credit_lines SET submitted_at = exported_at "
               "WHERE exported_at IS NOT NULL AND status = 'approved'")


def downgrade() -> None:
    with op.batch_alter_table('training_segments', schema=None) as batch_op:
        batch_op.drop_column('trainer_registry_id')
    with op.batch_alter_table('communities', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('approval_code')
        batch_op.drop_column('registry_category')
        batch_op.drop_column('registry_title')
    op.execute("DELETE FROM credit_lines WHERE revision > 0")
    with op.batch_alter_table('credit_lines', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_credit_lines_batch_id_submission_batches'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_credit_lines_corrects_id_credit_lines'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_credit_lines_batch_id'))
        batch_op.drop_constraint(batch_op.f('ck_credit_lines_proposal'), type_='check')
        batch_op.drop_constraint('uq_credit_lines_session_key_revision', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_credit_lines_session_id'), ['session_id', 'participant_key'])
        for column in ('proposed_at', 'proposed_by', 'note', 'proposal', 'batch_id', 'submitted_at', 'corrects_id',
                       'revision'):
            batch_op.drop_column(column)
    op.drop_table('deadline_digests')
    op.drop_table('submission_batches')
