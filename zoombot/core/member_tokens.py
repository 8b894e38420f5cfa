"""Signed links that let a member act for one community without an account.

Each token names a purpose (unsubscribing from member mail or from facilitator mail, sending resources,
recording a meeting's closure), a member and a community (and, for a closure, the meeting), and is signed
with the web secret (itsdangerous), so nobody can forge one for someone else or use it for another
purpose. Tokens do not expire: an unsubscribe link in a year-old message must still work (a closure link
still checks, when used, that its holder may record the closure). Nothing personal is inside, only ids.
"""
from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

#: Purpose -> whether its links name a meeting (an occurrence) too.
PURPOSES = {"unsubscribe": False, "facilitator_unsubscribe": False, "resources": False, "closure": True}


@dataclass(frozen=True)
class MemberLink:
    member_id: int
    community_id: int
    occurrence_id: int | None = None


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    if purpose not in PURPOSES:
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
    if (not isinstance(data, list) or len(data) != size
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)):
        return None
    return MemberLink(*data)
