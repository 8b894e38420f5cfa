"""Agendas in the database: the draft made for the facilitator, and what a message or page shows.

The thin shell around `zoombot.core.agenda`. The parking lot lives in its own table (`parking_lot_items`),
so an item carries forward from meeting to meeting until someone closes it; an agenda's parking lot is
always read from there, never from the stored content. A draft opens with the previous meeting's next
steps: the ones agreed at its closure when one was recorded, else the ones planned on its agenda.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zoombot.core import agenda as content
from zoombot.core.roles import DEFAULT_ROLES, MEMBER
from zoombot.store.audit import audit
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import (
    Agenda,
    Closure,
    Member,
    Membership,
    Occurrence,
    ParkingLotItem,
    ResourceSubmission,
)


def open_parking_lot(session: Session, community_id: int) -> list[ParkingLotItem]:
    return list(
        session.scalars(
            select(ParkingLotItem)
            .where(ParkingLotItem.community_id == community_id, ParkingLotItem.closed_at.is_(None))
            .order_by(ParkingLotItem.created_at, ParkingLotItem.id)
        )
    )


EMPTY = content.Agenda((), (), (), (), (), (), ())


def previous_agenda(session: Session, occurrence: Occurrence) -> content.Agenda | None:
    """The agenda of the community's latest earlier meeting that has an agenda or a closure, with the next
    steps agreed at its closure when one was recorded (they open this meeting)."""
    earlier = session.execute(
        select(Occurrence.id, Agenda.content, Closure.next_steps)
        .outerjoin(Agenda, Agenda.occurrence_id == Occurrence.id)
        .outerjoin(Closure, Closure.occurrence_id == Occurrence.id)
        .where(
            Occurrence.community_id == occurrence.community_id,
            Occurrence.start < occurrence.start,
            Occurrence.status == "scheduled",
            or_(Agenda.id.is_not(None), Closure.id.is_not(None)),
        )
        .order_by(Occurrence.start.desc())
        .limit(1)
    ).first()
    if earlier is None:
        return None
    _, stored, agreed = earlier
    previous = content.from_dict(stored) if stored is not None else EMPTY
    return dataclasses.replace(previous, next_steps=tuple(agreed)) if agreed is not None else previous


def community_roles(session: Session, community_id: int) -> list[content.RoleAssignment]:
    """Who holds each role other than member in the community (the draft's "roles this meeting"), in the
    order of the default roles, then by name."""
    rows = session.execute(
        select(Membership.role, Member.name, Member.id)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.community_id == community_id, Membership.role != MEMBER)
        .order_by(func.lower(Member.name), Member.id)
    ).all()
    order = {role: index for index, role in enumerate(DEFAULT_ROLES)}
    return [
        content.RoleAssignment(role=role, name=name, member_id=member_id)
        for role, name, member_id in sorted(rows, key=lambda r: order.get(r[0], len(order)))
    ]


def submitted_resources(session: Session, occurrence: Occurrence) -> list[content.Resource]:
    """What members sent for this meeting (or for no meeting in particular, before it was planned)."""
    rows = session.execute(
        select(ResourceSubmission.title, ResourceSubmission.url, Member.name)
        .outerjoin(Member, Member.id == ResourceSubmission.member_id)
        .where(
            ResourceSubmission.community_id == occurrence.community_id,
            or_(ResourceSubmission.occurrence_id == occurrence.id, ResourceSubmission.occurrence_id.is_(None)),
        )
        .order_by(ResourceSubmission.created_at, ResourceSubmission.id)
    )
    return [content.Resource(title=title, url=url, submitted_by=name) for title, url, name in rows]


def ensure_draft(session: Session, occurrence: Occurrence, now: datetime) -> Agenda:
    """The occurrence's agenda row, drafted from what the bot knows on first call (race-safe)."""
    existing = session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))
    if existing is not None:
        return existing
    insert_ignoring_conflict(
        session,
        Agenda,
        {
            "occurrence_id": occurrence.id,
            "content": content.to_dict(_draft(session, occurrence)),
            "status": "draft",
            "updated_at": now,
            "updated_by": SYSTEM,
        },
        ["occurrence_id"],
    )
    agenda = session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))
    if agenda is None:  # inserted just now or by a racing caller; only its occurrence's deletion removes it
        raise RuntimeError(f"the agenda of occurrence {occurrence.id} is missing right after its insert")
    return agenda


