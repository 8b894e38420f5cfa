"""Registry submission batches: the shell around `zoombot.core.registry_rows` (which says what a row holds).

`submit` takes every approved line not yet submitted (corrections included), holds back those that fail
validation (with the reasons), writes the others' rows in the profile's columns as CSV or XLSX, records
the batch (who, when, exactly which lines, the held-back ones, the file's bytes) and marks exactly those
lines submitted, all in one transaction: a line is in one batch or none. The candidate lines are locked
(PostgreSQL) and marked with a compare-and-set, so two submissions at once can never send a line twice.
A submitted line is final; see `zoombot.store.credit_lines` for corrections.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import spreadsheet
from zoombot.core.registry_rows import LineFacts, Segment, problems, rows, scheduled_end
from zoombot.core.roles import FACILITATOR
from zoombot.store.audit import audit_row
from zoombot.store.db import rows_changed
from zoombot.store.models import (
    AuditEntry,
    Community,
    CreditLine,
    CreditSession,
    Member,
    Membership,
    SubmissionBatch,
    TrainingSegment,
    table_of,
)

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Columns holding text people typed (names, titles): defused for spreadsheets.
TYPED = ("participant_name", "title", "trainer_name", "community", "approver", "sponsor", "category")
NUMERIC = ("hours",)  # numbers in an XLSX file, so that a spreadsheet sums them


class SubmissionError(ValueError):
    """The submission cannot be made as asked; nothing was recorded."""


@dataclass
class Held:
    line_id: int
    who: str
    session: str
    reasons: list[str]


@dataclass
class Prepared:
    """What a submission would send now: each sendable line's rows, and the held-back lines."""

    ready: list[tuple[int, list[dict[str, str]]]] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, str]]:
        return [row for _, line_rows in self.ready for row in line_rows]


@dataclass
class Outcome:
    batch_id: int | None
    filename: str
    content: bytes
    lines: int
    rows: int
    held: list[Held]


def _trainers(session: Session, community_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each community's facilitator (the first by name): (name, registry id)."""
    found: dict[int, tuple[str, str]] = {}
    for community_id, name, registry_id in session.execute(
        select(Membership.community_id, Member.name, Member.registry_id)
        .join(Member)
        .where(Membership.community_id.in_(community_ids), Membership.role == FACILITATOR)
        .order_by(Membership.community_id, func.lower(Member.name))
    ):
        found.setdefault(community_id, (name, registry_id or ""))
    return found


def prepare(
    session: Session, settings: Settings, *, lock: bool = False, community_ids: Sequence[int] | None = None
) -> Prepared:
    """Every approved, unsubmitted line as rows (oldest session first), or held back with its reasons."""
    profile = settings.registry
    query = (
        select(CreditLine, CreditSession, Community, Member)
        .join(CreditSession, CreditSession.id == CreditLine.session_id)
        .outerjoin(Community, Community.id == CreditSession.community_id)
        .outerjoin(Member, Member.id == CreditLine.member_id)
        .where(CreditLine.status == "approved", CreditLine.submitted_at.is_(None))
        .order_by(CreditSession.local_date, CreditSession.id, CreditLine.id)
    )
    if community_ids is not None:
        query = query.where(CreditSession.community_id.in_(list(community_ids)))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=CreditLine)
    found = session.execute(query).all()
    trainers = _trainers(session, {c.id for _, _, c, _ in found if c is not None})
    segment_ids = {seg.get("segment_id") for line, *_ in found for seg in line.segments or []}
    segment_rows = (
        {
            row.id: row
            for row in session.execute(
                select(
                    TrainingSegment.id, TrainingSegment.trainer_registry_id, TrainingSegment.start, TrainingSegment.end
                ).where(TrainingSegment.id.in_(segment_ids - {None}))
            )
        }
        if segment_ids
        else {}
    )
    trainer_ids = {row.trainer_registry_id for row in segment_rows.values()} - {None, ""}
    trainer_names = (
        dict(session.execute(select(Member.registry_id, Member.name).where(Member.registry_id.in_(trainer_ids))).all())
        if trainer_ids
        else {}
    )

    def segment_of(credited: dict[str, Any]) -> Segment:
        """A credited segment as the line recorded it, with its trainer and times as they stand (none, if it
        was deleted since)."""
        row = segment_rows.get(credited.get("segment_id"))
        trainer_id = (row.trainer_registry_id or "") if row else ""
        return Segment(
            title=credited.get("title") or "",
            category=credited.get("category") or "",
            approval_code=credited.get("approval_code") or "",
            trainer_registry_id=trainer_id,
            trainer_name=trainer_names.get(trainer_id, ""),
            start=row.start if row else None,
            end=row.end if row else None,
        )

    corrected = {line.corrects_id for line, *_ in found if line.corrects_id}
    replaced = (
        {row.id: row for row in session.scalars(select(CreditLine).where(CreditLine.id.in_(corrected)))}
        if corrected
        else {}
    )
    out = Prepared()
    for line, held, community, member in found:
        tz = community.timezone if community else settings.schedule.timezone
        trainer_name, trainer_id = trainers.get(community.id, ("", "")) if community else ("", "")
        start = held.scheduled_start or held.started_at
        segments = tuple(segment_of(seg) for seg in line.segments or [] if seg.get("credited_seconds"))
        before = replaced.get(line.corrects_id) if line.corrects_id else None
        facts = LineFacts(
            line_id=line.id,
            status=line.status,
            flagged=line.flagged,
            flag_reason=line.flag_reason,
            member_name=member.name if member else None,
            registry_id=member.registry_id if member else None,
            growth=Decimal(line.growth_hours),
            training=Decimal(line.training_hours),
            session_id=held.id,
            local_date=held.local_date,
            timezone=tz,
            start=start,
            end=scheduled_end(held.scheduled_start, held.scheduled_minutes, held.ended_at),
            community=community.name if community else f"Zoom meeting {held.zoom_meeting_id}",
            title=(community.registry_title or community.name) if community else held.topic,
            category=(community.registry_category or "") if community else "",
            approval_code=(community.approval_code or "") if community else "",
            trainer_name=trainer_name,
            trainer_registry_id=trainer_id,
            segments=segments,
            approver=line.decided_by,
            approved_at=line.decided_at,
            corrects_id=line.corrects_id,
            corrected_growth=Decimal(before.growth_hours) if before else Decimal(0),
            corrected_training=Decimal(before.training_hours) if before else Decimal(0),
            override_reason=line.override_reason,
            extra={"sponsor": profile.sponsor, "delivery_format": profile.delivery_format},
        )
        line_rows = rows(facts, profile)
        reasons = problems(facts, line_rows, profile)
        if reasons:
            who = member.name if member else line.participant_key.split(":", 1)[-1]
            out.held.append(Held(line.id, who, f"{facts.community}, {held.local_date.isoformat()}", reasons))
        else:
            out.ready.append((line.id, line_rows))
    return out


