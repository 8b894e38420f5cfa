"""Pure: what Zoom says about one occurrence of a recurring meeting, read the one way zoombot reads it.

Zoom names an occurrence by `occurrence_id`, its original start in epoch milliseconds (it stays put when the
occurrence is moved, like zoombot's `original_start`), and tells its current `start_time`, `duration` and
`status` ("deleted" once removed in Zoom). The same reading serves the meeting.updated / meeting.deleted
webhooks and `zoombot zoom sync`, so both move and cancel exactly alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zoombot.core.digits import is_digits
from zoombot.core.times import parse_time

#: Latest original start an occurrence id may name (year 9999): anything larger is not Zoom's.
_LATEST_MS = 253_402_300_799_000


def original_start(item: Mapping[str, Any]) -> datetime | None:
    """The occurrence's original start from its `occurrence_id`; None for anything that is not one (not
    digits, negative, or past any real date)."""
    raw = str(item.get("occurrence_id") or "").strip()
    if not is_digits(raw) or len(raw) > 16 or int(raw) > _LATEST_MS:
        return None
    return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)


def is_deleted(item: Mapping[str, Any]) -> bool:
    return str(item.get("status") or "available").strip().lower() == "deleted"


@dataclass(frozen=True)
class Change:
    """What an occurrence row should become: `cancel`, or a `move` to (start, end); both None: unchanged."""

    cancel: bool = False
    move: tuple[datetime, datetime] | None = None


def change(item: Mapping[str, Any], *, start: datetime, end: datetime, cancelled: bool) -> Change:
    """How Zoom's `item` changes an occurrence now at `start`-`end`. A cancelled occurrence stays cancelled
    (Zoom cannot undelete one); a missing or unreadable duration keeps the occurrence's own length."""
    if cancelled:
        return Change()
    if is_deleted(item):
        return Change(cancel=True)
    new_start = parse_time(item.get("start_time"))
    if new_start is None:
        return Change()
    minutes = str(item.get("duration"))  # read as is_digits reads it
    length = timedelta(minutes=int(minutes)) if is_digits(minutes) and int(minutes) > 0 else end - start
    if (new_start, new_start + length) == (start, end):
        return Change()
    return Change(move=(new_start, new_start + length))
