"""Zoom's changes to a community's occurrences, applied to the rows members were told about.

Pairs Zoom's occurrences with the community's rows (by Zoom's occurrence id, else by original start) and
applies `zoombot.core.zoom_occurrences.change`: a moved occurrence moves and a deleted one is cancelled, each
raising its `sequence` so the jobs send an update or a cancellation. Used by the meeting.updated and
meeting.deleted webhooks and by `zoombot zoom sync`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.core import zoom_occurrences
from zoombot.store.models import Community, Occurrence

Pair = tuple[Occurrence, Mapping[str, Any]]


def pair(session: Session, community: Community, items: Iterable[Any]) -> tuple[list[Pair], int]:
    """Zoom's occurrences with the community's rows, and how many rows newly learnt their Zoom id. Zoom
    occurrences with no row are left alone: the planner makes rows."""
    rows = list(session.scalars(select(Occurrence).where(Occurrence.community_id == community.id)))
    by_zoom_id = {row.zoom_occurrence_id: row for row in rows if row.zoom_occurrence_id}
    by_original = {row.original_start: row for row in rows}
    pairs: list[Pair] = []
    linked = 0
    for item in items:
        if not isinstance(item, Mapping):
            continue
        original = zoom_occurrences.original_start(item)
        zoom_id = str(item.get("occurrence_id") or "")[:32] if original else ""
        row = by_zoom_id.get(zoom_id) if zoom_id else None
        if row is None and original is not None:
            row = by_original.get(original)
        if row is None:
            continue
        if zoom_id and row.zoom_occurrence_id != zoom_id:
            row.zoom_occurrence_id = zoom_id
            linked += 1
        pairs.append((row, item))
    return pairs, linked


def bump(occurrence: Occurrence, now: datetime) -> None:
    """The occurrence changed: its calendar entries need a new revision."""
    occurrence.sequence += 1
    occurrence.updated_at = now


def cancel(occurrence: Occurrence, now: datetime) -> bool:
    """Cancel (once); True when it was not cancelled before."""
    if occurrence.status == "cancelled":
        return False
    occurrence.status = "cancelled"
    bump(occurrence, now)
    return True


def apply(pairs: Iterable[Pair], now: datetime) -> tuple[int, int]:
    """Apply Zoom's word on each paired occurrence; returns (moved, cancelled)."""
    moved = cancelled = 0
    for occurrence, item in pairs:
        found = zoom_occurrences.change(
            item, start=occurrence.start, end=occurrence.end, cancelled=occurrence.status == "cancelled"
        )
        if found.cancel:
            cancelled += cancel(occurrence, now)
        elif found.move is not None:
            occurrence.start, occurrence.end = found.move
            bump(occurrence, now)
            moved += 1
    return moved, cancelled
