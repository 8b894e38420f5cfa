"""session credit: sessions, training segments, one credit line per person per session

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Carries existing data forward:
- every meeting instance joins a session: its community's occurrence (by the rule of `zoombot.sessions`,
  copied here as it stood, so this migration never changes with the code), else its local date;
- a meeting's training window becomes a training segment of its session ("Elective training");
- hours records become credit lines, one per person per session: a person's growth and training records
  (and records of several instances of one session) become one line whose hours are their sum; the
  line keeps the records' decision when they agreed, else it is pending and flagged with what they were.
  The line takes the smallest record id, and audit entries of the records now name their line;
- staff merges move from the instance to its session; participants (derived) are emptied.
`zoombot db upgrade` then rebuilds the derived tables, which brings every line in step with the new rules
(pending lines follow; decided ones whose credit changes are reopened with the before and after shown).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

GRACE = timedelta(hours=2)


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _stored(value):
    """An aware UTC instant as the models store it: naive UTC text on SQLite."""
    if value is None or op.get_bind().dialect.name != "sqlite":
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def upgrade() -> None:
    op.create_table(
        'sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=True),
        sa.Column('occurrence_id', sa.Integer(), nullable=True),
        sa.Column('zoom_meeting_id', sa.String(length=32), nullable=False),
        sa.Column('local_date', sa.Date(), nullable=False),
        sa.Column('topic', sa.String(length=300), nullable=False),
        sa.Column('scheduled_start', sa.DateTime(timezone=True), nullable=True),
        sa.Column('scheduled_minutes', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('lines_built_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('needs_review', sa.Boolean(), nullable=False),
        sa.Column('is_demo', sa.Boolean(), nullable=False),
        sa.CheckConstraint("status IN ('scheduled', 'live', 'ended')", name=op.f('ck_sessions_status')),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_sessions_community_id_communities'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'],
                                name=op.f('fk_sessions_occurrence_id_occurrences'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
        sa.UniqueConstraint('key', name=op.f('uq_sessions_key')),
    )
    op.create_index(op.f('ix_sessions_community_id'), 'sessions', ['community_id'], unique=False)
    op.create_index(op.f('ix_sessions_started_at'), 'sessions', ['started_at'], unique=False)
    op.create_table(
        'training_segments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('category', sa.String(length=200), nullable=False),
        sa.Column('approval_code', sa.String(length=100), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_training_segments_session_id_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_segments')),
    )
    op.create_index(op.f('ix_training_segments_session_id'), 'training_segments', ['session_id'], unique=False)
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'credit_lines',
        sa.Column('id', big_id, nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('participant_key', sa.String(length=400), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('attended_seconds', sa.Integer(), nullable=False),
        sa.Column('training_attended_seconds', sa.Integer(), nullable=False),
        sa.Column('proposed_growth_hours', sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column('proposed_training_hours', sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column('growth_hours', sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column('training_hours', sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column('adjusted', sa.Boolean(), nullable=False),
        sa.Column('override_reason', sa.Text(), nullable=True),
        sa.Column('no_credit_reason', sa.Text(), nullable=True),
        sa.Column('segments', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False),
        sa.Column('flag_reason', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=320), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'no_credit')",
                           name=op.f('ck_credit_lines_status')),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_credit_lines_member_id_members'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_credit_lines_session_id_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_lines')),
        sa.UniqueConstraint('session_id', 'participant_key', name=op.f('uq_credit_lines_session_id')),
    )
    op.create_index(op.f('ix_credit_lines_member_id'), 'credit_lines', ['member_id'], unique=False)
    op.create_index(op.f('ix_credit_lines_session_id'), 'credit_lines', ['session_id'], unique=False)
    op.create_index(op.f('ix_credit_lines_status'), 'credit_lines', ['status'], unique=False)

    with op.batch_alter_table('communities') as batch:
        batch.add_column(sa.Column('minimum_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('attendance_percent_minimum', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('training_full_attendance', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('training_missed_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('training_minimum_minutes', sa.Integer(), nullable=True))
    with op.batch_alter_table('meetings') as batch:
        batch.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_meetings_session_id'), ['session_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_meetings_session_id_sessions'), 'sessions', ['session_id'], ['id'],
                                 ondelete='SET NULL')
    with op.batch_alter_table('audit_entries') as batch:
        batch.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_audit_entries_session_id'), ['session_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_audit_entries_session_id_sessions'), 'sessions', ['session_id'],
                                 ['id'], ondelete='SET NULL')
    with op.batch_alter_table('participant_merges') as batch:
        batch.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='merge'))

    sessions_of = _place_meetings()
    _carry_training_windows()
    _carry_records()
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE audit_entries SET session_id = (SELECT session_id FROM meetings "
                         "WHERE meetings.id = audit_entries.meeting_id) WHERE meeting_id IS NOT NULL"))
    conn.execute(sa.text("UPDATE participant_merges SET session_id = (SELECT session_id FROM meetings "
                         "WHERE meetings.id = participant_merges.meeting_id)"))
    conn.execute(sa.text("DELETE FROM participant_merges WHERE session_id IS NULL"))
    # Two instances of one session may hold a merge of the same source: the first one made stays.
    conn.execute(sa.text("DELETE FROM participant_merges WHERE id NOT IN (SELECT min(id) FROM participant_merges "
                         "GROUP BY session_id, source_key)"))
    del sessions_of

    with op.batch_alter_table('participant_merges') as batch:
        batch.drop_constraint('uq_participant_merges_meeting_id', type_='unique')
        batch.drop_constraint('fk_participant_merges_meeting_id_meetings', type_='foreignkey')
        batch.drop_column('meeting_id')
        batch.alter_column('session_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('kind', existing_type=sa.String(length=16), server_default=None)
        batch.create_foreign_key(batch.f('fk_participant_merges_session_id_sessions'), 'sessions', ['session_id'],
                                 ['id'], ondelete='CASCADE')
        batch.create_unique_constraint(batch.f('uq_participant_merges_session_id'),
                                       ['session_id', 'kind', 'source_key'])
        batch.create_check_constraint(batch.f('ck_participant_merges_kind'), "kind IN ('merge', 'unbind')")

    op.drop_table('participants')
    op.create_table(
        'participants',
        sa.Column('id', big_id, nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('identity_key', sa.String(length=400), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('registrant_id', sa.String(length=100), nullable=True),
        sa.Column('zoom_user_id', sa.String(length=100), nullable=True),
        sa.Column('is_host', sa.Boolean(), nullable=False),
        sa.Column('devices', sa.Integer(), nullable=False),
        sa.Column('rejoins', sa.Integer(), nullable=False),
        sa.Column('incomplete', sa.Boolean(), nullable=False),
        sa.Column('intervals', sa.JSON(), nullable=False),
        sa.Column('attended_seconds', sa.Integer(), nullable=False),
        sa.Column('first_join', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_leave', sa.DateTime(timezone=True), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('match_method', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_participants_member_id_members'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_participants_session_id_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
        sa.UniqueConstraint('session_id', 'identity_key', name=op.f('uq_participants_session_id')),
    )
    op.create_index(op.f('ix_participants_member_id'), 'participants', ['member_id'], unique=False)

    op.drop_index('ix_hours_records_meeting_id', table_name='hours_records')
    op.drop_index('ix_hours_records_member_id', table_name='hours_records')
    op.drop_index('ix_hours_records_status', table_name='hours_records')
    op.drop_table('hours_records')
    with op.batch_alter_table('meetings') as batch:
        batch.drop_column('training_start')
        batch.drop_column('training_end')
        batch.drop_column('records_built_at')
        batch.drop_column('needs_review')


def _place_meetings() -> dict[int, int]:
    """Every meeting into its session (the rule of zoombot.sessions as of this revision)."""
    conn = op.get_bind()
    default_zone = op.get_context().config.attributes.get("default_timezone") or "America/New_York"
    communities = {cid: tz for cid, tz in conn.execute(sa.text("SELECT id, timezone FROM communities"))}
    occurrences = defaultdict(list)
    for oid, cid, start, end in conn.execute(sa.text("SELECT id, community_id, start, \"end\" FROM occurrences")):
        occurrences[cid].append((oid, _aware(start), _aware(end)))
    rows = conn.execute(sa.text(
        "SELECT id, zoom_meeting_id, community_id, topic, scheduled_start, scheduled_minutes, started_at, ended_at, "
        "status, records_built_at, needs_review, is_demo FROM meetings ORDER BY id")).all()
    sessions: dict[str, dict] = {}
    placed: dict[int, str] = {}
    for (mid, zoom_id, cid, topic, scheduled_start, scheduled_minutes, started_at, ended_at, status, built,
         needs_review, is_demo) in rows:
        anchor = _aware(started_at) or _aware(scheduled_start)
        if anchor is None:
            continue
        if cid is not None:
            inside = [o for o in occurrences[cid] if o[1] - GRACE <= anchor <= o[2] + GRACE]
            occurrence = min(inside, key=lambda o: (abs((o[1] - anchor).total_seconds()), o[0]), default=None)
            zone = ZoneInfo(communities[cid])
        else:
            occurrence, zone = None, ZoneInfo(default_zone)
        day = (occurrence[1] if occurrence else anchor).astimezone(zone).date()
        key = f"{'c%d' % cid if cid is not None else 'z' + zoom_id}:{day.isoformat()}"
        placed[mid] = key
        entry = sessions.setdefault(key, {
            "key": key, "community_id": cid, "occurrence_id": occurrence[0] if occurrence else None,
            "zoom_meeting_id": zoom_id, "local_date": day, "topic": topic or "", "scheduled_start": None,
            "scheduled_minutes": None, "started_at": None, "ended_at": None, "statuses": set(),
            "lines_built_at": None, "needs_review": False, "is_demo": False})
        if occurrence is not None:
            entry["scheduled_start"], entry["scheduled_minutes"] = occurrence[1], int(
                (occurrence[2] - occurrence[1]).total_seconds() // 60)
        elif entry["scheduled_start"] is None:
            entry["scheduled_start"], entry["scheduled_minutes"] = _aware(scheduled_start), scheduled_minutes
        for field, value, pick in (("started_at", _aware(started_at), min), ("ended_at", _aware(ended_at), max),
                                   ("lines_built_at", _aware(built), min)):
            if value is not None:
                entry[field] = value if entry[field] is None else pick(entry[field], value)
        entry["statuses"].add(status)
        entry["needs_review"] |= bool(needs_review)
        entry["is_demo"] |= bool(is_demo)
    table = sa.table('sessions', *(sa.column(c) for c in (
        'key', 'community_id', 'occurrence_id', 'zoom_meeting_id', 'topic', 'scheduled_minutes', 'status',
        'needs_review', 'is_demo')), *(sa.column(c, sa.DateTime()) for c in (
            'scheduled_start', 'started_at', 'ended_at', 'lines_built_at')), sa.column('local_date', sa.Date()))
    for entry in sessions.values():
        statuses = entry.pop("statuses")
        entry["status"] = "live" if "live" in statuses else "ended" if "ended" in statuses else "scheduled"
        for field in ('scheduled_start', 'started_at', 'ended_at', 'lines_built_at'):
            entry[field] = _stored(entry[field])
        conn.execute(table.insert().values(**entry))
    ids = {key: sid for sid, key in conn.execute(sa.text("SELECT id, key FROM sessions"))}
    for mid, key in placed.items():
        conn.execute(sa.text("UPDATE meetings SET session_id = :s WHERE id = :m"), {"s": ids[key], "m": mid})
    return {mid: ids[key] for mid, key in placed.items()}


def _carry_training_windows() -> None:
    conn = op.get_bind()
    table = sa.table('training_segments', *(sa.column(c) for c in (
        'session_id', 'title', 'category', 'approval_code', 'created_by')),
        *(sa.column(c, sa.DateTime()) for c in ('start', 'end', 'created_at')))
    seen = set()
    for sid, start, end in conn.execute(sa.text(
            "SELECT session_id, training_start, training_end FROM meetings WHERE session_id IS NOT NULL "
            "AND training_start IS NOT NULL AND training_end IS NOT NULL ORDER BY training_start")).all():
        start, end = _aware(start), _aware(end)
        if end <= start or any(s == sid and a < end and start < b for s, a, b in seen):
            continue
        seen.add((sid, start, end))
        conn.execute(table.insert().values(session_id=sid, start=_stored(start), end=_stored(end),
                                           title="Elective training", category="", approval_code="",
                                           created_by="migration", created_at=_stored(datetime.now(timezone.utc))))


def _carry_records() -> None:
    conn = op.get_bind()
    records = conn.execute(sa.text(
        "SELECT r.id, m.session_id, r.participant_key, r.member_id, r.kind, r.attended_seconds, r.proposed_hours, "
        "r.hours, r.status, r.flagged, r.flag_reason, r.exported_at, r.created_at, r.updated_at "
        "FROM hours_records r JOIN meetings m ON m.id = r.meeting_id WHERE m.session_id IS NOT NULL "
        "ORDER BY r.id")).all()
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for row in records:
        groups[(row.session_id, row.participant_key)].append(row)
    table = sa.table('credit_lines', *(sa.column(c) for c in (
        'id', 'session_id', 'participant_key', 'member_id', 'attended_seconds', 'training_attended_seconds',
        'adjusted', 'no_credit_reason', 'status', 'flagged', 'flag_reason')),
        sa.column('segments', sa.JSON()), *(sa.column(c, sa.DateTime()) for c in (
            'exported_at', 'created_at', 'updated_at')), *(sa.column(c, sa.Numeric(7, 2)) for c in (
                'proposed_growth_hours', 'proposed_training_hours', 'growth_hours', 'training_hours')))
    renamed: dict[int, int] = {}
    for (sid, key), rows in groups.items():
        line_id = min(r.id for r in rows)
        for r in rows:
            renamed[r.id] = line_id

        def total(kind: str, field: str) -> Decimal:
            return sum((Decimal(str(getattr(r, field))) for r in rows if r.kind == kind), Decimal("0"))
        statuses = {r.status for r in rows}
        flagged = any(r.flagged for r in rows)
        reasons = [r.flag_reason for r in rows if r.flagged and r.flag_reason]
        status = statuses.pop() if len(statuses) == 1 else "pending"
        if len({r.status for r in rows}) > 1 or len({(r.kind) for r in rows}) < len(rows):
            flagged = True
            reasons.append("carried over from " + ", ".join(
                f"{r.kind} record {r.id} ({r.status}, {Decimal(str(r.hours)):.2f} h)" for r in rows))
        exported = [_aware(r.exported_at) for r in rows if r.exported_at is not None]
        conn.execute(table.insert().values(
            id=line_id, session_id=sid, participant_key=key, member_id=next((r.member_id for r in rows if r.member_id),
                                                                           None),
            attended_seconds=sum(r.attended_seconds for r in rows),
            training_attended_seconds=sum(r.attended_seconds for r in rows if r.kind == "training"),
            proposed_growth_hours=total("growth", "proposed_hours"),
            proposed_training_hours=total("training", "proposed_hours"),
            growth_hours=total("growth", "hours"), training_hours=total("training", "hours"),
            adjusted=any(Decimal(str(r.hours)) != Decimal(str(r.proposed_hours)) for r in rows),
            no_credit_reason=None, segments=[], status=status, flagged=flagged,
            flag_reason="; ".join(reasons) or None, exported_at=_stored(max(exported)) if exported else None,
            created_at=_stored(min(_aware(r.created_at) for r in rows)),
            updated_at=_stored(max(_aware(r.updated_at) for r in rows))))
    for old, new in renamed.items():
        conn.execute(sa.text("UPDATE audit_entries SET entity = 'credit_line', entity_id = :new "
                             "WHERE entity = 'hours_record' AND entity_id = :old"), {"new": new, "old": old})
    conn.execute(sa.text("UPDATE audit_entries SET entity = 'credit_line' WHERE entity = 'hours_record'"))
    if conn.dialect.name == "postgresql" and renamed:  # ids were given: move the sequence past them
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('credit_lines', 'id'), "
                             "(SELECT max(id) FROM credit_lines))"))


def downgrade() -> None:
    raise NotImplementedError("0002 cannot be undone: restore the backup taken before the upgrade")
