"""The audit trail: who changed what, when, from what, to what and why. Entries are never updated or deleted.

Every change a person or the system makes to credit (a line's figures or decision, a match, a merge, a
training segment) and to the directory goes through `audit` (one entry) or `audit_row` (the columns of
one entry, for bulk inserts beside bulk changes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zoombot.store.models import AuditEntry

SYSTEM = "system"


def audit_row(
    *,
    actor: str,
    entity: str,
    entity_id: int | None,
    action: str,
    meeting_id: int | None = None,
    session_id: int | None = None,
    from_value: object = None,
    to_value: object = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one audit entry (values shown as text), for one insert or a bulk one."""
    row: dict[str, Any] = {
        "actor": actor,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "meeting_id": meeting_id,
        "session_id": session_id,
        "from_value": None if from_value is None else str(from_value),
        "to_value": None if to_value is None else str(to_value),
        "reason": reason,
    }
    if at is not None:
        row["at"] = at
    return row


def audit(session: Session, **fields: Any) -> AuditEntry:
    """Record who changed what, when, from what, to what and why (fields: see `audit_row`)."""
    entry = AuditEntry(**audit_row(**fields))
    session.add(entry)
    return entry
