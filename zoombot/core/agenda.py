"""Agenda content for a Community of Practice meeting, as plain data.

The facilitator guidance says an agenda states objectives, reviews the community expectations and the
confidentiality rules, shares resources members sent (plus supplemental evidence-based materials), keeps
a parking lot of questions carried forward until closed, and closes with next steps; members take
roles (who takes notes, who keeps time), named on the agenda for each meeting. This module drafts
such an agenda from what the bot already knows, says which required parts the facilitator still has to
write, parses the facilitator's free text, and converts to and from JSON-able dicts for storage.

Pure: no database, no web framework, no rendering. Text is stored as typed; escaping is the renderer's
job. URLs are the exception: only http(s) links are ever kept, so no renderer can be handed a
``javascript:`` or ``data:`` link from here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_EXPECTATIONS",
    "DEFAULT_CONFIDENTIALITY",
    "FOLLOW_UP_PREFIX",
    "REQUIRED_SECTIONS",
    "MAX_ITEM_LENGTH",
    "MAX_URL_LENGTH",
    "Resource",
    "RoleAssignment",
    "Agenda",
    "draft_agenda",
    "clean_roles",
    "role_holder",
    "missing_sections",
    "parse_lines",
    "parse_resources",
    "refused_links",
    "safe_url",
    "to_dict",
    "from_dict",
]

#: Community norms reviewed at the start of every meeting unless the community has its own.
DEFAULT_EXPECTATIONS: tuple[str, ...] = (
    "Be present: join on time, silence notifications and stay for the whole session.",
    "Share the airtime: make room for every voice and keep contributions brief.",
    "Assume good intent, listen to understand, and disagree respectfully.",
    "Keep your camera on when you can, and use chat or reactions to take part.",
    "We start and end on time.",
)

#: Confidentiality rules reviewed at the start of every meeting unless the community has its own.
DEFAULT_CONFIDENTIALITY: tuple[str, ...] = (
    "What is shared here stays here.",
    "No recording, screenshots or copies of the chat.",
    "Talk about children, families and colleagues without names or other identifying details.",
    "Take the learning with you, not the stories: share what you learned, not who said it.",
    "Concerns about a child's safety are the exception: follow your program's reporting procedures.",
)

#: Prefix of the topics drafted from the previous meeting's next steps.
FOLLOW_UP_PREFIX = "Follow up: "
#: Sections that must not be empty before an agenda goes out, in agenda order.
REQUIRED_SECTIONS: tuple[str, ...] = ("objectives", "topics", "expectations", "confidentiality", "next_steps")
#: Longest item kept from free text (longer items are cut).
MAX_ITEM_LENGTH = 500
#: Longest URL accepted (matches the resource_submissions column).
MAX_URL_LENGTH = 2000

_TEXT_SECTIONS = ("objectives", "topics", "expectations", "confidentiality", "parking_lot", "next_steps")
_FORMAT_VERSION = 1
# "- item", "* item", "+ item", "1. item", "1) item": these need a space after them so that "-5 degrees"
# or "1.5 hours" survive. Typographic bullets never start real text, so no space is needed after them.
# Lettered lists ("a) item") are left alone: "A. Smith will present" is more likely than a lettered list.
_BULLET_RE = re.compile(r"^(?:[-*+]|\d{1,3}[.)])(?:\s+|$)|^[•‣◦▪▫●○■□–—·⁃]+\s*")
_SPACE_RE = re.compile(r"\s+")
_URL_SCHEMES = ("http", "https")


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A link or reading shared on the agenda; ``url`` is None for a title-only resource."""

    title: str
    url: str | None = None
    submitted_by: str | None = None


@dataclass(frozen=True)
class RoleAssignment:
    """Who holds a CoP role at this meeting (the member's name as it was when chosen, and their id)."""

    role: str
    name: str
    member_id: int | None = None


@dataclass(frozen=True)
class Agenda:
    """One meeting's agenda. Lists given to the constructor are stored as tuples (hashable, immutable)."""

    objectives: tuple[str, ...]
    topics: tuple[str, ...]
    expectations: tuple[str, ...]
    confidentiality: tuple[str, ...]
    resources: tuple[Resource, ...]
    parking_lot: tuple[str, ...]  # open items carried forward until closed
    next_steps: tuple[str, ...]
    roles: tuple[RoleAssignment, ...] = ()  # who facilitates, takes notes, keeps time... this meeting

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, (str, bytes)):
                raise TypeError(f"Agenda.{field.name} must be a sequence of items, not a single string")
            object.__setattr__(self, field.name, tuple(value))


# --------------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------------


