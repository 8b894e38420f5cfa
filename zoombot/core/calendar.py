"""iCalendar (RFC 5545 / iTIP RFC 5546) invitations for one meeting occurrence.

Each occurrence is sent as its own single VEVENT, not as a recurring series: meetings are moved and
cancelled one at a time, and a single event is what every mail client handles the same way. The UID is
derived from the community and the occurrence's *original* start, so a moved or cancelled occurrence
updates the invitation people already have (with a higher SEQUENCE) instead of adding a second one.

Pure: builds bytes, sends nothing. Uses icalendar for escaping, line folding and CRLF endings, and its
zoneinfo-based VTIMEZONE generation so that DTSTART/DTEND carry the community's zone.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar

from zoombot.core.schedule import require_aware

__all__ = ["PRODID", "METHODS", "STATUSES", "event_uid", "build_ics"]

UTC = UTC
PRODID = "-//zoombot//CoP meetings//EN"
METHODS = ("REQUEST", "CANCEL")
STATUSES = ("CONFIRMED", "TENTATIVE", "CANCELLED")

# An address that is safe inside "mailto:" (no spaces, quotes, separators or a second "@").
# One "@", nothing that could break out of a property; a dotless domain (zoombot@localhost) is fine.
_EMAIL_RE = re.compile(r"^[^\s@<>\"'(),;:\\\[\]]+@[^\s@<>\"'(),;:\\\[\]]+$")
_DOMAIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def event_uid(community_id: int, original_start: datetime, domain: str) -> str:
    """The UID of one occurrence: the same for every update and the cancellation of that occurrence."""
    if isinstance(community_id, bool) or not isinstance(community_id, int) or community_id < 0:
        raise ValueError(f"community_id must be a non-negative integer, got {community_id!r}")
    if not isinstance(domain, str) or not _DOMAIN_RE.match(domain):
        raise ValueError(f"domain must be a host name such as 'cop.example.org', got {domain!r}")
    return f"cop-{community_id}-{require_aware('original_start', original_start):%Y%m%dT%H%M%SZ}@{domain.lower()}"


def _email(name: str, value: str) -> str:
    if not isinstance(value, str) or not _EMAIL_RE.match(value.strip()):
        raise ValueError(f"{name} is not a usable e-mail address: {value!r}")
    return value.strip()


def _text(value: str | None, *, single_line: bool) -> str:
    """Drop control characters (keeping newlines and tabs) and lone surrogates, which cannot be encoded."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if single_line:
        value = " ".join(value.split())
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def _vtimezone(tzid: str, start: datetime, end: datetime) -> icalendar.Timezone:
    # Only the transitions near the event: a full 1970-2038 history bloats every invitation.
    first = date(start.year - 1, 1, 1)
    last = date(end.year + 2, 1, 1)
    return icalendar.Timezone.from_tzid(tzid, first_date=first, last_date=last)


def build_ics(
    *,
    uid: str,
    sequence: int,
    start: datetime,
    end: datetime,
    tzid: str,
    summary: str,
    description: str,
    join_url: str | None,
    organizer_email: str,
    organizer_name: str | None = None,
    attendee_email: str | None = None,
    method: str = "REQUEST",
    status: str = "CONFIRMED",
    stamp: datetime,
) -> bytes:
    """A VCALENDAR with one VEVENT (and the VTIMEZONE it uses), as bytes ready to attach.

    ``start``/``end``/``stamp`` are aware instants (any zone); DTSTART/DTEND are written as local times
    with ``TZID=tzid``, except for UTC zones, which icalendar writes in the RFC's UTC form (``...Z``, no
    VTIMEZONE needed). METHOD:CANCEL always carries STATUS:CANCELLED, whatever ``status`` says.
    The join link is added to the description unless it is already in it, and is also the LOCATION and
    URL, because clients show one or the other. ATTENDEE carries RSVP=TRUE on a REQUEST only: nobody is
    asked to reply to a cancellation.
    """
    method = (method or "").upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    status = "CANCELLED" if method == "CANCEL" else (status or "").upper()
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    if not isinstance(uid, str) or not uid.strip() or any(ch in uid for ch in "\r\n"):
        raise ValueError("uid must be a non-empty single-line string")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise ValueError(f"sequence must be a non-negative integer, got {sequence!r}")
    start_utc, end_utc = require_aware("start", start), require_aware("end", end)
    if end_utc <= start_utc:
        raise ValueError("end must be after start")
    if not isinstance(tzid, str) or not tzid.strip():
        raise ValueError("tzid is required")
    try:
        zone = ZoneInfo(tzid)
    except (KeyError, ValueError, OSError):
        raise ValueError(f"unknown timezone {tzid!r}") from None
    organizer = _email("organizer_email", organizer_email)
    attendee = _email("attendee_email", attendee_email) if attendee_email is not None else None
    if join_url is not None and (
        not join_url.lower().startswith(("https://", "http://"))
        or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in join_url)
    ):
        raise ValueError("join_url must be an http(s) URL without spaces, or None")

    text = _text(description, single_line=False)
    if join_url and join_url not in text:
        text = f"{text.rstrip()}\n\nJoin the meeting: {join_url}" if text.strip() else f"Join the meeting: {join_url}"

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)

    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", require_aware("stamp", stamp))
    event.add("dtstart", _local_or_utc(start_utc, zone))
    event.add("dtend", _local_or_utc(end_utc, zone))
    event.add("summary", _text(summary, single_line=True))
    event.add("description", text)
    if join_url:
        event.add("location", join_url)
        event.add("url", join_url)
    event.add("status", status)
    event.add("transp", "OPAQUE")

    organizer_address = icalendar.vCalAddress(f"mailto:{organizer}")
    name = _text(organizer_name, single_line=True)
    if name:
        organizer_address.params["CN"] = name
    event.add("organizer", organizer_address)
    if attendee is not None:
        attendee_address = icalendar.vCalAddress(f"mailto:{attendee}")
        attendee_address.params["CUTYPE"] = "INDIVIDUAL"
        attendee_address.params["ROLE"] = "REQ-PARTICIPANT"
        if method == "REQUEST":
            attendee_address.params["PARTSTAT"] = "NEEDS-ACTION"
            attendee_address.params["RSVP"] = "TRUE"
        event.add("attendee", attendee_address)
    cal.add_component(event)
    # icalendar writes UTC zones as "...Z" and names any other zone by TZID; each named zone needs a
    # VTIMEZONE, placed before the event for clients that read in one pass.
    for missing in sorted(cal.get_missing_tzids()):
        cal.subcomponents.insert(0, _vtimezone(missing, start_utc.astimezone(zone), end_utc.astimezone(zone)))
    ical: bytes = cal.to_ical()  # icalendar is read without types (pyproject's mypy overrides)
    return ical


def _local_or_utc(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant in the community's zone, unless its wall time is the repeated hour when clocks go back:
    RFC 5545 reads such a local time as its first occurrence, so the second one is written in UTC."""
    local = instant.astimezone(zone)
    if local.fold and local.replace(fold=0).astimezone(UTC) != instant:
        return instant.astimezone(UTC)
    return local
