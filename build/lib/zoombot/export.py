"""Hours records as a flat table for the licensing registry: rows, CSV, JSON, and marking them exported.

`export_rows` is one joined query over columns (no per-record ORM loads) so tens of thousands of records
export in well under a second. A record's `session_date` is the local date (community's zone, else
`[schedule] timezone`) of its meeting's start; it is computed once per meeting, and the date filters
choose meetings first so the record query stays a plain join.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, cast, func, select, update
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.models import Community, HoursRecord, Meeting, Member, Participant
from zoombot.records import audit

#: The contract's columns, in this order, then the extras.
COLUMNS = ("record_id", "community", "meeting_id", "meeting_uuid", "session_date", "participant_name",
           "participant_email", "registry_id", "matched", "attended_seconds", "hours", "kind", "status")
EXTRA_COLUMNS = ("community_region", "member_id", "proposed_hours", "flagged", "session_start", "exported_at")
ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS
STATUSES = ("pending", "approved", "rejected")
# A cell a spreadsheet would run as a formula (a participant can pick any display name in Zoom).
_FORMULA_START = "=+-@\t\r"


def _sessions(session: Session, settings: Settings, community_ids: Sequence[int] | None
              ) -> dict[int, tuple[date | None, str | None]]:
    """meeting id -> (local date, ISO start) for meetings that have hours records."""
    default_zone = settings.schedule.timezone
    zones: dict[str, ZoneInfo] = {}
    statement = (select(Meeting.id, func.coalesce(Meeting.started_at, Meeting.scheduled_start), Community.timezone)
                 .outerjoin(Community, Community.id == Meeting.community_id)
                 .where(Meeting.id.in_(select(HoursRecord.meeting_id).distinct())))
    if community_ids is not None:
        statement = statement.where(Meeting.community_id.in_(list(community_ids)))
    out: dict[int, tuple[date | None, str | None]] = {}
    for meeting_id, start, tz_name in session.execute(statement):
        name = tz_name or default_zone
        zone = zones.setdefault(name, ZoneInfo(name))
        out[meeting_id] = (start.astimezone(zone).date(), _iso(start)) if start else (None, None)
    return out


def export_rows(session: Session, *, status: str | None = None, date_from: date | None = None,
                date_to: date | None = None, community_ids: Sequence[int] | None = None,
                settings: Settings) -> list[dict[str, Any]]:
    """Records as JSON-ready dicts (keys: ALL_COLUMNS, in order), oldest session first, then community,
    participant name and kind.

    `date_from`/`date_to` filter `session_date` inclusively; `community_ids` limits to those communities
    (a facilitator's view); `status` to one review status.
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    sessions = _sessions(session, settings, community_ids)
    wanted = [mid for mid, (day, _) in sessions.items()
              if (date_from is None or (day is not None and day >= date_from))
              and (date_to is None or (day is not None and day <= date_to))]
    if not wanted:
        return []
    days = {mid: (day.isoformat() if day else None, start) for mid, (day, start) in sessions.items()}
    statement = (
        select(HoursRecord.id, HoursRecord.meeting_id, HoursRecord.member_id, HoursRecord.attended_seconds,
               cast(HoursRecord.hours, Float), cast(HoursRecord.proposed_hours, Float),
               HoursRecord.kind, HoursRecord.status, HoursRecord.flagged, HoursRecord.exported_at,
               Meeting.zoom_meeting_id, Meeting.uuid, Community.name, Community.region, Member.name, Member.email,
               Member.registry_id, Participant.name, Participant.email)
        .join(Meeting, Meeting.id == HoursRecord.meeting_id)
        .outerjoin(Community, Community.id == Meeting.community_id)
        .outerjoin(Member, Member.id == HoursRecord.member_id)
        .outerjoin(Participant, and_(Participant.meeting_id == HoursRecord.meeting_id,
                                     Participant.identity_key == HoursRecord.participant_key))
    )
    if len(wanted) < len(sessions) or community_ids is not None:
        statement = statement.where(HoursRecord.meeting_id.in_(wanted))
    if status is not None:
        statement = statement.where(HoursRecord.status == status)
    rows = []
    append = rows.append
    # Core execution on the session's connection: plain tuples, no ORM row machinery.
    for (record_id, meeting_id, member_id, seconds, hours, proposed, kind, record_status, flagged, exported_at,
         zoom_id, uuid, community, region, member_name, member_email, registry_id, p_name, p_email
         ) in session.connection().execute(statement).all():
        day, start = days[meeting_id]
        if member_id is None:
            name, email, registry_id, matched = p_name or "", p_email or None, None, False
        else:
            name, email, matched = member_name or "", member_email or None, True
        append({
            "record_id": record_id, "community": community, "meeting_id": zoom_id, "meeting_uuid": uuid,
            "session_date": day, "participant_name": name, "participant_email": email, "registry_id": registry_id,
            "matched": matched, "attended_seconds": seconds, "hours": float(hours), "kind": kind,
            "status": record_status, "community_region": region or None, "member_id": member_id,
            "proposed_hours": float(proposed), "flagged": bool(flagged), "session_start": start,
            "exported_at": _iso(exported_at) if exported_at else None,
        })
    rows.sort(key=lambda r: (r["session_start"] or "", r["community"] or "", r["participant_name"].casefold(),
                             r["kind"], r["record_id"]))
    return rows


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _text(value: str | None) -> str | None:
    """Text a person typed (a Zoom display name, a community), made safe to open in a spreadsheet."""
    return "'" + value if value and value[0] in _FORMULA_START else value


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """A header row and one line per record (rows as `export_rows` makes them): booleans true/false, empty
    for null, hours with 2 decimals, and a leading apostrophe on names, e-mails, registry ids, community and
    region text that a spreadsheet would run as a formula (anyone can pick their display name in Zoom)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ALL_COLUMNS)
    flag = {True: "true", False: "false"}
    writer.writerows(
        (r["record_id"], _text(r["community"]), r["meeting_id"], r["meeting_uuid"], r["session_date"],
         _text(r["participant_name"]), _text(r["participant_email"]), _text(r["registry_id"]), flag[r["matched"]],
         r["attended_seconds"], f"{r['hours']:.2f}", r["kind"], r["status"], _text(r["community_region"]),
         r["member_id"], f"{r['proposed_hours']:.2f}", flag[r["flagged"]], r["session_start"], r["exported_at"])
        for r in rows)
    return out.getvalue()


def to_json(rows: Iterable[dict[str, Any]]) -> str:
    """A JSON list, one record per line (rows as `export_rows` makes them)."""
    lines = [json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) for row in rows]
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def _ranges(ids: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3,7": an audit line that stays short for thousands of records."""
    parts, start, prev = [], None, None
    for value in ids + [None]:
        if start is not None and (value is None or value != prev + 1):
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if value is not None and start is None:
            start = value
        prev = value
    return ",".join(parts)


def mark_exported(session: Session, record_ids: Iterable[int], *, actor: str, now: datetime) -> int:
    """Stamp `exported_at` on these records and keep one audit entry naming them; returns how many."""
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return 0
    count = 0
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start:chunk_start + 5000]
        count += session.execute(update(HoursRecord).where(HoursRecord.id.in_(chunk)).values(exported_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
    audit(session, actor=actor, entity="hours_record", entity_id=ids[0] if len(ids) == 1 else None,
          action="exported", to_value=f"{count} records", reason=f"records {_ranges(ids)}", at=now)
    return count
