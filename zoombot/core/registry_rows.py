"""Pure: what a registry submission says about one credit line, and why a line is held back.

A line becomes one row per kind of hours it carries (growth, training), in the columns of the registry
profile (`[registry] columns`, any of `config.SUBMISSION_COLUMNS`). A growth row is titled and coded as its
community is (the community's registry title, category and approval code); a training row as the training
segments it was credited for (several segments: their values joined with "; "). The trainer is the
segment's own trainer where one was given, else the community's facilitator. A growth row's times are the
session's; a training row's are its segments' (the first one's start to the last one's end), so the hours
it credits fit the time it names.

A correction (a change to a line already submitted, which the registry treats as final) is sent as a
replacement: its rows carry the corrected hours and `corrects_record_id`, the id of the line it replaces.
It has a row for every kind either it or the replaced line carries, so a kind that drops to zero is sent as
0 hours rather than left standing.

`problems` says why a line cannot go (no matched member, no registry id, an id that does not look like the
registry's, flagged, a required column left empty...): such a line is held back with its reasons and tried
again in the next batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from zoombot.core.ledger import words

if TYPE_CHECKING:  # the settings' shape only: the core reads no configuration itself
    from zoombot.config import RegistrySettings

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Segment:
    """A training segment as credited on the line, with what the registry needs to know."""

    title: str
    category: str
    approval_code: str
    trainer_name: str = ""
    trainer_registry_id: str = ""
    start: datetime | None = None  # None: the segment is gone (deleted since): the session's times stand
    end: datetime | None = None


@dataclass(frozen=True)
class LineFacts:
    line_id: int
    status: str
    flagged: bool
    flag_reason: str | None
    member_name: str | None  # None: no matched member
    registry_id: str | None
    growth: Decimal
    training: Decimal
    session_id: int
    local_date: date
    timezone: str
    start: datetime | None  # scheduled start (UTC), else when it started
    end: datetime | None
    community: str
    title: str  # the community's registry title, else the community's name
    category: str
    approval_code: str
    trainer_name: str
    trainer_registry_id: str
    segments: tuple[Segment, ...] = ()
    approver: str | None = None
    approved_at: datetime | None = None
    corrects_id: int | None = None
    corrected_growth: Decimal = ZERO  # the replaced line's hours (corrections only)
    corrected_training: Decimal = ZERO
    override_reason: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def registry_id_ok(pattern: str, value: str | None) -> bool:
    """An id matches the registry's pattern as a whole (an empty pattern takes any id)."""
    if not value:
        return False
    return not pattern or re.fullmatch(pattern, value) is not None


def _local(value: datetime | None, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if value else ""


def _kinds(line: LineFacts) -> list[str]:
    if line.corrects_id is not None:
        kinds = ["growth"]
        if line.training > 0 or line.corrected_training > 0:
            kinds.append("training")
        return kinds
    return [kind for kind, hours in (("growth", line.growth), ("training", line.training)) if hours > 0]


def _joined(values: Iterable[str]) -> str:
    return "; ".join(dict.fromkeys(v for v in values if v))


def rows(line: LineFacts, profile: RegistrySettings) -> list[dict[str, str]]:
    """The line's submission rows, every known column filled (the file keeps `profile.columns`)."""
    out = []
    for kind in _kinds(line):
        start, end = line.start, line.end
        if kind == "training" and line.segments:
            times = [(s.start, s.end) for s in line.segments if s.start and s.end]
            if len(times) == len(line.segments):  # every segment still known: else the session's times stand
                start, end = min(a for a, _ in times), max(b for _, b in times)
            title = _joined(s.title for s in line.segments)
            category = _joined(s.category for s in line.segments)
            code = _joined(s.approval_code for s in line.segments)
            trainer = _joined(s.trainer_name or line.trainer_name for s in line.segments)
            trainer_id = _joined(s.trainer_registry_id or line.trainer_registry_id for s in line.segments)
        else:
            title, category, code = line.title, line.category, line.approval_code
            trainer, trainer_id = line.trainer_name, line.trainer_registry_id
        hours = line.growth if kind == "growth" else line.training
        out.append(
            {
                "record_id": str(line.line_id),
                "corrects_record_id": str(line.corrects_id) if line.corrects_id is not None else "",
                "registry_id": line.registry_id or "",
                "participant_name": line.member_name or "",
                "session_date": line.local_date.isoformat(),
                "start_local": _local(start, line.timezone),
                "end_local": _local(end, line.timezone),
                "title": title,
                "category": category,
                "approval_code": code,
                "kind": kind,
                "hours": f"{Decimal(hours):.2f}",
                "trainer_name": trainer,
                "trainer_registry_id": trainer_id,
                "sponsor": line.extra.get("sponsor", ""),
                "delivery_format": line.extra.get("delivery_format", ""),
                "approver": line.approver or "",
                "approval_date": _local(line.approved_at, line.timezone)[:10],
                "community": line.community,
                "session_id": str(line.session_id),
                "override_reason": line.override_reason or "",
            }
        )
    return out


def problems(line: LineFacts, line_rows: list[dict[str, str]], profile: RegistrySettings) -> list[str]:
    """Why the line cannot go to the registry now (empty: it can)."""
    found = []
    if line.status != "approved":
        found.append(f"not approved ({words(line.status)})")
    if line.flagged:
        found.append(f"flagged: {line.flag_reason}" if line.flag_reason else "flagged")
    if line.member_name is None:
        found.append("no matched member")
    elif not line.registry_id:
        found.append("no registry id")
    elif not registry_id_ok(profile.registry_id_pattern, line.registry_id):
        found.append(
            f"registry id {line.registry_id} does not look like the registry's ({profile.registry_id_pattern})"
        )
    if not line_rows:
        found.append("no hours to submit")
    own = (line.registry_id or "").strip().casefold()
    for row in line_rows:
        trainers = {t.strip().casefold() for t in row.get("trainer_registry_id", "").split(";")}
        if row["kind"] == "training" and own and own in trainers and Decimal(row["hours"]) > 0:
            found.append(
                f"{line.registry_id} is this training's own trainer: no training hours for training one gives "
                "(adjust them to growth hours, or to none)"
            )
    for column in profile.required_columns:
        if column == "registry_id":
            continue  # said above, in words
        empty = [row["kind"] for row in line_rows if not row.get(column)]
        if empty:
            found.append(f"no {words(column)} ({' and '.join(empty)} row)")
    return found


def scheduled_end(start: datetime | None, minutes: int | None, ended: datetime | None) -> datetime | None:
    """A session's end as the registry wants it: the scheduled end, else when it ended."""
    if start is not None and minutes:
        return start + timedelta(minutes=minutes)
    return ended
