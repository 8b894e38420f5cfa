"""Signed links that let a member act for one community without an account.

Each token names a purpose (unsubscribe, sending resources), a member and a community, and is signed
with the web secret (itsdangerous), so nobody can forge one for someone else. Tokens do not expire:
an unsubscribe link in a year-old message must still work. Nothing personal is inside, only ids.
"""
from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from zoombot.runtime import Runtime

PURPOSES = ("unsubscribe", "resources")


@dataclass(frozen=True)
class MemberLink:
    member_id: int
    community_id: int


def signing_secret(runtime: Runtime) -> str:
    """The same secret the web app signs sessions with, so links made by the jobs verify in the app."""
    return runtime.settings.web.secret_key or runtime.instance_secret("web_secret_key")


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeSerializer(secret, salt=f"zoombot.{purpose}")


def make_token(secret: str, purpose: str, link: MemberLink) -> str:
    return _serializer(secret, purpose).dumps([link.member_id, link.community_id])


def read_token(secret: str, purpose: str, token: str) -> MemberLink | None:
    """The link a genuine token names; None for anything forged, altered or made for another purpose."""
    try:
        data = _serializer(secret, purpose).loads(token)
    except BadSignature:
        return None
    if (not isinstance(data, list) or len(data) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)):
        return None
    return MemberLink(member_id=data[0], community_id=data[1])