def _clean_text(text: str, limit: int = MAX_ITEM_LENGTH) -> str:
    """One line: control characters out, whitespace runs to one space, at most ``limit`` characters."""
    # Controls and line/paragraph separators become spaces, lone surrogates (unencodable) go; format
    # characters (ZWJ in emoji, RTL marks) stay.
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text if unicodedata.category(ch) != "Cs"
    )
    text = _SPACE_RE.sub(" ", text).strip()
    return text[:limit].rstrip()


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """Non-empty items, cleaned, first spelling kept for case/space-insensitive duplicates."""
    if isinstance(items, str):
        raise TypeError("expected a sequence of items, not a single string (use parse_lines for text)")
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        text = _clean_text(item)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            kept.append(text)
    return tuple(kept)


def safe_url(url: str | None) -> str | None:
    """The URL stripped, if it is an absolute http(s) URL with a host; otherwise None.

    Anything else (``javascript:``, ``data:``, ``mailto:``, relative or protocol-relative links, URLs with
    spaces or control characters) is refused, because an agenda link is clicked by members. So is any
    user-info part (``https://user:pass@evil.example@good.example/``): it makes a link read as one site
    while it goes to another, and no shared reading needs a password in its address.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url) or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _URL_SCHEMES or not parts.netloc or not hostname or "@" in parts.netloc:
        return None
    return url


# --------------------------------------------------------------------------------------------------
# Drafting
# --------------------------------------------------------------------------------------------------


def _clean_resources(resources: Iterable[Resource]) -> tuple[Resource, ...]:
    seen: set[str] = set()
    kept: list[Resource] = []
    for resource in resources:
        url = safe_url(resource.url)
        title = _clean_text(resource.title or "") or (url or "")
        if not title:
            continue
        key = url if url is not None else "title:" + title.casefold()
        if key in seen:
            continue
        seen.add(key)
        by = _clean_text(resource.submitted_by) if resource.submitted_by else None
        kept.append(Resource(title=title, url=url, submitted_by=by or None))
    return tuple(kept)


def draft_agenda(
    *,
    previous: Agenda | None,
    open_parking_lot: Sequence[str],
    submitted_resources: Sequence[Resource],
    expectations: Sequence[str] | None = None,
    confidentiality: Sequence[str] | None = None,
    roles: Sequence[RoleAssignment] = (),
) -> Agenda:
    """A first draft for the facilitator to finish.

    * topics: one "Follow up: <step>" per next step of the previous meeting (reviewing them opens the
      meeting); the facilitator adds the rest;
    * parking_lot: ``open_parking_lot`` as given (the caller knows which items are closed, so the previous
      agenda's parking lot is deliberately not merged in);
    * resources: the members' submissions, de-duplicated, unsafe URLs dropped (title kept);
    * expectations / confidentiality: the community's own, or the defaults when None or empty;
    * roles: as given (the community's holders of each role), for the facilitator to change for this meeting;
    * objectives and next_steps: empty, they are the facilitator's to write (see :func:`missing_sections`).
    """
    follow_ups = _unique(previous.next_steps) if previous is not None else ()
    return Agenda(
        objectives=(),
        topics=_unique(FOLLOW_UP_PREFIX + step for step in follow_ups),
        expectations=_unique(expectations or ()) or DEFAULT_EXPECTATIONS,
        confidentiality=_unique(confidentiality or ()) or DEFAULT_CONFIDENTIALITY,
        resources=_clean_resources(submitted_resources),
        parking_lot=_unique(open_parking_lot),
        next_steps=(),
        roles=clean_roles(roles),
    )


def clean_roles(roles: Iterable[RoleAssignment]) -> tuple[RoleAssignment, ...]:
    """One person per role (the first given), names on one line, nameless entries dropped."""
    kept: dict[str, RoleAssignment] = {}
    for assignment in roles:
        role, name = _clean_text(assignment.role, 40), _clean_text(assignment.name, 200)
        if role and name and role not in kept:
            kept[role] = RoleAssignment(role=role, name=name, member_id=assignment.member_id)
    return tuple(kept.values())


def role_holder(agenda: Agenda, role: str) -> RoleAssignment | None:
    return next((a for a in agenda.roles if a.role == role), None)


def missing_sections(agenda: Agenda) -> list[str]:
    """Required sections (REQUIRED_SECTIONS order) that are still empty or only blank items."""
    return [
        name
        for name in REQUIRED_SECTIONS
        if not any(isinstance(item, str) and item.strip() for item in getattr(agenda, name))
    ]


# --------------------------------------------------------------------------------------------------
# Free text from the facilitator's form
# --------------------------------------------------------------------------------------------------


def _strip_bullet(line: str) -> str:
    return _BULLET_RE.sub("", line.strip(), count=1)


def parse_lines(text: str) -> tuple[str, ...]:
    """A textarea to items: one per line, list bullets and numbering removed, blanks dropped.

    Each item is one line of at most MAX_ITEM_LENGTH characters (longer ones are cut). Duplicates are kept:
    the facilitator typed them.
    """
    if not text:
        return ()
    items = (_clean_text(_strip_bullet(line)) for line in text.splitlines())
    return tuple(item for item in items if item)


def _split_resource_line(line: str) -> tuple[str, str | None]:
    """(title, url candidate) for "Title | url", "Title url", "url" or "Title"."""
    if "|" in line:
        title, _, candidate = line.rpartition("|")
        if candidate.strip() and (":" in candidate or candidate.strip().startswith("//")):
            return title.strip(), candidate.strip()
        return line, None
    head, _, last = line.rpartition(" ")
    if safe_url(last):  # "Title https://..." or "Title - https://..."
        return head.strip().rstrip("-–—:").strip(), last
    if ":" in line and " " not in line:
        return "", line  # a bare (possibly unsafe) URL
    return line, None


def _resource_lines(text: str) -> Iterator[tuple[str, str | None, str | None]]:
    """(title, URL candidate, the URL if it is safe) for each non-empty line of a resources textarea."""
    for raw in (text or "").splitlines():
        line = _clean_text(_strip_bullet(raw), limit=MAX_ITEM_LENGTH + MAX_URL_LENGTH + 3)
        if line:
            title, candidate = _split_resource_line(line)
            yield title, candidate, safe_url(candidate)


def parse_resources(text: str) -> tuple[Resource, ...]:
    """A textarea of resources, one per line: "Title | https://url", a bare URL, or a bare title.

    Only http(s) URLs are kept. A line whose URL is refused keeps its title, or the refused text itself
    as a plain title when there was nothing else (it is shown as text, never as a link): `refused_links`
    names them, for the person who typed them.
    """
    resources: list[Resource] = []
    for title, candidate, url in _resource_lines(text):
        title = _clean_text(title) or (url if url else _clean_text(candidate or ""))
        if title:
            resources.append(Resource(title=title, url=url))
    return tuple(resources)


def refused_links(text: str) -> tuple[str, ...]:
    """The lines of a resources textarea whose link was refused (see `safe_url`), by their title, else the
    refused text: kept as plain titles, so the person who typed them is told."""
    return tuple(
        _clean_text(title) or _clean_text(candidate or "")
        for title, candidate, url in _resource_lines(text)
        if candidate and url is None
    )


# --------------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------------


def to_dict(agenda: Agenda) -> dict[str, Any]:
    """A JSON-able dict (lists, strings, None) for the ``agendas.content`` column."""
    data: dict[str, Any] = {"version": _FORMAT_VERSION}
    for name in _TEXT_SECTIONS:
        data[name] = list(getattr(agenda, name))
    data["resources"] = [{"title": r.title, "url": r.url, "submitted_by": r.submitted_by} for r in agenda.resources]
    data["roles"] = [{"role": a.role, "name": a.name, "member_id": a.member_id} for a in agenda.roles]
    return data


def _str_list(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"agenda {name} must be a list of strings")
    return tuple(value)


def _optional_str(entry: dict[str, Any], name: str) -> str | None:
    value = entry.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"agenda resource {name} must be a string or null")
    return value


def from_dict(data: dict[str, Any]) -> Agenda:
    """The Agenda stored by :func:`to_dict`. Missing sections are empty (an empty ``{}`` is an empty agenda).

    ValueError for a malformed dict or a newer format version. Resource URLs that are not http(s) are
    dropped (the title is kept), so stored data cannot smuggle a dangerous link into a page or e-mail.
    """
    if not isinstance(data, dict):
        raise ValueError("agenda content must be a dict")
    version = data.get("version", _FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > _FORMAT_VERSION:
        raise ValueError(f"unsupported agenda format version {version!r}")
    raw_resources = data.get("resources") or []
    if not isinstance(raw_resources, list):
        raise ValueError("agenda resources must be a list")
    resources = []
    for entry in raw_resources:
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
            raise ValueError("each agenda resource must be a dict with a string title")
        url = _optional_str(entry, "url")
        resources.append(
            Resource(
                title=entry["title"],
                url=safe_url(url) if url is not None else None,
                submitted_by=_optional_str(entry, "submitted_by"),
            )
        )
    roles = []
    for entry in data.get("roles") or []:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(key), str) for key in ("role", "name")):
            raise ValueError("each agenda role must be a dict with a string role and name")
        member_id = entry.get("member_id")
        if member_id is not None and (not isinstance(member_id, int) or isinstance(member_id, bool)):
            raise ValueError("agenda role member_id must be an integer or null")
        roles.append(RoleAssignment(role=entry["role"], name=entry["name"], member_id=member_id))
    sections = {name: _str_list(data, name) for name in _TEXT_SECTIONS}
    return Agenda(resources=tuple(resources), roles=tuple(roles), **sections)
