"""Changes made in Zoom to a community's meeting: created, updated (moved), deleted (cancelled).

Occurrences change through `zoombot.store.occurrences`, as `zoombot zoom sync` changes them; the jobs notice
changed occurrences (their `sequence` rises) and send updates or cancellations.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from webhooks.context import Context
from webhooks.event import Event
from webhooks.router import Router
from zoombot.core.digits import is_digits
from zoombot.core.times import parse_time
from zoombot.store import occurrences
from zoombot.store.models import Community, Occurrence

router = Router()


def _community(event: Event, ctx: Context) -> Community | None:
    meeting_id = event.meeting_id
    if meeting_id is None:
        return None
    return ctx.session.scalar(select(Community).where(Community.zoom_meeting_id == meeting_id))


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
    items = obj.get("occurrences")
    if isinstance(items, list) and items:
        pairs, _ = occurrences.pair(ctx.session, community, items)
        occurrences.apply(pairs, ctx.now)
        return
    if is_digits(obj.get("duration", "")):
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
    items = event.object.get("occurrences")
    if isinstance(items, list) and items:
        targets = [occurrence for occurrence, _ in occurrences.pair(ctx.session, community, items)[0]]
    else:
        targets = list(
            ctx.session.scalars(
                select(Occurrence).where(Occurrence.community_id == community.id, Occurrence.start > ctx.now)
            )
        )
        community.join_url = None
    for occurrence in targets:
        occurrences.cancel(occurrence, ctx.now)
