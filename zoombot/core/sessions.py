"""Pure: which session a Zoom meeting instance belongs to.

A session is one occurrence of a community: every Zoom instance (meeting UUID) of the community's meeting
id whose time falls in the occurrence's window belongs to it, so a host who ends the meeting by mistake and
starts it again (same meeting id, new UUID) still makes one session, credited once. The window is the
occurrence from `grace` before its start to `grace` after its end (`[schedule] session_grace_minutes`).

A session is named by its community (or, for a meeting id no community holds, its Zoom meeting id) and its
local date: the date of the occurrence the instance matched, else the instance's own local date. The name
does not depend on whether an occurrence was planned (occurrences are planned ahead, but a backfilled or
demo meeting may have none), so a rebuild names every session as live processing did. One limit follows:
two occurrences of one community on the same local day are one session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Planned:
    """An occurrence as the rule needs it."""

    id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Placement:
    key: str
    local_date: date
    occurrence_id: int | None


def matching_occurrence(anchor: datetime, occurrences: Iterable[Planned], grace: timedelta) -> Planned | None:
    """The occurrence whose window holds `anchor` (the nearest by start when windows overlap), or None."""
    inside = [o for o in occurrences if o.start - grace <= anchor <= o.end + grace]
    return min(inside, key=lambda o: (abs((o.start - anchor).total_seconds()), o.id), default=None)


def place(
    anchor: datetime,
    *,
    zoom_meeting_id: str,
    community_id: int | None,
    timezone: str,
    occurrences: Iterable[Planned] = (),
    grace: timedelta = timedelta(hours=2),
) -> Placement:
    """The session of an instance that started (or was first seen) at `anchor`.

    `timezone`: the community's zone, else the installation's (`[schedule] timezone`); `occurrences`: the
    community's (ignored without a community)."""
    zone = ZoneInfo(timezone)
    occurrence = matching_occurrence(anchor, occurrences, grace) if community_id is not None else None
    day = (occurrence.start if occurrence else anchor).astimezone(zone).date()
    owner = f"c{community_id}" if community_id is not None else f"z{zoom_meeting_id}"
    return Placement(f"{owner}:{day.isoformat()}", day, occurrence.id if occurrence else None)
