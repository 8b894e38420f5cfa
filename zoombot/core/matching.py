"""Participant -> member: registrant e-mail or e-mail (case-insensitive), else a match staff made before.

Pure: callers hand in the lookups. A participant that matches nobody is kept and listed, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping


def match_member(
    identity_key: str, email: str, *, aliases: Mapping[str, int], members_by_email: Mapping[str, int]
) -> tuple[int | None, str | None]:
    """(member_id, method) where method is 'staff' (remembered match), 'email', or (None, None)."""
    if identity_key in aliases:
        return aliases[identity_key], "staff"
    email = (email or "").strip().lower()
    if email and email in members_by_email:
        return members_by_email[email], "email"
    return None, None
