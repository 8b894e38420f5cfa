"""member proof: certificates with verification codes, member claims, member mail without a meeting

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

- certificates: each certificate of attendance issued, by verification code, with a snapshot of the
  credit it attests (so a later change to the line shows on the verification page).
- member_claims: "I attended this session but am not counted", decided by staff.
- outbox.occurrence_id may be NULL: a member's own mail (a fresh link to their page) is about no meeting.
  On SQLite the outbox is recreated (nothing refers to it), its rows copied.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('credit', sa.JSON(), nullable=False),
    sa.Column('member_initials', sa.String(length=20), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['credit_lines.id'], name=op.f('fk_certificates_line_id_credit_lines'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_certificates_member_id_members'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_certificates_session_id_sessions'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('code', name=op.f('uq_certificates_code')),
    sa.UniqueConstraint('line_id', 'fingerprint', name=op.f('uq_certificates_line_id'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_member_id'), ['member_id'], unique=False)

    op.create_table('member_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_ref', sa.String(length=40), nullable=True),
    sa.Column('chosen_first_join', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chosen_last_leave', sa.DateTime(timezone=True), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.CheckConstraint("status IN ('open', 'accepted', 'declined', 'withdrawn')",
                       name=op.f('ck_member_claims_status')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_claims_member_id_members'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_member_claims_session_id_sessions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_claims')),
    sa.UniqueConstraint('member_id', 'session_id', name=op.f('uq_member_claims_member_id'))
    )
    with op.batch_alter_table('member_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_claims_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_claims_status'), ['status'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('occurrence_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE occurrence_id IS NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('occurrence_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('member_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_claims_status'))
        batch_op.drop_index(batch_op.f('ix_member_claims_session_id'))
    op.drop_table('member_claims')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_member_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_line_id'))
    op.drop_table('certificates')
