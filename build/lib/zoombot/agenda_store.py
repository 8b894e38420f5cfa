"""Agendas in the database: the draft made for the facilitator, and what a message or page shows.

The thin shell around `zoombot.agenda`. The parking lot lives in its own table (`parking_lot_items`),
so an item carries forward from meeting to meeting until someone closes it; an agenda's parking lot is
always read from there, never from the stored content.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from zoombot import agenda as content
from zoombot.db import insert_ignoring_conflict
from zoombot.models import Agenda, Community, Member, Occurrence, ParkingLotItem, ResourceSubmission


def open_parking_lot(session: Session, community_id: int) -> list[ParkingLotItem]:
    return list(session.scalars(select(ParkingLotItem).where(
        ParkingLotItem.community_id == community_id, ParkingLotItem.closed_at.is_(None))
        .order_by(ParkingLotItem.created_at, ParkingLotItem.id)))


def previous_agenda(session: Session, occurrence: Occurrence) -> content.Agenda | None:
    """The agenda of the community's latest earlier meeting that has one (its next steps open this one)."""
    row = session.scalar(select(Agenda).join(Occurrence, Occurrence.id == Agenda.occurrence_id).where(
        Occurrence.community_id == occurrence.community_id, Occurrence.start < occurrence.start,
        Occurrence.status == "scheduled").order_by(Occurrence.start.desc()).limit(1))
    return content.from_dict(row.content) if row is not None else None


def submitted_resources(session: Session, occurrence: Occurrence) -> list[content.Resource]:
    """What members sent for this meeting (or for no meeting in particular, before it was planned)."""
    rows = session.execute(select(ResourceSubmission.title, ResourceSubmission.url, Member.name)
                           .outerjoin(Member, Member.id == ResourceSubmission.member_id)
                           .where(ResourceSubmission.community_id == occurrence.community_id,
                                  or_(ResourceSubmission.occurrence_id == occurrence.id,
                                      ResourceSubmission.occurrence_id.is_(None)))
                           .order_by(ResourceSubmission.created_at, ResourceSubmission.id))
    return [content.Resource(title=title, url=url, submitted_by=name) for title, url, name in rows]


def ensure_draft(session: Session, occurrence: Occurrence, now: datetime) -> Agenda:
    """The occurrence's agenda row, drafted from what the bot knows on first call (race-safe)."""
    existing = session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))
    if existing is not None:
        return existing
    community = session.get(Community, occurrence.community_id)
    draft = content.draft_agenda(
        previous=previous_agenda(session, occurrence),
        open_parking_lot=[item.text for item in open_parking_lot(session, occurrence.community_id)],
        submitted_resources=submitted_resources(session, occurrence),
        expectations=community.expectations, confidentiality=community.confidentiality)
    insert_ignoring_conflict(session, Agenda, {"occurrence_id": occurrence.id, "content": content.to_dict(draft),
                                               "status": "draft", "updated_at": now, "updated_by": "system"},
                             ["occurrence_id"])
    return session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))


def current(session: Session, occurrence: Occurrence, now: datetime) -> content.Agenda:
    """The agenda as people should see it now: stored content, live parking lot."""
    row = ensure_draft(session, occurrence, now)
    stored = content.from_dict(row.content)
    lot = tuple(item.text for item in open_parking_lot(session, occurrence.community_id))
    return content.Agenda(objectives=stored.objectives, topics=stored.topics, expectations=stored.expectations,
                          confidentiality=stored.confidentiality, resources=stored.resources, parking_lot=lot,
                          next_steps=stored.next_steps)


def add_submission_to_draft(session: Session, occurrence: Occurrence, resource: content.Resource,
                            now: datetime) -> None:
    """A resource sent after the draft was made still reaches the agenda (while it is a draft)."""
    row = session.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence.id))
    if row is None or row.status != "draft":
        return
    stored = content.from_dict(row.content)
    if any(r.url == resource.url and r.title == resource.title for r in stored.resources):
        return
    updated = content.Agenda(objectives=stored.objectives, topics=stored.topics, expectations=stored.expectations,
                             confidentiality=stored.confidentiality, resources=stored.resources + (resource,),
                             parking_lot=stored.parking_lot, next_steps=stored.next_steps)
    row.content = content.to_dict(updated)
    row.updated_at = now
