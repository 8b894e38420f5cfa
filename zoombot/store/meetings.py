"""Meeting instances, the sessions they make up, and their derived attendance, in the database.

The thin shell around `zoombot.core.sessions` (which session an instance belongs to) and
`zoombot.core.attendance` (who was there): load a session's stored events, compute, rewrite the derived
`participants` rows, and bring the session's credit lines in step (`zoombot.store.credit_lines`). Staff
decisions (merges, undone binds, remembered matches, training segments) are read, never rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import attendance, recompute, sessions
from zoombot.core.attendance import Attendance
from zoombot.core.digits import is_digits
from zoombot.core.matching import match_member
from zoombot.core.times import parse_time
from zoombot.store.bulk import insert_rows
from zoombot.store.credit_lines import credit_inputs_of, sync_lines
from zoombot.store.db import dialect_insert, refresh_statistics
from zoombot.store.directory import communities_by_id
from zoombot.store.models import (
    Community,
    CreditSession,
    Meeting,
    Member,
    Occurrence,
    Participant,
    ParticipantAlias,
    ParticipantMerge,
    ZoomEvent,
    table_of,
)

log = logging.getLogger(__name__)


def ensure_meeting(
    session: Session,
    uuid: str,
    zoom_meeting_id: str,
    obj: Mapping[str, Any],
    *,
    settings: Settings,
    is_demo: bool = False,
) -> Meeting:
    """The meeting row for `uuid`, created on first sight (events may arrive before meeting.started)."""
    return ensure_meetings(session, {uuid: (zoom_meeting_id, obj)}, settings=settings, is_demo=is_demo)[uuid]


def ensure_meetings(
    session: Session,
    wanted: Mapping[str, tuple[str, Mapping[str, Any]]],
    *,
    settings: Settings,
    is_demo: bool = False,
    place_new: bool = True,
) -> dict[str, Meeting]:
    """The meeting rows for these uuids ({uuid: (zoom meeting id, the event's meeting object)}), the
    missing ones created and (unless the caller places them itself, as the rebuild does once their events
    are applied) placed in their sessions, in a few statements whatever their number."""
    found = {m.uuid: m for m in session.scalars(select(Meeting).where(Meeting.uuid.in_(list(wanted))))}
    missing = {uuid: spec for uuid, spec in wanted.items() if uuid not in found}
    if missing:
        communities = dict(
            session.execute(
                select(Community.zoom_meeting_id, Community.id).where(
                    Community.zoom_meeting_id.in_({zoom_id for zoom_id, _ in missing.values()})
                )
            ).all()
        )
        rows = [
            _new_meeting(uuid, zoom_id, obj, communities.get(zoom_id), is_demo)
            for uuid, (zoom_id, obj) in missing.items()
        ]
        session.execute(
            dialect_insert(session.get_bind(), Meeting).on_conflict_do_nothing(index_elements=["uuid"]), rows
        )  # a concurrent delivery may have created one: the unique uuid decides
        new = list(session.scalars(select(Meeting).where(Meeting.uuid.in_(list(missing)))))
        found.update((m.uuid, m) for m in new)
        if place_new:
            place(session, [m for m in new if m.session_id is None], settings)
    return found


def _new_meeting(
    uuid: str, zoom_meeting_id: str, obj: Mapping[str, Any], community_id: int | None, is_demo: bool
) -> dict[str, Any]:
    duration = obj.get("duration")
    return {
        "uuid": uuid,
        "zoom_meeting_id": zoom_meeting_id,
        "community_id": community_id,
        "topic": str(obj.get("topic") or "")[:300],
        "status": "scheduled",
        "discrepancies": [],
        "scheduled_start": parse_time(obj.get("start_time")),
        "scheduled_minutes": int(duration) if isinstance(duration, (int, float, str)) and is_digits(duration) else None,
        "is_demo": is_demo,
    }


# --- sessions -----------------------------------------------------------------------------------------------


def _anchor(meeting: Meeting) -> datetime | None:
    """When an instance happened, as the session rule reads it: its start, else its scheduled start."""
    return meeting.started_at or meeting.scheduled_start


def place(session: Session, meetings: Sequence[Meeting], settings: Settings) -> set[int]:
    """Put each meeting into its session (`zoombot.core.sessions`), creating sessions as needed, and bring those
    sessions' summaries in step. Returns the ids of every session touched (old and new)."""
    anchors = {m.id: when for m in meetings if (when := _anchor(m)) is not None}
    anchored = [m for m in meetings if m.id in anchors]
    if not anchored:
        return set()
    with session.no_autoflush:  # the meetings' own changes go with their placement, in one UPDATE each
        community_ids = {m.community_id for m in anchored if m.community_id is not None}
        communities = communities_by_id(session, community_ids)
        grace = timedelta(minutes=settings.schedule.session_grace_minutes)
        planned: dict[int, list[sessions.Planned]] = {cid: [] for cid in community_ids}
        if community_ids:
            lowest = min(anchors.values()) - grace - timedelta(days=1)
            highest = max(anchors.values()) + grace
            for o in session.scalars(
                select(Occurrence).where(
                    Occurrence.community_id.in_(community_ids),
                    Occurrence.status == "scheduled",
                    Occurrence.start <= highest,
                    Occurrence.end >= lowest,
                )
            ):
                planned[o.community_id].append(sessions.Planned(o.id, o.start, o.end))
        placements: dict[int, sessions.Placement] = {}
        for m in anchored:
            community = communities.get(m.community_id) if m.community_id is not None else None
            placements[m.id] = sessions.place(
                anchors[m.id],
                zoom_meeting_id=m.zoom_meeting_id,
                community_id=community.id if community else None,
                timezone=community.timezone if community else settings.schedule.timezone,
                occurrences=planned[community.id] if community else (),
                grace=grace,
            )
        by_key = _ensure_sessions(session, anchored, placements)
    touched = {m.session_id for m in anchored if m.session_id is not None}
    for m in anchored:
        target = by_key[placements[m.id].key]
        if m.occurrence_id is None and placements[m.id].occurrence_id is not None:
            m.occurrence_id = placements[m.id].occurrence_id
        m.session_id = target.id
        touched.add(target.id)
    session.flush()
    summarize(session, touched)
    return touched


def _ensure_sessions(
    session: Session, meetings: Sequence[Meeting], placements: Mapping[int, sessions.Placement]
) -> dict[str, CreditSession]:
    keys = {p.key for p in placements.values()}
    found = {s.key: s for s in session.scalars(select(CreditSession).where(CreditSession.key.in_(keys)))}
    keys_added: set[str] = set()
    rows: list[dict[str, Any]] = []
    for m in meetings:
        p = placements[m.id]
        if p.key in found or p.key in keys_added:
            continue
        keys_added.add(p.key)
        rows.append(
            {
                "key": p.key,
                "community_id": m.community_id,
                "occurrence_id": p.occurrence_id,
                "zoom_meeting_id": m.zoom_meeting_id,
                "local_date": p.local_date,
                "topic": m.topic,
                "status": "scheduled",
                "needs_review": False,
                "is_demo": m.is_demo,
            }
        )
    if rows:
        session.execute(
            dialect_insert(session.get_bind(), CreditSession).on_conflict_do_nothing(index_elements=["key"]), rows
        )
        found.update(
            (s.key, s)
            for s in session.scalars(select(CreditSession).where(CreditSession.key.in_([r["key"] for r in rows])))
        )
    return found


def summarize(session: Session, session_ids: Iterable[int]) -> None:
    """A session's times, status and schedule from its instances (and its occurrence, when it has one)."""
    ids = [i for i in set(session_ids) if i is not None]
    if not ids:
        return
    instances: dict[int, list[Meeting]] = {i: [] for i in ids}
    for m in session.scalars(select(Meeting).where(Meeting.session_id.in_(ids)).order_by(Meeting.id)):
        if m.session_id is not None:  # the query's own condition, for the type checker
            instances[m.session_id].append(m)
    for s in session.scalars(select(CreditSession).where(CreditSession.id.in_(ids))):
        members = instances[s.id]
        if not members:
            s.status = "scheduled" if s.lines_built_at is None else "ended"
            continue
        starts = [m.started_at for m in members if m.started_at]
        ends = [m.ended_at for m in members if m.ended_at]
        s.started_at = min(starts) if starts else None
        s.ended_at = max(ends) if ends else None
        statuses = {m.status for m in members}
        s.status = (
            "live"
            if "live" in statuses
            else "ended"
            if statuses == {"ended"}
            else "live"
            if "ended" in statuses and "scheduled" in statuses
            else "scheduled"
        )
        s.is_demo = s.is_demo or any(m.is_demo for m in members)
        s.topic = s.topic or next((m.topic for m in members if m.topic), "")
        occurrence = session.get(Occurrence, s.occurrence_id) if s.occurrence_id else None
        if occurrence is not None:
            s.scheduled_start = occurrence.start
            s.scheduled_minutes = int((occurrence.end - occurrence.start).total_seconds() // 60)
        else:
            first = next((m for m in members if m.scheduled_start), None)
            s.scheduled_start = first.scheduled_start if first else None
            s.scheduled_minutes = next((m.scheduled_minutes for m in members if m.scheduled_minutes), None)
            if s.scheduled_minutes is None and s.community_id is not None:
                s.scheduled_minutes = session.scalar(
                    select(Community.duration_minutes).where(Community.id == s.community_id)
                )


# --- attendance ---------------------------------------------------------------------------------------------


def signals(session: Session, uuid: str) -> list[attendance.Signal]:
    return signals_of(session, [uuid])[uuid]


def signals_of(session: Session, uuids: Collection[str]) -> dict[str, list[attendance.Signal]]:
    """Each meeting's attendance signals from its stored events, in one query for all of them."""
    out: dict[str, list[attendance.Signal]] = {uuid: [] for uuid in uuids}
    rows = session.execute(
        select(ZoomEvent.meeting_uuid, ZoomEvent.event, ZoomEvent.body).where(ZoomEvent.meeting_uuid.in_(list(out)))
    )
    for uuid, name, body in rows:
        out[uuid].extend(attendance.signals_from_event(name, body))
    return out


class Decisions(NamedTuple):
    """Staff decisions about who is who in one session."""

    merges: dict[str, str]
    unbinds: set[frozenset[str]]


def decisions_of(session: Session, session_ids: Collection[int]) -> dict[int, Decisions]:
    """Staff merges and undone binds by session, in one query."""
    out = {sid: Decisions({}, set()) for sid in session_ids}
    rows = session.execute(
        select(
            ParticipantMerge.session_id, ParticipantMerge.kind, ParticipantMerge.source_key, ParticipantMerge.target_key
        ).where(ParticipantMerge.session_id.in_(list(out)))
    )
    for sid, kind, source, target in rows:
        if kind == "merge":
            out[sid].merges[source] = target
        else:
            out[sid].unbinds.add(frozenset((source, target)))
    return out


def until_for(meeting: Meeting, now: datetime) -> datetime | None:
    """Where open presence ends: the meeting's end, or now while it is live."""
    if meeting.status == "ended" and meeting.ended_at:
        return meeting.ended_at
    return now


def instances_of(session: Session, session_ids: Collection[int]) -> dict[int, list[Meeting]]:
    out: dict[int, list[Meeting]] = {sid: [] for sid in session_ids}
    for m in session.scalars(select(Meeting).where(Meeting.session_id.in_(list(out))).order_by(Meeting.id)):
        if m.session_id is not None:  # the query's own condition, for the type checker
            out[m.session_id].append(m)
    return out


def compute(session: Session, credit_session: CreditSession, now: datetime, *, keep: str = "all") -> Attendance:
    """A session's attendance from its stored events. `keep`: 'all', 'webhook' (no report rows) or
    'report' (report rows only), for reconciliation's comparison."""
    return compute_many(session, [credit_session], now, keep=keep)[credit_session.id]


def compute_many(
    session: Session, credit_sessions: Sequence[CreditSession], now: datetime, *, keep: str = "all"
) -> dict[int, Attendance]:
    ids = [s.id for s in credit_sessions]
    instances = instances_of(session, ids)
    signals_by_uuid = signals_of(session, [m.uuid for ms in instances.values() for m in ms])
    if keep == "webhook":
        signals_by_uuid = {u: [s for s in found if s.kind != "span"] for u, found in signals_by_uuid.items()}
    elif keep == "report":
        signals_by_uuid = {
            u: [s for s in found if s.who is None and s.kind != "bind" or s.kind == "span"]
            for u, found in signals_by_uuid.items()
        }
    return {
        inputs.session_id: recompute.recompute(inputs, signals_by_uuid).attendance
        for inputs in session_inputs(session, credit_sessions, now, instances=instances)
    }


def session_inputs(
    session: Session,
    credit_sessions: Sequence[CreditSession],
    now: datetime,
    *,
    settings: Settings | None = None,
    instances: Mapping[int, list[Meeting]] | None = None,
) -> list[recompute.SessionInputs]:
    """What the rules need to recompute these sessions, as plain data, in a few queries for all of them; with
    `settings`, also what the lines of those due for lines (ended, or with lines already) depend on."""
    ids = [s.id for s in credit_sessions]
    instances = instances if instances is not None else instances_of(session, ids)
    decisions = decisions_of(session, ids)
    credit = (
        credit_inputs_of(session, [s for s in credit_sessions if lines_due(s)], settings.hours)
        if settings is not None
        else {}
    )
    return [
        recompute.SessionInputs(
            s.id,
            tuple((m.uuid, until_for(m, now)) for m in instances[s.id]),
            decisions[s.id].merges,
            frozenset(decisions[s.id].unbinds),
            credit.get(s.id),
        )
        for s in credit_sessions
    ]


class Refreshed(NamedTuple):
    """A session's recomputed attendance and the member each of its participants was matched to."""

    result: Attendance
    members: dict[str, int | None]


def participant_rows(session: Session, results: Mapping[int, Attendance]) -> dict[int, list[dict[str, Any]]]:
    """The `participants` rows of these sessions' attendance, each person matched to a member (a remembered
    staff match, else the e-mail): for writing, or for showing a live session as it stands."""
    keys = {key for result in results.values() for key in result.people}
    emails = {p.email for result in results.values() for p in result.people.values() if p.email}
    aliases = (
        dict(
            session.execute(
                select(ParticipantAlias.identity_key, ParticipantAlias.member_id).where(
                    ParticipantAlias.identity_key.in_(keys)
                )
            ).all()
        )
        if keys
        else {}
    )
    members_by_email = (
        dict(session.execute(select(Member.email, Member.id).where(Member.email.in_(emails))).all()) if emails else {}
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for sid, result in results.items():
        rows = out[sid] = []
        for person in result.people.values():
            member_id, method = match_member(
                person.key, person.email, aliases=aliases, members_by_email=members_by_email
            )
            rows.append(
                {
                    "session_id": sid,
                    "identity_key": person.key,
                    "name": person.name,
                    "email": person.email or None,
                    "registrant_id": person.registrant_id or None,
                    "zoom_user_id": person.user_id or None,
                    "is_host": person.is_host,
                    "devices": person.devices,
                    "rejoins": person.rejoins,
                    "incomplete": person.incomplete,
                    "attended_seconds": person.attended_seconds,
                    "intervals": [[a.isoformat(), b.isoformat(), src] for a, b, src in person.intervals],
                    "first_join": person.first_join,
                    "last_leave": person.last_leave,
                    "member_id": member_id,
                    "match_method": method,
                }
            )
    return out


def refresh(
    session: Session,
    credit_sessions: Sequence[CreditSession],
    now: datetime,
    *,
    results: Mapping[int, Attendance] | None = None,
) -> dict[int, Refreshed]:
    """Recompute these sessions' attendance (unless `results` brings it: the rebuild's) and rewrite their
    participant rows: a handful of statements for all of them (a statewide rebuild goes through here a few
    hundred sessions at a time)."""
    if results is None:
        results = compute_many(session, credit_sessions, now)
    by_session = participant_rows(session, results)
    session.execute(delete(Participant).where(Participant.session_id.in_(list(results))))
    rows = [row for sid in results for row in by_session[sid]]
    insert_rows(session, table_of(Participant), rows)  # all the sessions' participants in one bulk write
    session.flush()
    return {
        sid: Refreshed(result, {row["identity_key"]: row["member_id"] for row in by_session[sid]})
        for sid, result in results.items()
    }


def stale_meetings(session: Session, now: datetime, after: timedelta) -> list[Meeting]:
    """Meetings that never got their meeting.ended: no event for `after` past their scheduled end."""
    last_event = (
        select(ZoomEvent.meeting_uuid, func.max(ZoomEvent.received_at).label("last"))
        .group_by(ZoomEvent.meeting_uuid)
        .subquery()
    )
    rows = session.execute(
        select(Meeting, last_event.c.last)
        .outerjoin(last_event, last_event.c.meeting_uuid == Meeting.uuid)
        .where(Meeting.status != "ended")
    ).all()
    stale = []
    for meeting, last in rows:
        start = meeting.started_at or meeting.scheduled_start
        if start is None:
            continue
        scheduled_end = start + timedelta(minutes=meeting.scheduled_minutes or 0)
        if now - max(scheduled_end, last or scheduled_end) >= after:
            stale.append(meeting)
    return stale


def mark_started(meeting: Meeting, start: datetime | None) -> None:
    """meeting.started: live, unless this is a late copy of a start that an end already closed."""
    if start is None:
        return
    meeting.started_at = min(start, meeting.started_at or start)
    if meeting.status != "ended" or (meeting.ended_at and start > meeting.ended_at):
        meeting.status = "live"


def mark_ended(meeting: Meeting, start: datetime | None, end: datetime | None, *, by: str = "event") -> None:
    """meeting.ended (or the finalizer): the latest end wins; a restarted meeting ends again later."""
    if end is None:
        return
    if start is not None:
        meeting.started_at = min(start, meeting.started_at or start)
    meeting.ended_at = max(end, meeting.ended_at or end)
    meeting.status = "ended"
    meeting.finalized_by = by


LIFECYCLE_EVENTS = frozenset({"meeting.started", "meeting.ended"})  # what apply_lifecycle acts on


def apply_lifecycle(meeting: Meeting, event_name: str, obj: Mapping[str, Any]) -> bool:
    """What meeting.started and meeting.ended do to an instance's state, for the webhook handlers and for
    the rebuild alike; False for any other event."""
    if event_name == "meeting.started":
        mark_started(meeting, parse_time(obj.get("start_time")))
        return True
    if event_name == "meeting.ended":
        mark_ended(meeting, parse_time(obj.get("start_time")), parse_time(obj.get("end_time")))
        return True
    return False


def sessions_for(session: Session, meetings: Sequence[Meeting], settings: Settings) -> list[CreditSession]:
    """The sessions of these meetings, placing them again first (a start may have moved an instance)."""
    touched = place(session, meetings, settings)
    ids = touched | {m.session_id for m in meetings if m.session_id is not None}
    return list(session.scalars(select(CreditSession).where(CreditSession.id.in_(ids)).order_by(CreditSession.id)))


def attendance_changed(
    session: Session, meeting: Meeting, settings: Settings, now: datetime, *, reason: str
) -> Attendance | None:
    """An instance's events or state changed: recompute its session, and once the session has ended (or
    already has lines), bring its credit lines in step. Returns the session's attendance."""
    credit_sessions = sessions_for(session, [meeting], settings)
    results = session_changed(session, credit_sessions, settings, now, reason=reason)
    return results.get(meeting.session_id) if meeting.session_id is not None else None


def lines_due(credit_session: CreditSession) -> bool:
    """A session has lines once it has ended, and keeps them in step from then on."""
    return credit_session.status == "ended" or credit_session.lines_built_at is not None


def session_changed(
    session: Session,
    credit_sessions: Sequence[CreditSession],
    settings: Settings,
    now: datetime,
    *,
    reason: str,
    recomputed: Mapping[int, recompute.Recomputed] | None = None,
) -> dict[int, Attendance]:
    """`attendance_changed` for whole sessions (a staff decision, a rebuild), in shared statements.
    `recomputed`: these sessions' attendance and, where they were due, lines, already computed (the
    rebuild's rules); else they are computed here."""
    results = proposed = None
    if recomputed is not None:
        results = {s.id: recomputed[s.id].attendance for s in credit_sessions}
        proposed = {s.id: lines for s in credit_sessions if (lines := recomputed[s.id].lines) is not None}
    refreshed = refresh(session, credit_sessions, now, results=results)
    due = [(s, *refreshed[s.id]) for s in credit_sessions if lines_due(s)]
    sync_lines(session, due, settings, now, reason=reason, proposed=proposed)
    return {sid: r.result for sid, r in refreshed.items()}


REBUILD_CHUNK = 200  # meetings per round of statements: bounded memory, few round trips


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off for one chunk of a batch, then run once.

    A chunk holds a few hundred thousand objects until it ends (decoded events, signals, rows to write);
    with the collector on, their numbers trigger full collections again and again, each walking all of
    them: 35 collections took 5.6 s of a 13 s statewide rebuild. Reference counting still frees what a
    chunk drops as it goes; the collector then runs once at the chunk's end over what the chunk made (the
    young generations: a full collection would walk the whole heap again), freeing its reference cycles,
    so memory stays bounded by a chunk."""
    if not gc.isenabled():  # someone else manages it
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(1)


def instances_in_order(session: Session) -> list[str]:
    """Every stored meeting instance's uuid in the order a rebuild visits them: by Zoom meeting id and time,
    so a session's instances come together."""
    return [uuid for uuid, _ in _instances_and_ids(session)]


def _instances_and_ids(session: Session) -> list[tuple[str, str | None]]:
    return [
        (uuid, meeting_id)
        for uuid, meeting_id in session.execute(
            select(ZoomEvent.meeting_uuid, func.min(ZoomEvent.meeting_id))
            .where(ZoomEvent.meeting_uuid.is_not(None))
            .group_by(ZoomEvent.meeting_uuid)
            .order_by(func.min(ZoomEvent.meeting_id), func.min(ZoomEvent.event_ts), ZoomEvent.meeting_uuid)
        )
        if uuid is not None  # the query's own condition, for the type checker
    ]


def partitions(session: Session, parts: int) -> list[list[str]]:
    """The rebuild's instances split into at most `parts` lists, a community (else a Zoom meeting id with no
    community) wholly in one list, each list in rebuild order: a session never spans two communities, so
    rebuilds of different lists touch different sessions, participants and lines (`rebuild_workers`)."""
    order = _instances_and_ids(session)
    placed = dict(
        session.execute(select(Meeting.uuid, Meeting.community_id).where(Meeting.community_id.is_not(None))).all()
    )
    by_zoom_id = dict(session.execute(select(Community.zoom_meeting_id, Community.id)).all())
    groups: dict[str, list[str]] = {}
    for uuid, meeting_id in order:
        community = placed.get(uuid) or by_zoom_id.get(meeting_id)
        groups.setdefault(f"community:{community}" if community is not None else f"zoom:{meeting_id}", []).append(uuid)
    lists: list[list[str]] = [[] for _ in range(max(1, min(parts, len(groups))))]
    for group in sorted(groups.values(), key=len, reverse=True):  # the largest first, each to the shortest list
        min(lists, key=len).extend(group)
    rank = {uuid: at for at, (uuid, _) in enumerate(order)}
    return [sorted(part, key=rank.__getitem__) for part in lists if part]


T = TypeVar("T", covariant=True)


class Answer(Protocol[T]):
    """What the rebuild's rules answer: at once (in this process) or when a rules process has it."""

    def result(self) -> T: ...


class Ready(Generic[T]):
    """An answer already at hand."""

    def __init__(self, value: T):
        self.value = value

    def result(self) -> T:
        return self.value


class InstanceEvents(NamedTuple):
    """What the rebuild replays of one instance's stored events besides its attendance signals: the Zoom
    meeting id, the first event's meeting object (for a meeting row not yet there) and the lifecycle
    events in order."""

    meeting_id: str | None
    first_object: Mapping[str, Any]
    lifecycle: list[tuple[str, Mapping[str, Any]]]


class Rules(Protocol):
    """The rebuild's rules side: reads and decodes a chunk's events, keeping their signals, and recomputes
    sessions from plain inputs (`RebuildRules` here; `zoombot.store.rules_process` in a process of its own,
    so the rules of one batch run while the rebuild writes the one before)."""

    def read(self, chunk: Sequence[str]) -> Answer[dict[str, InstanceEvents]]: ...

    def compute(self, inputs: Sequence[recompute.SessionInputs]) -> Answer[dict[int, recompute.Recomputed]]: ...


class RebuildRules:
    """The rebuild's rules on `session`'s connection: a chunk's events are read in one query and decoded once;
    their signals wait here for their sessions' recomputation (an instance asked for and not read, such as
    one of another rebuild's share, is read then), and are dropped once used."""

    def __init__(self, session: Session):
        self.session = session
        self.signals: dict[str, list[attendance.Signal]] = {}

    def read(self, chunk: Sequence[str]) -> Ready[dict[str, InstanceEvents]]:
        return Ready(self.digest(chunk))

    def compute(self, inputs: Sequence[recompute.SessionInputs]) -> Ready[dict[int, recompute.Recomputed]]:
        return Ready(self.work_out(inputs))

    def digest(self, chunk: Sequence[str]) -> dict[str, InstanceEvents]:
        events: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {uuid: [] for uuid in chunk}
        # Core rows, not ORM ones: plain columns need no identity map, and 232 800 rows feel the difference
        for uuid, name, meeting_id, body in self.session.connection().execute(
            select(ZoomEvent.meeting_uuid, ZoomEvent.event, ZoomEvent.meeting_id, ZoomEvent.body)
            .where(ZoomEvent.meeting_uuid.in_(list(chunk)))
            .order_by(ZoomEvent.meeting_uuid, ZoomEvent.event_ts)
        ):
            events[uuid].append((name, meeting_id, body))
        out = {}
        for uuid, stored in events.items():
            if not stored:
                continue
            out[uuid] = InstanceEvents(
                next((mid for _, mid, _ in stored if mid), None),
                _object_of(stored[0][2]),
                [(name, _object_of(body)) for name, _, body in stored if name in LIFECYCLE_EVENTS],
            )
            self.signals[uuid] = [s for name, _, body in stored for s in attendance.signals_from_event(name, body)]
        return out

    def work_out(self, inputs: Sequence[recompute.SessionInputs]) -> dict[int, recompute.Recomputed]:
        wanted = {uuid for i in inputs for uuid, _ in i.instances}
        missing = [uuid for uuid in wanted if uuid not in self.signals]
        if missing:
            self.signals.update(signals_of(self.session, missing))
        out = {i.session_id: recompute.recompute(i, self.signals) for i in inputs}
        for uuid in wanted:
            del self.signals[uuid]
        return out


def _object_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    return (body.get("payload") or {}).get("object") or {}


def rebuild(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    failures: list[tuple[int, str]] | None = None,
    uuids: Sequence[str] | None = None,
    rules: Rules | None = None,
) -> int:
    """Re-derive every meeting's state, session, participants and lines from the stored events (or those of
    the instances `uuids` names, whole communities in rebuild order: see `partitions`), a chunk of meetings at
    a time: each chunk's events are read once, and its writes are shared statements. A session is
    recomputed once all its instances are in. A session the database refuses for its data is left as it
    was and named in `failures` (session id, the driver's error class); the others go on.

    The work is a pipeline: `rules` (in this process unless given: see `Rules`) read the next chunk's events
    while this one's instances are placed, and recompute a batch of sessions while the batch before is
    written. Writes happen in batch order, so a session recomputed twice (its instances in two chunks) ends
    with its later, complete result."""
    if uuids is None:
        uuids = instances_in_order(session)
    rules = rules if rules is not None else RebuildRules(session)
    chunks = [uuids[first : first + REBUILD_CHUNK] for first in range(0, len(uuids), REBUILD_CHUNK)]
    reading = [rules.read(chunks[0])] if chunks else []
    pending: dict[int, CreditSession] = {}
    asked: tuple[list[CreditSession], Answer[dict[int, recompute.Recomputed]]] | None = None
    for index in range(len(chunks)):
        with collector_paused():
            if index + 1 < len(chunks):
                reading.append(rules.read(chunks[index + 1]))
            for credit_session in _replay_chunk(session, reading.pop(0).result(), settings):
                pending[credit_session.id] = credit_session
            if index == 0 and len(chunks) > 1:  # the tables it fills as they will be, not as they were
                refresh_statistics(session, table_of(CreditSession).name, table_of(Meeting).name)
            if len(pending) >= REBUILD_CHUNK or index + 1 == len(chunks):
                batch = list(pending.values())
                pending.clear()
                next_asked = (batch, rules.compute(session_inputs(session, batch, now, settings=settings)))
                if asked is not None:
                    _write_sessions(session, *asked, settings, now, failures)
                asked = next_asked
    if asked is not None:
        with collector_paused():
            _write_sessions(session, *asked, settings, now, failures)
    return len(uuids)


def _replay_chunk(session: Session, events: Mapping[str, InstanceEvents], settings: Settings) -> list[CreditSession]:
    """One chunk of the rebuild's meetings: their rows made where missing, their lifecycle replayed, and their
    sessions (placed again) returned."""
    wanted = {uuid: (e.meeting_id, e.first_object) for uuid, e in events.items() if e.meeting_id is not None}
    found = ensure_meetings(session, wanted, settings=settings, place_new=False)  # sessions_for places them
    for uuid, meeting in found.items():
        for name, obj in events[uuid].lifecycle:
            apply_lifecycle(meeting, name, obj)
    return sessions_for(session, list(found.values()), settings)


def _write_sessions(
    session: Session,
    credit_sessions: list[CreditSession],
    asked: Answer[dict[int, recompute.Recomputed]],
    settings: Settings,
    now: datetime,
    failures: list[tuple[int, str]] | None,
) -> None:
    """Write recomputed sessions (participants, lines, audit entries): all in shared statements, or, when the
    database refuses that for some row's data, one session at a time."""
    recomputed = asked.result()
    reason = "rebuilt from stored events"
    try:
        with session.begin_nested():
            session_changed(session, credit_sessions, settings, now, reason=reason, recomputed=recomputed)
        return
    except DataError:
        pass
    for credit_session in credit_sessions:
        try:
            with session.begin_nested():
                session_changed(session, [credit_session], settings, now, reason=reason, recomputed=recomputed)
        except DataError as exc:
            log.error("rebuild: session id=%s left as it was: %s", credit_session.id, type(exc.orig).__name__)
            if failures is not None:
                failures.append((credit_session.id, type(exc.orig).__name__))
