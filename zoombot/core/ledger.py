"""Pure: audit entries as a ledger reads, for people: local times, h:mm and hours, names instead of ids.

Entries are stored as they were written (never rewritten); older ones hold raw UTC instants
("2026-10-13T23:00:00+00:00") and seconds ("7200 s"). `humanize` shows them in the community's time zone
and as h:mm at display time, so the whole trail reads the same way.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

_INSTANT = re.compile(r"\b(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)")
_SECONDS = re.compile(r"\b(\d+) ?s\b")

ACTIONS = {  # stored action -> how the ledger says it
    "created": "line created",
    "recomputed": "line recomputed",
    "reopened": "line reopened",
    "removed": "line removed",
    "approved": "approved",
    "adjusted": "hours adjusted",
    "rejected": "rejected",
    "exported": "exported",
    "submitted": "submitted to the registry",
    "corrected": "correction created",
    "noted": "note added",
    "matched": "participant matched",
    "unmatched": "match undone",
    "merged": "participants merged",
    "unmerged": "merge undone",
    "unbound": "Zoom's bind undone",
    "rebound": "Zoom's bind restored",
    "segment_added": "training marked",
    "segment_changed": "training changed",
    "segment_removed": "training cleared",
    "redacted": "personal data stripped",
}


def clock(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


def humanize(text: str | None, tz: str) -> str:
    """Stored audit text with UTC instants in `tz` ("2026-10-13 19:00 EDT") and seconds as h:mm."""
    if not text:
        return ""
    zone = ZoneInfo(tz)

    def instant(match: re.Match[str]) -> str:
        offset = "+00:00" if match.group(3) == "Z" else match.group(3)
        when = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}{offset}").astimezone(zone)
        return f"{when:%Y-%m-%d %H:%M} {when.tzname()}"

    text = _INSTANT.sub(instant, text)
    return _SECONDS.sub(lambda m: f"{clock(int(m.group(1)))} h:mm", text)


def action_text(action: str) -> str:
    return ACTIONS.get(action, action.replace("_", " "))
