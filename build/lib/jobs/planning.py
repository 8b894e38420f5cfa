"""Planning jobs: each community's occurrences from its RRULE, then the messages each one needs.

`plan_occurrences` inserts one row per occurrence in `[now, now + [schedule] horizon_days)` (ignoring
ones that exist, so concurrent runs are harmless) and cancels future occurrences the community's cadence
no longer produces (raising their SEQUENCE, so a cancellation goes out). Occurrences moved in Zoom keep
their original start as identity; the webhook handler moves them. `plan_outbox` then plans rows.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from zoombot import outbox, schedule
from zoombot.db import insert_ignoring_conflict
from zoombot.models import Community, Occurrence
from zoombot.runtime import Runtime

log = logging.getLogger("zoombot.jobs.planning")


def cadence_of(community: Community) -> schedule.Cadence:
    return schedule.Cadence(first_start_local=community.first_start_local, timezone=community.timezone,
                            duration_minutes=community.duration_minutes, rrule=community.rrule)


def plan_occurrences(runtime: Runtime) -> dict[str, int]:
    now = runtime.now()
    horizon = now + timedelta(days=runtime.settings.schedule.horizon_days)
    created = cancelled = 0
    with runtime.db.begin() as session:
        communities = list(session.scalars(select(Community).order_by(Community.id)))
        for community in communities:
            try:
                wanted = schedule.occurrences(cadence_of(community), now, horizon)
            except ValueError as exc:  # a bad rule stops only this community, and says which one
                log.error("community %s has an unusable schedule: %s", community.id, exc)
                continue
            for occ in wanted:
                created += insert_ignoring_conflict(session, Occurrence, {
                    "community_id": community.id, "original_start": occ.original_start, "start": occ.start,
                    "end": occ.end, "status": "scheduled", "sequence": 0, "updated_at": now,
                }, ["community_id", "original_start"]) is not None
            starts = {occ.original_start for occ in wanted}
            planned = session.execute(select(Occurrence.id, Occurrence.original_start).where(
                Occurrence.community_id == community.id, Occurrence.status == "scheduled",
                Occurrence.start > now, Occurrence.original_start >= now, Occurrence.original_start < horizon)).all()
            for occurrence_id, original in planned:
                if original in starts:
                    continue
                cancelled += session.execute(update(Occurrence).where(
                    Occurrence.id == occurrence_id, Occurrence.status == "scheduled").values(
                    status="cancelled", sequence=Occurrence.sequence + 1, updated_at=now)).rowcount
    return {"created": created, "cancelled": cancelled}


def plan_outbox(runtime: Runtime) -> int:
    now = runtime.now()
    horizon = timedelta(days=runtime.settings.schedule.horizon_days)
    created = 0
    with runtime.db.begin() as session:
        for occurrence in outbox.occurrences_to_plan(session, now, horizon):
            created += outbox.plan_occurrence(session, occurrence, runtime.settings.schedule, now)
    return created


def plan(runtime: Runtime) -> dict[str, int]:
    """Both steps, in order (one job, so the outbox never lags a freshly planned occurrence)."""
    result = plan_occurrences(runtime)
    result["messages"] = plan_outbox(runtime)
    return result
