"""Pure: Zoom's times, read one way everywhere (events, report rows, REST answers, occurrence items), and
times written for people, one way everywhere (mail, the member's page, certificates).

Zoom writes ISO 8601 in UTC ("2026-10-13T22:30:10Z"); zoombot keeps aware UTC datetimes and converts to a
community's zone only for people.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


def parse_time(value: Any) -> datetime | None:
    """Zoom's ISO 8601 times ("2026-10-13T22:30:10Z") -> aware UTC; anything else -> None."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11+ reads the trailing "Z"
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def when(moment: datetime, tz: str) -> str:
    """'Tuesday, October 13, 2026 at 6:30 PM EDT' in the community's zone."""
    local = _local(moment, tz)
    return (
        f"{local:%A, %B} {local.day}, {local.year} at {local.hour % 12 or 12}:{local:%M} "
        f"{'AM' if local.hour < 12 else 'PM'} {local.tzname()}"
    )


def clock_time(moment: datetime, tz: str) -> str:
    local = _local(moment, tz)
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'} {local.tzname()}"


def duration(seconds: int) -> str:
    """3725 -> '1 h 02 min'; 900 -> '15 min'."""
    minutes = int(seconds) // 60
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
