"""Closures in the database: who may record one, recording it, and how the meeting closed.

The shell around `zoombot.core.closure`. Recording a closure also acts on what depends on it: parked
questions resolved at the meeting are closed (and reopened if unticked later), questions raised in the
meeting are parked, the follow-up waiting for the closure goes at the next sending pass, and the next
meeting's draft agenda, while nobody has edited it, is drafted again from the agreed next steps.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from zoombot.core import closure, roles
from zoombot.store import agenda_store
from zoombot.store.audit import audit
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import Closure, Member, Membership, Occurrence, OutboxMessage, ParkingLotItem


def stored(session: Session, occurrence_id: int) -> Closure | None:
    return session.scalar(select(Closure).where(Closure.occurrence_id == occurrence_id))


def parked_items(session: Session, occurrence: Occurrence) -> list[closure.ParkedItem]:
    """The community's open parking lot and the items resolved at this meeting, oldest first."""
    rows = session.scalars(
        select(ParkingLotItem)
        .where(
            ParkingLotItem.community_id == occurrence.community_id,
            or_(ParkingLotItem.closed_at.is_(None), ParkingLotItem.closed_occurrence_id == occurrence.id),
        )
        .order_by(ParkingLotItem.created_at, ParkingLotItem.id)
    )
    return [
        closure.ParkedItem(
            id=item.id,
            text=item.text,
            raised_here=item.raised_occurrence_id == occurrence.id,
            resolved_here=item.closed_occurrence_id == occurrence.id,
            open=item.closed_at is None,
        )
        for item in rows
    ]


def as_input(row: Closure, items: list[closure.ParkedItem]) -> closure.ClosureInput:
    return closure.ClosureInput(
        summary=row.summary,
        next_steps=tuple(row.next_steps),
        evaluation_url=row.evaluation_url,
        resolved_ids=frozenset(item.id for item in items if item.resolved_here),
        raised=(),
    )


def outcome(session: Session, occurrence: Occurrence) -> closure.Outcome:
    """How the meeting closed: the recorded closure, else the next steps its agenda planned."""
    items = parked_items(session, occurrence)
    row = stored(session, occurrence.id)
    planned = agenda_store.stored(session, occurrence.id)
    return closure.outcome(
        recorded=as_input(row, items) if row else None,
        planned_next_steps=planned.next_steps if planned else (),
        items=items,
    )


def meeting_closers(session: Session, occurrence: Occurrence) -> list[tuple[int, str]]:
    """(member id, address) of who may record the closure, and is asked to: the community's facilitators
    and co-facilitators, and the meeting's note-taker (the one its agenda names; when it names none,
    whoever holds the note-taker role in the community)."""
    named = agenda_store.stored(session, occurrence.id)
    note_taker = next((a.member_id for a in named.roles if a.role == roles.NOTE_TAKER), None) if named else None
    wanted = Membership.role.in_(roles.FACILITATING if note_taker else roles.CLOSING)
    query = (
        select(Member.id, Member.email)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.community_id == occurrence.community_id,
            or_(wanted, Member.id == note_taker) if note_taker else wanted,
        )
        .order_by(Member.id)
    )
    return [(member_id, email.lower()) for member_id, email in session.execute(query)]


def may_close(session: Session, occurrence: Occurrence, member_id: int) -> bool:
    return any(closer == member_id for closer, _ in meeting_closers(session, occurrence))


def record(session: Session, occurrence: Occurrence, given: closure.ClosureInput, *, actor: str, now: datetime) -> str:
    """Store the closure and act on it (see the module docstring); 'recorded' or 'updated'."""
    actor = actor[:320]  # the width of recorded_by and of the audit trail's actor
    created = (
        insert_ignoring_conflict(
            session,
            Closure,
            {
                "occurrence_id": occurrence.id,
                "summary": "",
                "next_steps": [],
                "recorded_by": actor,
                "recorded_at": now,
                "updated_at": now,
            },
            ["occurrence_id"],
        )
        is not None
    )
    row = stored(session, occurrence.id)
    if row is None:  # inserted just now or there before; only its occurrence's deletion removes it
        raise RuntimeError(f"the closure of occurrence {occurrence.id} is missing right after its insert")
    row.summary, row.next_steps, row.evaluation_url = given.summary, list(given.next_steps), given.evaluation_url
    row.updated_at = now
    action = "recorded" if created else "updated"
    audit(
        session,
        actor=actor,
        entity="closure",
        entity_id=row.id,
        action=action,
        at=now,
        reason=f"occurrence {occurrence.id}",
    )
    for item in parked_items(session, occurrence):
        resolve = item.id in given.resolved_ids
        if resolve and item.open:
            _set_closed(session, item.id, now, occurrence.id)
            audit(session, actor=actor, entity="parking_lot_item", entity_id=item.id, action="resolved", at=now)
        elif not resolve and item.resolved_here:
            _set_closed(session, item.id, None, None)
            audit(session, actor=actor, entity="parking_lot_item", entity_id=item.id, action="reopened", at=now)
    open_texts = {item.text.casefold() for item in parked_items(session, occurrence) if item.open}
    for text in given.raised:
        if text.casefold() in open_texts:
            continue
        open_texts.add(text.casefold())
        raised = ParkingLotItem(
            community_id=occurrence.community_id, text=text[:1000], raised_occurrence_id=occurrence.id, created_at=now
        )
        session.add(raised)
        session.flush()
        audit(session, actor=actor, entity="parking_lot_item", entity_id=raised.id, action="added", at=now)
    # The follow-up waiting for this closure goes at the next sending pass, not at its next look.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.occurrence_id == occurrence.id,
            OutboxMessage.kind == "followup",
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )
    following = session.scalar(
        select(Occurrence)
        .where(
            Occurrence.community_id == occurrence.community_id,
            Occurrence.status == "scheduled",
            Occurrence.start > occurrence.start,
        )
        .order_by(Occurrence.start)
        .limit(1)
    )
    if following is not None:
        agenda_store.redraft_untouched(session, following, now)
    return action


def _set_closed(session: Session, item_id: int, when: datetime | None, occurrence_id: int | None) -> None:
    session.execute(
        update(ParkingLotItem)
        .where(ParkingLotItem.id == item_id)
        .values(closed_at=when, closed_occurrence_id=occurrence_id)
    )
