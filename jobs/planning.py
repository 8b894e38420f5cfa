"""Planning jobs: each community's occurrences from its RRULE, then the messages each one needs.

`plan_occurrences` keeps every community's rows in `[now, now + [schedule] horizon_days)` in step with its
schedule (`zoombot.store.replanning`: new ones inserted ignoring ones that exist, so concurrent runs are
harmless; moved ones keep their identity and get a higher SEQUENCE; dropped ones are cancelled).
Occurrences moved in Zoom keep their original start as identity; the webhook handler moves them.
`plan_outbox` then plans rows.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from zoombot.runtime import Runtime
from zoombot.store import outbox
from zoombot.store.models import Community
from zoombot.store.replanning import replan_community

log = logging.getLogger("zoombot.jobs.planning")


def plan_occurrences(runtime: Runtime) -> dict[str, int]:
    now = runtime.now()
    horizon = now + timedelta(days=runtime.settings.schedule.horizon_days)
    totals = {"created": 0, "moved": 0, "cancelled": 0}
    with runtime.db.begin() as session:
        for community in list(session.scalars(select(Community).order_by(Community.id))):
            try:
                result = replan_community(session, community, now, horizon)
            except ValueError as exc:  # a bad rule stops only this community, and says which one
                log.error("community %s has an unusable schedule: %s", community.id, exc)
                continue
            for key in totals:
                totals[key] += getattr(result, key)
    return totals


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
