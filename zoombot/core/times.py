"""Pure: Zoom's times, read one way everywhere (events, report rows, REST answers, occurrence items).

Zoom writes ISO 8601 in UTC ("2026-10-13T22:30:10Z"); zoombot keeps aware UTC datetimes and converts to a
community's zone only for people.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """Zoom's ISO 8601 times ("2026-10-13T22:30:10Z") -> aware UTC; anything else -> None."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11+ reads the trailing "Z"
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed if parsed.tzinfo is timezone.utc else parsed.astimezone(timezone.utc)