def render(fmt: str, profile_columns: Sequence[str], table: list[dict[str, str]]) -> bytes:
    if fmt == "csv":
        return spreadsheet.to_csv(profile_columns, table, safe=TYPED)
    if fmt == "xlsx":
        return spreadsheet.to_xlsx(profile_columns, table, safe=TYPED, numeric=NUMERIC)
    raise SubmissionError(f"format must be one of {', '.join(FORMATS)}")


def filename(registry: str, batch_id: int | None, now: datetime, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", registry.lower()).strip("-") or "registry"
    return f"{slug}-{'batch-' + str(batch_id) if batch_id else 'nothing-new'}-{now:%Y-%m-%d}.{fmt}"


def submit(session: Session, settings: Settings, *, actor: str, now: datetime, fmt: str = "csv") -> Outcome:
    """Make, record and mark one batch (see the module docstring). With nothing to send, nothing is
    recorded and the file has the header row alone."""
    if fmt not in FORMATS:
        raise SubmissionError(f"format must be one of {', '.join(FORMATS)}")
    profile = settings.registry
    ready = prepare(session, settings, lock=True)
    table = ready.rows
    content = render(fmt, profile.columns, table)
    if not ready.ready:
        return Outcome(None, filename(profile.name, None, now, fmt), content, 0, 0, ready.held)
    ids = [line_id for line_id, _ in ready.ready]
    batch = SubmissionBatch(
        created_at=now,
        created_by=actor,
        registry_name=profile.name,
        format=fmt,
        filename="",
        line_ids=ids,
        row_count=len(table),
        content=content,
        held_back=[
            {"line_id": h.line_id, "who": h.who, "session": h.session, "reasons": h.reasons} for h in ready.held
        ],
    )
    session.add(batch)
    session.flush()
    batch.filename = filename(profile.name, batch.id, now, fmt)
    marked = 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        marked += rows_changed(
            session,
            update(CreditLine)
            .where(CreditLine.id.in_(chunk), CreditLine.submitted_at.is_(None), CreditLine.status == "approved")
            .values(submitted_at=now, exported_at=now, batch_id=batch.id, updated_at=now)
            .execution_options(synchronize_session=False),
        )
    if marked != len(ids):
        raise SubmissionError("another submission took some of these lines at the same moment: nothing recorded")
    sessions = dict(session.execute(select(CreditLine.id, CreditLine.session_id).where(CreditLine.id.in_(ids))).all())
    session.execute(
        insert(table_of(AuditEntry)),
        [
            audit_row(
                actor=actor,
                entity="credit_line",
                entity_id=line_id,
                action="submitted",
                session_id=sessions[line_id],
                to_value=f"batch {batch.id} ({batch.filename})",
                reason=f"{len(line_rows)} row{'' if len(line_rows) == 1 else 's'} sent to {profile.name}",
                at=now,
            )
            for line_id, line_rows in ready.ready
        ],
    )
    return Outcome(batch.id, batch.filename, content, len(ids), len(table), ready.held)


def batches(session: Session, limit: int = 100) -> list[SubmissionBatch]:
    return list(session.scalars(select(SubmissionBatch).order_by(SubmissionBatch.id.desc()).limit(limit)))


def batch_summary(batch: SubmissionBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "created_at": batch.created_at,
        "created_by": batch.created_by,
        "format": batch.format,
        "filename": batch.filename,
        "lines": len(batch.line_ids),
        "rows": batch.row_count,
        "held_back": len(batch.held_back),
    }
