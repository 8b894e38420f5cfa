"""Credit lines as a flat table for the licensing registry: rows, CSV, JSON, and marking them exported.

One row per line and kind (growth, and training when the session has training segments), so a row's
`hours` is what the registry takes for that kind; both rows of a line carry its id (`record_id`) and
`session_id`. `attended_seconds` is the time behind the row: the line's time inside training segments for
the training row, the rest for the growth row (the two add up to the person's session total).
`export_rows` is one joined query over columns (no per-line ORM loads) so tens of thousands of lines export
in well under a second. `session_date` is the session's local date (the community's zone).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, Float, String, and_, cast, func, select, type_coerce, update
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core.spreadsheet import safe_cell
from zoombot.store.audit import audit
from zoombot.store.credit_lines import superseded
from zoombot.store.db import rows_changed
from zoombot.store.models import Community, CreditLine, CreditSession, Meeting, Member, Participant

#: The contract's columns, in this order, then the extras.
COLUMNS = (
    "record_id",
    "community",
    "meeting_id",
    "meeting_uuid",
    "session_date",
    "participant_name",
    "participant_email",
    "registry_id",
    "matched",
    "attended_seconds",
    "hours",
    "kind",
    "status",
)
EXTRA_COLUMNS = (
    "session_id",
    "community_region",
    "member_id",
    "proposed_hours",
    "flagged",
    "session_start",
    "exported_at",
    "meeting_uuids",
    "training_titles",
    "training_categories",
    "approval_codes",
    "override_reason",
    "no_credit_reason",
)
ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS
STATUSES = ("pending", "approved", "rejected", "no_credit")


def _instances(session: Session, session_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each session's instance uuids, in the order they started."""
    out: dict[int, list[str]] = {}
    rows = session.execute(
        select(Meeting.session_id, Meeting.uuid)
        .where(Meeting.session_id.in_(session_ids))
        .order_by(Meeting.session_id, func.coalesce(Meeting.started_at, Meeting.scheduled_start), Meeting.id)
    )
    for sid, uuid in rows:
        assert sid is not None  # the query keeps the instances of these sessions
        out.setdefault(sid, []).append(uuid)
    return out


def _segment_fields(segments: list[dict[str, Any]]) -> tuple[str, str, str]:
    """The training row's titles, categories and approval codes, one per credited segment."""
    credited = [s for s in segments if s.get("credited_seconds")]

    def joined(field: str) -> str:
        return "; ".join(str(s.get(field) or "") for s in credited)

    return joined("title"), joined("category"), joined("approval_code")


