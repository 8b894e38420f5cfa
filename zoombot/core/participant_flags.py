"""Pure: what a reviewer should notice about one participant of one session.

Flags are hints for the reviewer, not decisions: nothing here changes hours. Late join and early leave
use a 10-minute grace against the session's live time (its first start, its last end); "incomplete" means
Zoom told us the person was there but no presence interval could be built (a leave whose join never
arrived), which the Report API reconciliation usually fills in. "2 devices" means two devices present at
the same moment; a drop and a rejoin, from the same device or another, is "rejoined".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    tone: str = "info"  # info | warn | bad: how loudly the page shows it


def participant_flags(
    *,
    matched: bool,
    attended_seconds: int,
    devices: int,
    is_host: bool,
    incomplete: bool,
    intervals: Sequence[tuple[datetime, datetime, str]],
    live_start: datetime | None,
    live_end: datetime | None,
    minimum_seconds: int,
    rejoins: int = 0,
    bound_by_zoom: bool = False,
) -> list[Flag]:
    out: list[Flag] = []
    if not matched:
        out.append(Flag("unmatched", "unmatched", "bad"))
    if incomplete:
        out.append(Flag("incomplete", "incomplete", "warn"))
    if intervals and attended_seconds < minimum_seconds:
        out.append(Flag("below_minimum", "below minimum", "warn"))
    if devices > 1:
        out.append(Flag("devices", f"{devices} devices", "info"))
    if rejoins:
        out.append(Flag("rejoined", "rejoined" if rejoins == 1 else f"rejoined {rejoins} times", "info"))
    if bound_by_zoom:
        out.append(Flag("bound", "phone bound by Zoom", "info"))
    if intervals and live_start is not None and intervals[0][0] > live_start + GRACE:
        out.append(Flag("late_join", "late join", "warn"))
    if intervals and live_end is not None and max(b for _, b, _ in intervals) < live_end - GRACE:
        out.append(Flag("early_leave", "early leave", "warn"))
    if is_host:
        out.append(Flag("host", "host", "info"))
    if any(source == "report" for _, _, source in intervals):
        out.append(Flag("report", "from report", "info"))
    return out
