"""A community's recurring Zoom meeting: created from its schedule, and kept in step with Zoom.

Zoom is the authority on the meeting (its id, join link, and which occurrences were moved or deleted in
Zoom's own UI); zoombot's `occurrences` rows are the authority on what members were told. When Zoom says an
occurrence moved or was deleted, the row follows and its `sequence` rises, so the jobs send an updated
invitation or a cancellation. The same changes also arrive by the meeting.updated / meeting.deleted webhooks;
`zoombot zoom sync` catches up whatever those missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.core import zoom_occurrences
from zoombot.core.recurrence import meeting_body
from zoombot.store import occurrences
from zoombot.store.models import Community, Occurrence
from zoombot.zoom.client import ZoomClient, ZoomError

__all__ = ["create_zoom_meeting", "sync_community", "SyncResult"]


@dataclass
class SyncResult:
    """What one sync changed, for the command's summary line."""

    linked: int = 0
    moved: int = 0
    cancelled: int = 0
    join_url_changed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.cancelled or self.join_url_changed)


def create_zoom_meeting(
    session: Session, community: Community, client: ZoomClient, *, user_id: str, now: datetime | None = None
) -> None:
    """Create the community's recurring meeting in Zoom (recurrence from its RRULE where Zoom can express
    it, waiting room on) and store its id, join link and occurrence ids.

    Call it inside the transaction that holds `community`; if that transaction fails after Zoom answered,
    the meeting exists in Zoom without zoombot knowing it (delete it there, or add the community with
    `--zoom-meeting-id`). Raises ZoomError (nothing stored) when Zoom refuses. Pass `now` (runtime.now())
    for `zoom_synced_at`; it defaults to the system clock.
    """
    if community.zoom_meeting_id:
        raise ValueError(f"community {community.name!r} already has Zoom meeting {community.zoom_meeting_id}")
    body = meeting_body(
        topic=community.name,
        start_local=community.first_start_local,
        timezone=community.timezone,
        duration_minutes=community.duration_minutes,
        rrule=community.rrule,
    )
    created = client.create_meeting(user_id or "me", body)
    meeting_id = created.get("id")
    if meeting_id in (None, ""):
        raise ZoomError("Zoom created a meeting but its answer has no id")
    community.zoom_meeting_id = str(meeting_id)
    if created.get("join_url"):
        community.join_url = str(created["join_url"])[:1000]
    community.passcode = _passcode(created) or community.passcode
    community.zoom_synced_at = now or datetime.now(UTC)
    session.flush()  # the community needs its id before its occurrences can be matched
    occurrences.pair(session, community, created.get("occurrences") or [])


def sync_community(session: Session, community: Community, meeting: Mapping[str, Any], now: datetime) -> SyncResult:
    """Apply Zoom's view of the community's meeting (the answer of GET /meetings/{id}) to the database."""
    result = SyncResult()
    join_url = meeting.get("join_url")
    if join_url and str(join_url)[:1000] != community.join_url:
        community.join_url = str(join_url)[:1000]
        result.join_url_changed = True
    passcode = _passcode(meeting)
    if passcode and passcode != community.passcode:
        community.passcode = passcode
        result.join_url_changed = True
    items = [item for item in meeting.get("occurrences") or [] if isinstance(item, Mapping)]
    pairs, result.linked = occurrences.pair(session, community, items)
    for occurrence in _vanished(session, community, items, pairs, now):
        result.cancelled += occurrences.cancel(occurrence, now)
    result.moved, cancelled = occurrences.apply(pairs, now)
    result.cancelled += cancelled
    community.zoom_synced_at = now
    return result


def _passcode(meeting: Mapping[str, Any]) -> str | None:
    """The meeting passcode Zoom reports (`password`), shown to members beside the link; None if none."""
    value = str(meeting.get("password") or "").strip()
    return value[:10] or None


def _vanished(
    session: Session,
    community: Community,
    items: list[Mapping[str, Any]],
    pairs: list[tuple[Occurrence, Mapping[str, Any]]],
    now: datetime,
) -> list[Occurrence]:
    """Future rows Zoom knew (they carry its occurrence id) that its list no longer holds, although the list
    spans their date: deleted in Zoom. Zoom lists only upcoming occurrences, so past ones are never judged."""
    listed = [start for start in (zoom_occurrences.original_start(item) for item in items) if start is not None]
    if not listed:
        return []
    seen = {row.id for row, _ in pairs}
    first, last = min(listed), max(listed)
    return list(
        session.scalars(
            select(Occurrence).where(
                Occurrence.community_id == community.id,
                Occurrence.status == "scheduled",
                Occurrence.zoom_occurrence_id.is_not(None),
                Occurrence.start > now,
                Occurrence.original_start >= first,
                Occurrence.original_start <= last,
                Occurrence.id.not_in(seen) if seen else Occurrence.id.is_not(None),
            )
        )
    )
