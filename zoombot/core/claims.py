"""Pure: a member's claim "I attended this session but am not counted", and what may happen to it.

Who dialled in by phone, joined from a borrowed device or under a nickname is an unmatched participant of
the session, and only the member knows it was them. On their page they choose from the session's
unmatched participants, shown by join and leave times only (never anyone's name or number, which are other
people's data), or describe it in words. The choice travels as an opaque reference (`participant_ref`, a
keyed hash of the participant's identity), so neither the page nor the stored claim holds anyone's name
or number; staff resolve it back to the participant.

States: open -> accepted (staff matched the participant to the member, or merged it into the member's own
attendance) | declined (with a reason the member reads) | withdrawn (by the member). A declined or withdrawn
claim may be made again; an open one may be changed; an accepted one is done.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

OPEN, ACCEPTED, DECLINED, WITHDRAWN = "open", "accepted", "declined", "withdrawn"
STATES = (OPEN, ACCEPTED, DECLINED, WITHDRAWN)
MAX_DESCRIPTION = 1000


class ClaimError(ValueError):
    """A claim or decision that cannot be made as asked; the message is for the person asking."""


def participant_ref(secret: str, session_id: int, identity_key: str) -> str:
    """An opaque, stable reference to one participant of one session (20 hex characters of an HMAC)."""
    message = f"{session_id}\x00{identity_key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:20]


@dataclass(frozen=True)
class Unmatched:
    """A participant as the claim rules see one: identity, matched member, host or not, time present."""

    identity_key: str
    member_id: int | None
    is_host: bool
    spans: tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True)
class Choice:
    """What a member sees of a participant they may claim: join and leave times, nothing else."""

    ref: str
    spans: tuple[tuple[datetime, datetime], ...]

    @property
    def first_join(self) -> datetime:
        return self.spans[0][0]

    @property
    def last_leave(self) -> datetime:
        return self.spans[-1][1]


def choices(participants: Iterable[Unmatched], *, secret: str, session_id: int) -> list[Choice]:
    """The session's participants a member may say were them: matched to nobody, not the host, present at
    all; in order of joining."""
    found = [
        Choice(ref=participant_ref(secret, session_id, p.identity_key), spans=tuple(sorted(p.spans)))
        for p in participants
        if p.member_id is None and not p.is_host and p.spans
    ]
    return sorted(found, key=lambda c: (c.first_join, c.last_leave, c.ref))


def find(refs: Sequence[tuple[str, str]], ref: str) -> str | None:
    """The identity key behind `ref` among (identity_key, ref) pairs, or None."""
    return next((key for key, candidate in refs if hmac.compare_digest(candidate, ref)), None)


def clean_description(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_DESCRIPTION]


def check_submission(status: str | None, *, ref: str | None, description: str, session_ended: bool) -> None:
    """May a member claim (again) with this content? `status` is their current claim's, if any."""
    if not session_ended:
        raise ClaimError("You can tell us once the meeting has ended.")
    if status == ACCEPTED:
        raise ClaimError("Your claim for this meeting was accepted already.")
    if not ref and not description:
        raise ClaimError("Choose when you were there, or describe how you joined.")


def check_withdrawal(status: str | None) -> None:
    if status != OPEN:
        raise ClaimError("There is no open claim to withdraw.")


def check_decision(status: str, *, decider_email: str, member_email: str) -> None:
    """Staff decide open claims, never one about themselves (whoever is credited never decides it)."""
    if status != OPEN:
        raise ClaimError(f"the claim is {status}, not open")
    if decider_email.strip().lower() == member_email.strip().lower():
        raise ClaimError("you cannot decide a claim about your own attendance")


def resolution(member_has_participant: bool) -> str:
    """Accepting a claim: a member with attendance of their own in the session gets the claimed time
    merged into it (one union, never counted twice); one without is matched to the participant."""
    return "merge" if member_has_participant else "match"
