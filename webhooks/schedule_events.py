"""Changes made in Zoom to a community's meeting: created, updated (moved), deleted (cancelled).

The jobs notice changed occurrences (their `sequence` rises) and send updates or cancellations.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select

from webhooks.context import Context
from webhooks.event import Event
from webhooks.router import Router
from zoombot.core.attendance import parse_time
from zoombot.store.models import Community, Occurrence

router = Router()


def _community(event: Event, ctx: Context) -> Community | None:
    meeting_id = event.meeting_id
    if meeting_id is None:
        return None
    return ctx.session.scalar(select(Community).where(Community.zoom_meeting_id == meeting_id))


def _occurrence_start(item: Mapping[str, Any]) -> datetime | None:
    """Zoom's occurrence_id is the occurrence's original start in epoch milliseconds."""
    try:
        return datetime.fromtimestamp(int(item.get("occurrence_id")) / 1000, tz=timezone.utc)
    except (TypeError, ValueError):
        return None


def _occurrences(ctx: Context, community: Community, items: Iterable[Mapping[str, Any]]):
    for item in items:
        if not isinstance(item, Mapping):
            continue
        original = _occurrence_start(item)
        occurrence = ctx.session.scalar(select(Occurrence).where(
            Occurrence.community_id == community.id,
            (Occurrence.zoom_occurrence_id == str(item.get("occurrence_id"))) | (Occurrence.original_start == original)))
        if occurrence is not None:
            yield occurrence, item


@router.register("meeting.created")
def meeting_created(event: Event, ctx: Context) -> None:
    community = _community(event, ctx)
    if community is not None and event.object.get("join_url"):
        community.join_url = str(event.object["join_url"])[:1000]


@router.register("meeting.updated")
def meeting_updated(event: Event, ctx: Context) -> None:
    community = _community(event, ctx)
    if community is None:
        return
    obj = event.object
    if obj.get("join_url"):
        community.join_url = str(obj["join_url"])[:1000]
    occurrences = obj.get("occurrences")
    if isinstance(occurrences, list) and occurrences:
        for occurrence, item in _occurrences(ctx, community, occurrences):
            start = parse_time(item.get("start_time")) or occurrence.start
            minutes = item.get("duration")
            length = timedelta(minutes=int(minutes)) if str(minutes).isdigit() else occurrence.end - occurrence.start
            if (start, start + length) != (occurrence.start, occurrence.end):
                occurrence.start, occurrence.end = start, start + length
                occurrence.sequence += 1
                occurrence.updated_at = ctx.now
        return
    if str(obj.get("duration", "")).isdigit():
        community.duration_minutes = int(obj["duration"])
    if obj.get("timezone"):
        try:
            ZoneInfo(str(obj["timezone"]))
            community.timezone = str(obj["timezone"])
        except (KeyError, ValueError):
            pass
    start = parse_time(obj.get("start_time"))
    if start is not None:
        community.first_start_local = start.astimezone(ZoneInfo(community.timezone)).replace(tzinfo=None)


@router.register("meeting.deleted")
def meeting_deleted(event: Event, ctx: Context) -> None:
    community = _community(event, ctx)
    if community is None:
        return
    occurrences = event.object.get("occurrences")
    if isinstance(occurrences, list) and occurrences:
        targets = [occ for occ, _ in _occurrences(ctx, community, occurrences)]
    else:
        targets = list(ctx.session.scalars(select(Occurrence).where(
            Occurrence.community_id == community.id, Occurrence.start > ctx.now)))
        community.join_url = None
    for occurrence in targets:
        if occurrence.status != "cancelled":
            occurrence.status = "cancelled"
            occurrence.sequence += 1
            occurrence.updated_at = ctx.now
