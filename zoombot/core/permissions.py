"""Who may do what to credit: separation of duties, as plain rules (no Flask, no database).

Network staff decide credit and send it to the registry; facilitators run the meeting, so they see their
communities, mark its training segments and may add a note to a line or *propose* it ("confirm attended",
"dispute"), but never decide one (approve, adjust, reject, reopen), never change who is who (match,
merge), never export and never submit: a facilitator is often credited in the very session they run.
Whatever the role, nobody decides or proposes a line about themselves (a line whose member has the
actor's e-mail address).

`zoombot.web.staff.auth.require` applies `may` to every staff action before it runs, so a refused action is
refused whether or not its button was shown; `zoombot.store.review` applies `check_not_own` to each line.
"""

from __future__ import annotations

STAFF = "staff"
FACILITATOR = "facilitator"

#: Actions that decide a line or change whose it is, export or submit: staff only.
DECIDE = ("approve", "adjust", "reject", "reopen", "match", "merge", "export", "submit")
#: Actions a facilitator may take in the communities they facilitate (staff may too).
PROPOSE = ("segment", "note")
#: Pages that span every community (the service's status, registry batches, the whole directory).
STAFF_PAGES = ("status", "registry")

ACTIONS: dict[str, frozenset[str]] = {
    **{action: frozenset({STAFF}) for action in DECIDE + STAFF_PAGES},
    **{action: frozenset({STAFF, FACILITATOR}) for action in PROPOSE},
}


class NotAllowed(PermissionError):
    """The actor may not do this; the message says why, for the person who tried."""


def may(role: str, action: str) -> bool:
    """Whether a login of `role` may take `action` (an unknown action is refused: fail closed)."""
    return role in ACTIONS.get(action, frozenset())


def check(role: str, action: str) -> None:
    if not may(role, action):
        who = "facilitators" if role == FACILITATOR else f"{role} logins"
        raise NotAllowed(f"{who} cannot {WORDS.get(action, action)}: network staff decide credit")


def is_own(actor_email: str, member_email: str | None) -> bool:
    """The line is about the actor (addresses compare without case, as members' e-mails are stored)."""
    return bool(member_email) and actor_email.strip().lower() == (member_email or "").strip().lower()


def check_not_own(actor_email: str, member_email: str | None) -> None:
    if is_own(actor_email, member_email):
        raise NotAllowed("nobody decides a line about themselves: another staff member must")


WORDS = {
    "approve": "approve lines",
    "adjust": "adjust hours",
    "reject": "reject lines",
    "reopen": "reopen lines",
    "match": "match participants to members",
    "merge": "merge participants",
    "export": "export hours",
    "submit": "submit to the registry",
    "status": "see the service's status",
    "registry": "see registry submissions",
    "segment": "mark training",
    "note": "add notes",
}
