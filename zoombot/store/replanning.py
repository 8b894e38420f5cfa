"""A community's occurrence rows kept in step with its settings: the shell around `schedule.replan`.

The plan job calls `replan_community` for every community on every run; `zoombot community edit` and the
staff community page call it at once, so their answer can say what changed. A row that moves keeps its
identity (the calendar UID comes from its original start) and its SEQUENCE rises, so the outbox sends
members who hold its invitation an update; a row the schedule dropped is cancelled (SEQUENCE rises, a
cancellation goes out); a new one is simply planned. `announce_details` does the same for a change that
moves nothing but alters what every calendar entry says (the join link, the passcode, the name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from zoombot.core import schedule
from zoombot.store.db import insert_ignoring_conflict, rows_changed
from zoombot.store.models import Community, Occurrence


@dataclass
class ReplanResult:
    created: int = 0
    moved: int = 0
    cancelled: int = 0


def cadence_of(community: Community) -> schedule.Cadence:
    return schedule.Cadence(
        first_start_local=community.first_start_local,
        timezone=community.timezone,
        duration_minutes=community.duration_minutes,
        rrule=community.rrule,
    )


def replan_community(session: Session, community: Community, now: datetime, horizon: datetime) -> ReplanResult:
    """Make the community's upcoming rows in `[now, horizon)` what its schedule says (idempotent).

    ValueError when the community's schedule is unusable (the caller says which community)."""
    wanted = schedule.occurrences(cadence_of(community), now, horizon)
    planned = planned_start_sql()
    rows = session.execute(
        select(Occurrence.id, planned, Occurrence.start, Occurrence.end).where(
            Occurrence.community_id == community.id,
            Occurrence.status == "scheduled",
            Occurrence.start > now,
            planned >= now,
            planned < horizon,
        )
    ).all()
    plan = schedule.replan([schedule.PlannedRow(*row) for row in rows], wanted, community.timezone)
    result = ReplanResult()
    for occ in plan.create:
        result.created += (
            insert_ignoring_conflict(
                session,
                Occurrence,
                {
                    "community_id": community.id,
                    "original_start": occ.original_start,
                    "start": occ.start,
                    "end": occ.end,
                    "status": "scheduled",
                    "sequence": 0,
                    "updated_at": now,
                },
                ["community_id", "original_start"],
            )
            is not None
        )
    for row_id, planned_start, start, end in plan.move:
        occurrence = session.get(Occurrence, row_id)
        if occurrence is None:  # read a moment ago in this transaction; only its community's deletion drops it
            raise RuntimeError(f"occurrence {row_id} disappeared while community {community.id} was being replanned")
        occurrence.planned_start = None if planned_start == occurrence.original_start else planned_start
        if (start, end) != (occurrence.start, occurrence.end):
            occurrence.start, occurrence.end = start, end
            occurrence.sequence += 1
            occurrence.updated_at = now
            result.moved += 1
    if plan.cancel:
        result.cancelled = rows_changed(
            session,
            update(Occurrence)
            .where(Occurrence.id.in_(plan.cancel), Occurrence.status == "scheduled")
            .values(status="cancelled", sequence=Occurrence.sequence + 1, updated_at=now),
        )
    return result


def planned_start_sql() -> ColumnElement[datetime]:
    """The SQL expression of an occurrence's planned start (its original start unless an edit moved it)."""
    return func.coalesce(Occurrence.planned_start, Occurrence.original_start)


def announce_details(session: Session, community_id: int, now: datetime) -> int:
    """Every upcoming occurrence not already changed just now gets a new SEQUENCE, so holders of its
    invitation get an update with the current details; returns how many."""
    return rows_changed(
        session,
        update(Occurrence)
        .where(
            Occurrence.community_id == community_id,
            Occurrence.status == "scheduled",
            Occurrence.start > now,
            Occurrence.updated_at < now,
        )
        .values(sequence=Occurrence.sequence + 1, updated_at=now),
    )
