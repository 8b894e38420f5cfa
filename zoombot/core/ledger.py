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
_STATUS = re.compile(r"\bno_credit\b")  # the one line status stored with an underscore

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


def clock(seconds: int | None) -> str:
    """7440 -> '2:04' (hours:minutes, seconds dropped), the way staff read attended time."""
    seconds = int(seconds or 0)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


def words(name: str) -> str:
    """A stored name (a line status, a reason kind) as people read it: 'no_credit' -> 'no credit'."""
    return name.replace("_", " ")


def humanize(text: str | None, tz: str) -> str:
    """Stored audit text with UTC instants in `tz` ("2026-10-13 19:00 EDT"), seconds as h:mm and line
    statuses in words."""
    if not text:
        return ""
    zone = ZoneInfo(tz)

    def instant(match: re.Match[str]) -> str:
        offset = "+00:00" if match.group(3) == "Z" else match.group(3)
        when = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}{offset}").astimezone(zone)
        return f"{when:%Y-%m-%d %H:%M} {when.tzname()}"

    text = _STATUS.sub(lambda m: words(m.group(0)), _INSTANT.sub(instant, text))
    return _SECONDS.sub(lambda m: f"{clock(int(m.group(1)))} h:mm", text)


def action_text(action: str) -> str:
    return ACTIONS.get(action, words(action))