SYSTEM = "system"  # updated_by of a draft nobody has edited yet


def _draft(session: Session, occurrence: Occurrence) -> content.Agenda:
    community = occurrence.community  # a NOT NULL foreign key
    return content.draft_agenda(
        previous=previous_agenda(session, occurrence),
        open_parking_lot=[item.text for item in open_parking_lot(session, occurrence.community_id)],
        submitted_resources=submitted_resources(session, occurrence),
        expectations=community.expectations,
        confidentiality=community.confidentiality,
        roles=community_roles(session, occurrence.community_id),
    )


def redraft_untouched(session: Session, occurrence: Occurrence, now: datetime) -> bool:
    """Draft again an agenda nobody has edited yet (after the previous meeting's closure was recorded, so
    the draft opens with the agreed next steps); True when it did."""
    row = session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))
    if row is None or row.status != "draft" or row.updated_by != SYSTEM:
        return False
    row.content, row.updated_at = content.to_dict(_draft(session, occurrence)), now
    return True


def stored(session: Session, occurrence_id: int) -> content.Agenda | None:
    """The agenda as stored, without drafting one (for planning, which must not create drafts)."""
    row = session.scalar(select(Agenda.content).where(Agenda.occurrence_id == occurrence_id))
    return content.from_dict(row) if row is not None else None


def current(session: Session, occurrence: Occurrence, now: datetime) -> content.Agenda:
    """The agenda as people should see it now: stored content, live parking lot."""
    row = ensure_draft(session, occurrence, now)
    lot = tuple(item.text for item in open_parking_lot(session, occurrence.community_id))
    return dataclasses.replace(content.from_dict(row.content), parking_lot=lot)


def add_submission_to_draft(
    session: Session, occurrence: Occurrence, resource: content.Resource, now: datetime
) -> None:
    """A resource sent after the draft was made still reaches the agenda (while it is a draft)."""
    row = session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))
    if row is None or row.status != "draft":
        return
    saved = content.from_dict(row.content)
    if any(r.url == resource.url and r.title == resource.title for r in saved.resources):
        return
    row.content = content.to_dict(dataclasses.replace(saved, resources=saved.resources + (resource,)))
    row.updated_at = now


def save(session: Session, row: Agenda, updated: content.Agenda, status: str, *, actor: str, now: datetime) -> None:
    """The editor's agenda, stored (audited: who saved it, and whether it went from draft to ready)."""
    before = row.status
    row.content, row.status, row.updated_at, row.updated_by = content.to_dict(updated), status, now, actor
    audit(
        session,
        actor=actor,
        entity="agenda",
        entity_id=row.id,
        action="edited",
        from_value=before,
        to_value=status,
        at=now,
    )


def park(
    session: Session, community_id: int, occurrence_id: int, text: str, *, actor: str, now: datetime
) -> ParkingLotItem | None:
    """A question parked during a meeting (one line of at most 1000 characters); None for empty text."""
    text = " ".join(text.split())[:1000]
    if not text:
        return None
    item = ParkingLotItem(community_id=community_id, text=text, raised_occurrence_id=occurrence_id, created_at=now)
    session.add(item)
    session.flush()
    audit(session, actor=actor, entity="parking_lot_item", entity_id=item.id, action="added", at=now)
    return item


def unpark(session: Session, item: ParkingLotItem, *, actor: str, now: datetime) -> bool:
    """Close a parking-lot item (once); True when it was open."""
    if item.closed_at is not None:
        return False
    item.closed_at = now
    audit(session, actor=actor, entity="parking_lot_item", entity_id=item.id, action="closed", at=now)
    return True
