"""Signed links that let a member act for one community without an account.

Each token names a purpose (unsubscribing from member mail or from facilitator mail, sending resources,
recording a meeting's closure), a member and a community (and, for a closure, the meeting), and is signed
with the web secret (itsdangerous), so nobody can forge one for someone else or use it for another
purpose. Tokens do not expire: an unsubscribe link in a year-old message must still work (a closure link
still checks, when used, that its holder may record the closure). Nothing personal is inside, only ids.

The one exception is the member's personal page ("my hours"): it shows all of a member's credit and
changes their mail preferences, so its link names the member and when it was made, and stops working
`[web] member_link_days` later (`page_link_expires`); a member asks for a fresh one by e-mail address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

#: Purpose -> whether its links name a meeting (an occurrence) too.
PURPOSES = {"unsubscribe": False, "facilitator_unsubscribe": False, "resources": False, "closure": True}
PAGE_PURPOSE = "member_page"


@dataclass(frozen=True)
class MemberLink:
    member_id: int
    community_id: int
    occurrence_id: int | None = None


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    if purpose not in PURPOSES and purpose != PAGE_PURPOSE:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeSerializer(secret, salt=f"zoombot.{purpose}")


def make_token(secret: str, purpose: str, link: MemberLink) -> str:
    ids = [link.member_id, link.community_id]
    if PURPOSES.get(purpose):
        if link.occurrence_id is None:
            raise ValueError(f"a {purpose} link names a meeting")
        ids.append(link.occurrence_id)
    return _serializer(secret, purpose).dumps(ids)


def read_token(secret: str, purpose: str, token: str) -> MemberLink | None:
    """The link a genuine token names; None for anything forged, altered or made for another purpose."""
    try:
        data = _serializer(secret, purpose).loads(token)
    except BadSignature:
        return None
    size = 3 if PURPOSES[purpose] else 2
    if (
        not isinstance(data, list)
        or len(data) != size
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)
    ):
        return None
    return MemberLink(*data)


@dataclass(frozen=True)
class PageLink:
    """A member's personal page link: who, and when it was made (UTC, whole seconds)."""

    member_id: int
    issued_at: datetime


def make_page_token(secret: str, member_id: int, issued_at: datetime) -> str:
    return _serializer(secret, PAGE_PURPOSE).dumps([member_id, int(issued_at.timestamp())])


def read_page_token(secret: str, token: str) -> PageLink | None:
    """The link a genuine page token names (expired or not: see `page_link_expires`); None if forged."""
    try:
        data = _serializer(secret, PAGE_PURPOSE).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)
    ):
        return None
    return PageLink(data[0], datetime.fromtimestamp(data[1], tz=UTC))


def page_link_expires(issued_at: datetime, days: int) -> datetime:
    """When a page link made at `issued_at` stops working."""
    return issued_at + timedelta(days=days)


def page_link_works(link: PageLink, now: datetime, days: int) -> bool:
    """A link works from when it was made (a clock a little behind another host's is forgiven a minute)
    until `days` later."""
    return link.issued_at - timedelta(minutes=1) <= now < page_link_expires(link.issued_at, days)
