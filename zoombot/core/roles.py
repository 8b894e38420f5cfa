"""CoP roles: which ones a network uses, and what each one may do.

The facilitator guidance gives members rotating roles (a note-taker, a timekeeper...). The list is the
operator's (`[community] roles`), but a few roles carry meaning in zoombot itself, and live here only:

* `facilitator` and `co-facilitator` *facilitate*: they get the agenda-preparation and closure mails, and
  a facilitator login sees their communities. A co-facilitator runs the meeting with the facilitator (and
  in their absence), so they need exactly what the facilitator needs.
* `note-taker` records the meeting's closure (summary, next steps, parking lot) with the facilitators,
  through a signed link in the closure mail.
* `member` is everyone else; it is what an import row without a role gets.

Pure: no database, no configuration loading.
"""

from __future__ import annotations

import re

MEMBER = "member"
FACILITATOR = "facilitator"
CO_FACILITATOR = "co-facilitator"
NOTE_TAKER = "note-taker"
TIMEKEEPER = "timekeeper"

#: The default `[community] roles`, in the order pages and agendas list them.
DEFAULT_ROLES: tuple[str, ...] = (FACILITATOR, CO_FACILITATOR, NOTE_TAKER, TIMEKEEPER, MEMBER)
#: Roles that run the meeting (prep and closure mail, a facilitator login's view).
FACILITATING: tuple[str, ...] = (FACILITATOR, CO_FACILITATOR)
#: Roles that may record a meeting's closure.
CLOSING: tuple[str, ...] = FACILITATING + (NOTE_TAKER,)
#: Longest role name (the memberships.role column).
MAX_ROLE = 40

_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[- ][a-z0-9]+)*$")


def parse_roles(text: str) -> tuple[str, ...]:
    """`[community] roles` ("facilitator, note-taker, member") -> the roles in order; ValueError naming
    the problem. Names are lower-case words joined by hyphens or spaces; `member` and `facilitator` must
    be there (every community has both)."""
    names = [" ".join(part.split()).lower() for part in (text or "").split(",")]
    names = [name for name in names if name]
    for name in names:
        if len(name) > MAX_ROLE or not _NAME_RE.match(name):
            raise ValueError(f"role {name!r} must be lower-case words joined by '-' (at most {MAX_ROLE} characters)")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"role {repeated[0]!r} is listed twice")
    for required in (FACILITATOR, MEMBER):
        if required not in names:
            raise ValueError(f"the roles must include {required!r}")
    return tuple(names)


def facilitates(role: str | None) -> bool:
    return role in FACILITATING


def may_close(role: str | None) -> bool:
    return role in CLOSING


def meeting_roles(configured: tuple[str, ...]) -> tuple[str, ...]:
    """The roles an agenda names a person for, this meeting: every configured role but `member`."""
    return tuple(role for role in configured if role != MEMBER)


def label(role: str) -> str:
    """ "co-facilitator" -> "Co-facilitator" (for pages and mail)."""
    return role[:1].upper() + role[1:]
