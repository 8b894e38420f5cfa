"""Every message of one meeting, rendered but never sent: `zoombot mail preview` and the staff preview page.

For the next meeting of a community (or the one on a given local date) it builds each kind of message
for each person who would get it, calendar files included, exactly as the sender would (the same
`message_context.message_facts` and `messages.build`). Updates and cancellations are shown too, as they
would read if the meeting moved or were cancelled. It sends nothing and marks nothing: it works in a
transaction that is always rolled back, so even a meeting not planned yet, or a draft agenda made to
show it, leaves no trace.

Before a meeting has ended, a follow-up reads as it would for someone who did not attend.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import schedule
from zoombot.mail import messages
from zoombot.mail.context import message_facts
from zoombot.store import outbox
from zoombot.store.db import Database
from zoombot.store.models import Community, Member, Occurrence
from zoombot.store.replanning import cadence_of

#: Kinds in the order a meeting's mail goes out; update and cancellation only if it changes.
KINDS = schedule.MESSAGE_KINDS + ("update", "cancellation")
CONDITIONAL = {
    "update": "only if the meeting moves or its details change",
    "cancellation": "only if the meeting is cancelled",
}


class PreviewError(Exception):
    """No such meeting to preview (one line, safe to print)."""


@dataclass(frozen=True)
class Preview:
    kind: str
    member_id: int
    recipient: str
    due_at: datetime | None  # None: sent only if the meeting changes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def _find(self, content_type: str) -> EmailMessage | None:
        return next((p for p in self.message.walk() if p.get_content_type() == content_type), None)

    def part(self, content_type: str) -> str | None:
        """A text part's content (`text/plain`, `text/html`) as the reader sees it; None when there is none."""
        found = self._find(content_type)
        return None if found is None else found.get_content()

    @property
    def ics(self) -> bytes | None:
        """The calendar file's bytes, as attached (not re-encoded through a str)."""
        found = self._find("text/calendar")
        # a calendar part is a leaf, whose payload decodes to bytes (a multipart's would be a list of parts)
        return None if found is None else cast(bytes, found.get_payload(decode=True))


@contextlib.contextmanager
def throwaway_session(db: Database) -> Iterator[Session]:
    """A session whose every change is rolled back at the end, whatever happens."""
    with db.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def occurrence_on(session: Session, community: Community, day: date | None, now: datetime) -> Occurrence:
    """The community's meeting on that local day, or its next one from `now`; planned on the spot (in the
    caller's throwaway session) when the planner has not reached it yet. PreviewError when there is none."""
    tz = schedule.zone(community.timezone)
    if day is None:
        row = session.scalar(
            select(Occurrence)
            .where(Occurrence.community_id == community.id, Occurrence.status == "scheduled", Occurrence.start > now)
            .order_by(Occurrence.start)
            .limit(1)
        )
        if row is not None:
            return row
        wanted = schedule.occurrences(cadence_of(community), now, now + timedelta(days=800))[:1]
        if not wanted:
            raise PreviewError(f"{community.name!r} has no upcoming meeting")
    else:
        low = datetime.combine(day, time()).replace(tzinfo=tz)
        high = low + timedelta(days=1)
        row = session.scalar(
            select(Occurrence)
            .where(Occurrence.community_id == community.id, Occurrence.start >= low, Occurrence.start < high)
            .order_by(Occurrence.start)
            .limit(1)
        )
        if row is not None:
            return row
        wanted = schedule.occurrences(cadence_of(community), low, high)
        if not wanted:
            raise PreviewError(f"{community.name!r} does not meet on {day.isoformat()}")
    occ = wanted[0]
    row = session.scalar(
        select(Occurrence).where(
            Occurrence.community_id == community.id, Occurrence.original_start == occ.original_start
        )
    )
    if row is None:
        row = Occurrence(
            community_id=community.id,
            original_start=occ.original_start,
            start=occ.start,
            end=occ.end,
            status="scheduled",
            sequence=0,
            updated_at=now,
        )
        session.add(row)
        session.flush()
    return row


def previews(
    session: Session,
    settings: Settings,
    secret: str | None,
    occurrence: Occurrence,
    now: datetime,
    *,
    kinds: tuple[str, ...] = KINDS,
) -> list[Preview]:
    """Each kind's message to each of its recipients, in sending order (`secret` None: placeholder links)."""
    community = occurrence.community
    due = {
        p.kind: p.due_at
        for p in schedule.plan_messages(
            schedule.Occurrence(
                original_start=occurrence.original_start,
                start=occurrence.start,
                end=occurrence.end,
                local_start=occurrence.start,
            ),
            outbox.offsets(settings.schedule),
        )
    }
    found = []
    for kind in kinds:
        for member_id, address in outbox.recipients(session, occurrence, kind):
            member = session.get(Member, member_id)
            assert member is not None  # a recipient is a member row this session just read
            facts = message_facts(session, settings, secret, kind, occurrence, community, member, address, now)
            message = messages.build(facts, settings.mail, due.get(kind) or now)
            found.append(
                Preview(kind=kind, member_id=member_id, recipient=address, due_at=due.get(kind), message=message)
            )
    return found


def file_stem(index: int, preview: Preview) -> str:
    return f"{index:03d}-{preview.kind}-" + re.sub(r"[^A-Za-z0-9@._-]", "_", preview.recipient)


def write(found: list[Preview], folder: Path) -> list[Path]:
    """Each message as `NNN-kind-recipient.eml` (and its calendar file as `.ics` beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, preview in enumerate(found, start=1):
        path = folder / f"{file_stem(index, preview)}.eml"
        path.write_bytes(preview.message.as_bytes())
        written.append(path)
        if preview.ics is not None:
            (folder / f"{file_stem(index, preview)}.ics").write_bytes(preview.ics)
    return written