def export_rows(
    session: Session,
    *,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    community_ids: Sequence[int] | None = None,
    settings: Settings,
) -> list[dict[str, Any]]:
    """Lines as JSON-ready dicts (keys: ALL_COLUMNS, in order), oldest session first, then community,
    participant name and kind.

    `date_from`/`date_to` filter `session_date` inclusively; `community_ids` limits to those communities
    (a facilitator's view); `status` to one review status.
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    statement = (
        select(
            CreditLine.id,
            CreditLine.session_id,
            CreditLine.member_id,
            CreditLine.attended_seconds,
            CreditLine.training_attended_seconds,
            cast(CreditLine.growth_hours, Float),
            cast(CreditLine.training_hours, Float),
            cast(CreditLine.proposed_growth_hours, Float),
            cast(CreditLine.proposed_training_hours, Float),
            cast(CreditLine.segments, String),
            CreditLine.status,
            CreditLine.flagged,
            type_coerce(CreditLine.exported_at, _STORED_INSTANT),
            CreditLine.override_reason,
            CreditLine.no_credit_reason,
            CreditSession.zoom_meeting_id,
            CreditSession.local_date,
            type_coerce(func.coalesce(CreditSession.started_at, CreditSession.scheduled_start), _STORED_INSTANT),
            Community.name,
            Community.region,
            Member.name,
            Member.email,
            Member.registry_id,
            Participant.name,
            Participant.email,
        )
        .join(CreditSession, CreditSession.id == CreditLine.session_id)
        .outerjoin(Community, Community.id == CreditSession.community_id)
        .outerjoin(Member, Member.id == CreditLine.member_id)
        .outerjoin(
            Participant,
            and_(
                Participant.session_id == CreditLine.session_id, Participant.identity_key == CreditLine.participant_key
            ),
        )
    )
    if community_ids is not None:
        statement = statement.where(CreditSession.community_id.in_(list(community_ids)))
    if date_from is not None:
        statement = statement.where(CreditSession.local_date >= date_from)
    if date_to is not None:
        statement = statement.where(CreditSession.local_date <= date_to)
    if status is not None:
        statement = statement.where(CreditLine.status == status)
    found = session.connection().execute(statement).all()  # Core: plain tuples, no ORM row machinery
    chosen_sessions = {row[1] for row in found}
    uuids = _instances(session, sorted(chosen_sessions))
    # a line an approved correction replaces is history, not credit (as on the member pages and the grid):
    # listing both would count the member's hours twice; the registry batches keep both, with the reference
    corrected = set(session.scalars(select(CreditLine.session_id).where(CreditLine.revision > 0).distinct()))
    replaced = superseded(session, sorted(corrected & chosen_sessions)) if corrected & chosen_sessions else set()
    if replaced:
        found = [row for row in found if row[0] not in replaced]
    rows: list[tuple] = []
    append = rows.append
    per_session: dict[int, tuple[str | None, str, str | None, str | None]] = {}
    for (
        line_id,
        session_id,
        member_id,
        seconds,
        training_seconds,
        growth,
        training,
        proposed_growth,
        proposed_training,
        segments,
        line_status,
        flagged,
        exported_at,
        override,
        no_credit,
        zoom_id,
        day,
        start,
        community,
        region,
        member_name,
        member_email,
        registry_id,
        p_name,
        p_email,
    ) in found:
        if member_id is None:
            name, email, registry_id, matched = p_name or "", p_email or None, None, False
        else:
            name, email, matched = member_name or "", member_email or None, True
        facts = per_session.get(session_id)
        if facts is None:  # the same for every line of the session: computed once
            instances = uuids.get(session_id, ())
            facts = per_session[session_id] = (
                instances[0] if instances else None,
                " ".join(instances),
                _iso(start),
                _day(day),
            )
        first, every, when, day = facts
        region, flagged, exported = region or None, bool(flagged), _iso(exported_at) if exported_at else None
        # in ALL_COLUMNS order, the sort key first (session start, community, name, line, kind)
        append(
            (
                when or "",
                community or "",
                name.casefold(),
                line_id,
                "growth",
                line_id,
                community,
                zoom_id,
                first,
                day,
                name,
                email,
                registry_id,
                matched,
                seconds - training_seconds,
                growth,
                "growth",
                line_status,
                session_id,
                region,
                member_id,
                proposed_growth,
                flagged,
                when,
                exported,
                every,
                "",
                "",
                "",
                override,
                no_credit,
            )
        )
        if segments and segments != "[]":  # the session has training segments: a training row too
            titles, categories, codes = _segment_fields(json.loads(segments))
            append(
                (
                    when or "",
                    community or "",
                    name.casefold(),
                    line_id,
                    "training",
                    line_id,
                    community,
                    zoom_id,
                    first,
                    day,
                    name,
                    email,
                    registry_id,
                    matched,
                    training_seconds,
                    training,
                    "training",
                    line_status,
                    session_id,
                    region,
                    member_id,
                    proposed_training,
                    flagged,
                    when,
                    exported,
                    every,
                    titles,
                    categories,
                    codes,
                    override,
                    no_credit,
                )
            )
    rows.sort(key=lambda row: row[:5])
    return [dict(zip(ALL_COLUMNS, row[5:], strict=True)) for row in rows]


def _day(value: date | str | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


# Instants read as the driver gives them, without UTCDateTime's conversion per value (120 000 of them in a
# 60 000-line export): naive UTC from SQLite, aware (in the connection's zone) from PostgreSQL; _iso writes
# either as UTC.
_STORED_INSTANT = DateTime(timezone=True)


def _iso(value: datetime | None) -> str | None:
    """An instant as RFC 3339 UTC text ("2026-10-13T22:30:00Z"); a naive one is UTC as stored."""
    if not value:
        return None
    if value.tzinfo is None:
        return value.isoformat() + "Z"
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


_text = safe_cell  # text a person typed (a Zoom display name, a community), safe to open in a spreadsheet


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """A header row and one line per record (rows as `export_rows` makes them): booleans true/false, empty
    for null, hours with 2 decimals, and a leading apostrophe on names, e-mails, registry ids, community and
    region text that a spreadsheet would run as a formula (anyone can pick their display name in Zoom)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ALL_COLUMNS)
    flag = {True: "true", False: "false"}
    writer.writerows(
        (
            r["record_id"],
            _text(r["community"]),
            r["meeting_id"],
            r["meeting_uuid"],
            r["session_date"],
            _text(r["participant_name"]),
            _text(r["participant_email"]),
            _text(r["registry_id"]),
            flag[r["matched"]],
            r["attended_seconds"],
            f"{r['hours']:.2f}",
            r["kind"],
            r["status"],
            r["session_id"],
            _text(r["community_region"]),
            r["member_id"],
            f"{r['proposed_hours']:.2f}",
            flag[r["flagged"]],
            r["session_start"],
            r["exported_at"],
            r["meeting_uuids"],
            _text(r["training_titles"]),
            _text(r["training_categories"]),
            _text(r["approval_codes"]),
            _text(r["override_reason"]),
            _text(r["no_credit_reason"]),
        )
        for r in rows
    )
    return out.getvalue()


def to_json(rows: Iterable[dict[str, Any]]) -> str:
    """A JSON list, one record per line (rows as `export_rows` makes them)."""
    lines = [json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) for row in rows]
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def _ranges(ids: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3,7": an audit line that stays short for thousands of records."""
    runs: list[tuple[int, int]] = []  # (first, last) of each run of consecutive ids
    for value in ids:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


def mark_exported(session: Session, record_ids: Iterable[int], *, actor: str, now: datetime) -> int:
    """Stamp `exported_at` on these lines and keep one audit entry naming them; returns how many."""
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return 0
    count = 0
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start : chunk_start + 5000]
        count += rows_changed(
            session,
            update(CreditLine)
            .where(CreditLine.id.in_(chunk))
            .values(exported_at=now)
            .execution_options(synchronize_session=False),
        )
    audit(
        session,
        actor=actor,
        entity="credit_line",
        entity_id=ids[0] if len(ids) == 1 else None,
        action="exported",
        to_value=f"{count} line{'' if count == 1 else 's'}",
        reason=f"lines {_ranges(ids)}",
        at=now,
    )
    return count
