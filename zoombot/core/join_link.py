"""How members join a community's meeting: the link they click, the meeting id and passcode they type.

Every message about a meeting and its calendar file carry these. Where no link was given (by the operator,
by Zoom's API or a `meeting.updated` webhook), the standard `https://zoom.us/j/<meeting id>` opens the
meeting in any Zoom client or browser.

The passcode is never put into a link zoombot makes: the `pwd=` of Zoom's own links is an encrypted form
that only Zoom's servers produce (a plain passcode there is ignored and Zoom asks for it anyway, per Zoom's
developer forum). So it is shown as text beside the meeting id, which is what app and phone users type; a
link copied from Zoom, `pwd=` included, can be given with `--join-url` and is used as it is.

Pure: no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from zoombot.core.agenda import safe_url
from zoombot.core.digits import is_digits

STANDARD_HOST = "https://zoom.us/j/"
MAX_PASSCODE = 10
MAX_URL = 1000
# Zoom: at most 10 characters, letters, digits and a few symbols; nothing that could break a line or a URL.
_PASSCODE_RE = re.compile(r"^[A-Za-z0-9@\-_*!#$%^&+=.?]{1,10}$")
_MEETING_IN_PATH_RE = re.compile(r"/(?:j|w|wc/join)/([0-9]{9,12})(?:[/?#]|$)")


@dataclass(frozen=True)
class JoinDetails:
    url: str | None  # what members click (None only without a meeting id or a link)
    meeting_id: str | None  # grouped the way Zoom shows it, "812 3456 7890"
    passcode: str | None


def grouped(meeting_id: str) -> str:
    """Zoom's way of showing a meeting number: 9 digits 3-3-3, 10 digits 3-3-4, 11 digits 3-4-4."""
    groups = {9: (3, 3, 3), 10: (3, 3, 4), 11: (3, 4, 4), 12: (4, 4, 4)}.get(len(meeting_id))
    if groups is None or not is_digits(meeting_id):
        return meeting_id
    parts, at = [], 0
    for size in groups:
        parts.append(meeting_id[at : at + size])
        at += size
    return " ".join(parts)


def standard_url(meeting_id: str) -> str:
    return STANDARD_HOST + meeting_id


def join_details(*, zoom_meeting_id: str | None, join_url: str | None, passcode: str | None) -> JoinDetails:
    """What the messages show: the stored link if usable, else the standard one from the meeting id."""
    url = safe_url(join_url) if join_url else None
    if url is None and zoom_meeting_id:
        url = standard_url(zoom_meeting_id)
    return JoinDetails(
        url=url, meeting_id=grouped(zoom_meeting_id) if zoom_meeting_id else None, passcode=passcode or None
    )


def check_join_url(value: str | None, zoom_meeting_id: str | None) -> str | None:
    """A link an operator typed: None for empty (use the standard link), else an http(s) URL; ValueError
    with a one-line reason. A Zoom link naming another meeting number than the community's is refused:
    members would land in the wrong meeting and their attendance would not count."""
    text = (value or "").strip()
    if not text:
        return None
    url = safe_url(text)
    if url is None or len(url) > MAX_URL:
        raise ValueError(f"--join-url must be a complete https:// link (at most {MAX_URL} characters)")
    found = _MEETING_IN_PATH_RE.search(urlsplit(url).path + "/")
    if found and zoom_meeting_id and found.group(1) != zoom_meeting_id:
        raise ValueError(f"--join-url is for Zoom meeting {found.group(1)}, not this community's {zoom_meeting_id}")
    return url


def check_passcode(value: str | None) -> str | None:
    """None for empty; else Zoom's passcode rules (at most 10 characters, letters, digits, a few symbols)."""
    text = (value or "").strip()
    if not text:
        return None
    if not _PASSCODE_RE.match(text):
        raise ValueError(
            f"--passcode must be at most {MAX_PASSCODE} letters, digits or symbols such as @ - _ * "
            "(no spaces), as Zoom allows"
        )
    return text
