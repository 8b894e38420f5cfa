"""When a community meets, and when each message about a meeting is due.

Pure functions: no database, no clock (``now`` is always passed in), no I/O.

Times of day are *local wall-clock* times: a community that meets at 18:30 in America/New_York meets at
18:30 before and after a DST change, so its UTC instant moves by an hour. Recurrence is therefore expanded
in naive local time (python-dateutil) and each result is then placed in the zone. Instants returned are
aware UTC.

Local times that do not exist or exist twice follow zoneinfo's ``fold=0`` rule:

* a time in the spring-forward gap (02:30 on the night clocks jump 02:00 -> 03:00) is read with the
  offset in force *before* the jump, so it lands one gap later (03:30 local, new offset);
* a time in the fall-back overlap (01:30 when 02:00 -> 01:00) is the *first* of the two (daylight time).

RRULE semantics follow RFC 5545, with these choices:

* The first meeting (``first_start_local``, i.e. DTSTART) is always an occurrence, even when it does not
  match the rule, and it counts towards COUNT.
* UNTIL may be UTC (``...Z``, the RFC form), a floating date-time (read as local wall time in the
  community's zone) or a date (up to the end of that local day).
* The time of day always comes from the first meeting: BYHOUR/BYMINUTE/BYSECOND and sub-daily
  frequencies are rejected, so there is at most one meeting per local day.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

__all__ = [
    "Cadence",
    "Occurrence",
    "Offsets",
    "PlannedMessage",
    "PlannedRow",
    "Replan",
    "MESSAGE_KINDS",
    "FACILITATOR_KINDS",
    "FOLLOWUP_LIFETIME",
    "occurrences",
    "validate_rrule",
    "validate_cadence",
    "zone",
    "until_instant",
    "plan_messages",
    "is_sendable",
    "replan",
]

UTC = UTC

#: Message kinds, in the order :func:`plan_messages` returns them.
MESSAGE_KINDS: tuple[str, ...] = ("facilitator_prep", "invite", "agenda", "reminder", "facilitator_closure", "followup")
#: Mail for those who run the meeting, under its own preference (unsubscribing from member mail never
#: stops it): agenda preparation before the meeting, the closure request after it.
FACILITATOR_KINDS: tuple[str, ...] = ("facilitator_prep", "facilitator_closure")
#: How long after it is due a follow-up is still worth sending.
FOLLOWUP_LIFETIME = timedelta(days=7)

_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_SUB_DAILY = ("SECONDLY", "MINUTELY", "HOURLY")
_KNOWN_PARTS = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "WKST",
    "BYSETPOS",
    "BYMONTH",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYDAY",
)
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_INT_RE = re.compile(r"^[+-]?[0-9]{1,4}$")
_COUNT_RE = re.compile(r"^[0-9]{1,4}$")
_BYDAY_RE = re.compile(r"^([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL_RE = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})(?:T([0-9]{2})([0-9]{2})([0-9]{2})(Z?))?$")
# (lowest, highest absolute value, negatives allowed) for each numeric BY* list; 0 is never allowed.
_BY_RANGES = {
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYSETPOS": (1, 366, True),
}
_MAX_RRULE_LENGTH = 1000
# Windows are clamped to this range so that local/UTC conversions near datetime.min/max cannot overflow.
_EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    """A community's meeting pattern, in the terms a facilitator uses (local wall time + a zone)."""

    first_start_local: datetime  # naive local wall time of the first meeting
    timezone: str  # IANA name, e.g. "America/New_York"
    duration_minutes: int
    rrule: str | None  # RFC 5545 RRULE body, "RRULE:" prefix tolerated; None = a single meeting


@dataclass(frozen=True)
class Occurrence:
    """One meeting. ``original_start`` is its identity, which stays the same if the meeting is moved.

    Compare instants with ``start``, not ``local_start``: in a fall-back hour Python never finds an
    ambiguous local time ``==`` to a UTC datetime (PEP 495).
    """

    original_start: datetime  # UTC
    start: datetime  # UTC
    end: datetime  # UTC
    local_start: datetime  # aware, in the community's zone (for people)


@dataclass(frozen=True)
class Offsets:
    """How long before (or after the end of) a meeting each message is due.

    Day offsets are exact 24-hour days before the UTC start, not calendar days: a message due "7 days
    before" a meeting just after a DST change arrives an hour earlier or later on the clock. It does not
    matter for a reminder e-mail and keeps the arithmetic exact. An offset of 0 for a pre-meeting kind
    gives an empty sending window (due and expiry both at the start), which switches that kind off.
    """

    facilitator_prep_days: int = 7
    invite_days: int = 14
    agenda_days: int = 2
    reminder_minutes: int = 60
    followup_hours: int = 2  # after the scheduled end
    closure_wait_hours: int = 24  # how long past its due time the follow-up waits for the closure

    def __post_init__(self) -> None:
        for name in (
            "facilitator_prep_days",
            "invite_days",
            "agenda_days",
            "reminder_minutes",
            "followup_hours",
            "closure_wait_hours",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True)
class PlannedMessage:
    """A message that may be sent from ``due_at`` (inclusive) until ``expires_at`` (exclusive)."""

    kind: str  # one of MESSAGE_KINDS
    due_at: datetime  # UTC
    expires_at: datetime  # UTC


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError (not KeyError) for an unknown or malformed name."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("timezone is required (an IANA name such as 'America/New_York')")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone {name!r} (expected an IANA name such as 'America/New_York')") from None


def _split_rrule(rrule: str) -> dict[str, str]:
    """Parse an RRULE body into ordered {NAME: VALUE}, checking structure only."""
    if not isinstance(rrule, str):
        raise ValueError(f"RRULE must be a string, got {type(rrule).__name__}")
    text = rrule.strip()
    if len(text) > _MAX_RRULE_LENGTH:
        raise ValueError(f"RRULE is too long (over {_MAX_RRULE_LENGTH} characters)")
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :].strip()
    if not text:
        raise ValueError("RRULE is empty")
    if any(ch in text for ch in "\r\n:") or not text.isprintable():
        raise ValueError(f"RRULE must be a single rule body such as 'FREQ=MONTHLY;BYDAY=2TU', got {rrule!r}")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue  # tolerate "FREQ=WEEKLY;" and ";;"
        name, sep, value = item.partition("=")
        name, value = name.strip().upper(), value.strip().upper().replace(" ", "")
        if not sep or not name or not value:
            raise ValueError(f"malformed RRULE part {item!r} (expected NAME=VALUE)")
        if name in parts:
            raise ValueError(f"RRULE part {name} is given twice")
        parts[name] = value
    return parts


def _int_list(name: str, value: str) -> list[int]:
    numbers = []
    for token in value.split(","):
        if not _INT_RE.match(token):
            raise ValueError(f"RRULE {name} must be a comma-separated list of integers, got {value!r}")
        numbers.append(int(token))
    return numbers


def _check_parts(parts: dict[str, str]) -> None:
    """Semantic checks dateutil does not do (or does silently wrong)."""
    for name in parts:
        if name in _TIME_PARTS:
            raise ValueError(f"RRULE {name} is not supported: the time of day comes from the first meeting")
        if name not in _KNOWN_PARTS:
            raise ValueError(f"unknown RRULE part {name}")
    freq = parts.get("FREQ")
    if freq is None:
        raise ValueError("RRULE has no FREQ (e.g. 'FREQ=MONTHLY;BYDAY=2TU')")
    if freq in _SUB_DAILY:
        raise ValueError(f"RRULE FREQ={freq} is not supported: meetings repeat at most daily")
    if freq not in _FREQS:
        raise ValueError(f"invalid RRULE FREQ {freq!r} (expected one of {', '.join(_FREQS)})")
    for name in ("INTERVAL", "COUNT"):
        if name in parts and not (_COUNT_RE.match(parts[name]) and int(parts[name]) >= 1):
            raise ValueError(f"RRULE {name} must be a positive integer (at most 9999), got {parts[name]!r}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("RRULE must not have both COUNT and UNTIL (RFC 5545)")
    if "UNTIL" in parts:
        _parse_until(parts["UNTIL"])
    if "WKST" in parts and parts["WKST"] not in _WEEKDAYS:
        raise ValueError(f"invalid RRULE WKST {parts['WKST']!r}")
    for name, (low, high, signed) in _BY_RANGES.items():
        if name in parts:
            for number in _int_list(name, parts[name]):
                if number == 0 or abs(number) < low or abs(number) > high or (number < 0 and not signed):
                    raise ValueError(f"RRULE {name} value {number} is out of range")
    if "BYDAY" in parts:
        for token in parts["BYDAY"].split(","):
            match = _BYDAY_RE.match(token)
            if not match:
                raise ValueError(f"invalid RRULE BYDAY value {token!r} (expected e.g. TU, 2TU or -1FR)")
            if match.group(1) is not None:
                ordinal = int(match.group(1))
                if freq not in ("MONTHLY", "YEARLY"):
                    raise ValueError(f"RRULE BYDAY={token} (with an ordinal) needs FREQ=MONTHLY or FREQ=YEARLY")
                if ordinal == 0 or abs(ordinal) > (5 if freq == "MONTHLY" else 53):
                    raise ValueError(f"RRULE BYDAY ordinal in {token!r} is out of range")
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise ValueError("RRULE BYWEEKNO needs FREQ=YEARLY")
    if "BYYEARDAY" in parts and freq in ("DAILY", "WEEKLY", "MONTHLY"):
        raise ValueError(f"RRULE BYYEARDAY is not allowed with FREQ={freq}")
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise ValueError("RRULE BYMONTHDAY is not allowed with FREQ=WEEKLY")


def _parse_until(value: str) -> tuple[datetime | date, bool]:
    """UNTIL as (naive datetime or date, is_utc)."""
    match = _UNTIL_RE.match(value)
    if not match:
        raise ValueError(f"invalid RRULE UNTIL {value!r} (expected YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ)")
    year, month, day, hour, minute, second, z = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day)), False
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second)), z == "Z"
    except ValueError:
        raise ValueError(f"invalid RRULE UNTIL {value!r}: not a real date/time") from None


def _join(parts: dict[str, str], *, without: tuple[str, ...] = ()) -> str:
    names = ["FREQ"] + [name for name in parts if name != "FREQ"]
    return ";".join(f"{name}={parts[name]}" for name in names if name not in without)


@functools.lru_cache(maxsize=512)
def _check_matches_something(body_without_bounds: str) -> None:
    """Reject rules that can never match (e.g. BYMONTH=2;BYMONTHDAY=30). Cached: it can be slow for such rules."""
    probe = datetime(2000, 1, 1)  # a leap year start, so Feb 29 rules match
    try:
        found = rrulestr(body_without_bounds, dtstart=probe).after(probe, inc=True)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ValueError(f"invalid RRULE {body_without_bounds!r}: {exc}") from None
    if found is None:
        raise ValueError(f"RRULE {body_without_bounds!r} never matches any date")


def validate_rrule(rrule: str) -> str:
    """Check an RRULE body and return it normalised: upper case, no "RRULE:" prefix, FREQ first.

    ValueError, with a message fit for a facilitator, when it is malformed, not a meeting pattern
    (sub-daily, BYHOUR...) or can never match.
    """
    parts = _split_rrule(rrule)
    _check_parts(parts)
    _check_matches_something(_join(parts, without=("COUNT", "UNTIL")))
    return _join(parts)


def validate_cadence(cadence: Cadence) -> None:
    """Raise ValueError if :func:`occurrences` would reject this cadence (for forms, before saving)."""
    _prepare(cadence)


# --------------------------------------------------------------------------------------------------
# Occurrences
# --------------------------------------------------------------------------------------------------


def require_aware(name: str, value: datetime) -> datetime:
    """`value` in UTC; ValueError naming the argument when it is not an aware datetime."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _prepare(cadence: Cadence) -> tuple[ZoneInfo, datetime, str | None, Callable[[datetime], bool] | None]:
    tz = zone(cadence.timezone)
    first = cadence.first_start_local
    if not isinstance(first, datetime):
        raise ValueError("first_start_local must be a datetime")
    if first.tzinfo is not None:
        raise ValueError("first_start_local must be a naive local wall time (the zone goes in timezone)")
    duration = cadence.duration_minutes
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise ValueError(f"duration_minutes must be a positive integer, got {duration!r}")
    first = first.replace(microsecond=0, fold=0)
    if not _EARLIEST.replace(tzinfo=None) <= first <= _LATEST.replace(tzinfo=None):
        raise ValueError("first_start_local is out of range")
    if cadence.rrule is None:
        return tz, first, None, None
    body = validate_rrule(cadence.rrule)
    return tz, first, body, _until_predicate(_split_rrule(body).get("UNTIL"), tz)


def until_instant(value: str, tz: ZoneInfo) -> datetime:
    """The last UTC instant at which an occurrence may start under an RRULE's UNTIL: a UTC date-time as
    written, a floating one as wall time in the community's zone `tz`, a date up to the last second of
    that local day (occurrence starts are whole seconds). The one reading of UNTIL, for the schedule and
    for the `end_date_time` zoombot gives Zoom. ValueError for a malformed UNTIL or one out of range."""
    until, is_utc = _parse_until(value)
    if not isinstance(until, datetime):
        until = datetime.combine(until, time(23, 59, 59))
    if not _EARLIEST.replace(tzinfo=None) <= until < _LATEST.replace(tzinfo=None):
        raise ValueError(f"RRULE UNTIL {value!r} is out of range")
    return until.replace(tzinfo=UTC) if is_utc else until.replace(tzinfo=tz).astimezone(UTC)


def _until_predicate(value: str | None, tz: ZoneInfo) -> Callable[[datetime], bool] | None:
    """A test on an occurrence's UTC start for the rule's UNTIL (None when there is no UNTIL)."""
    if value is None:
        return None
    until, _ = _parse_until(value)
    if (until.date() if isinstance(until, datetime) else until) >= _LATEST.date():
        return None  # ends after anything occurrences() will ever look at
    try:
        limit = until_instant(value, tz)
    except ValueError:  # before year 2: nothing qualifies
        return lambda start: False
    return lambda start: start <= limit


def _to_utc(naive_local: datetime, tz: ZoneInfo) -> datetime:
    return naive_local.replace(tzinfo=tz).astimezone(UTC)  # fold=0: see the module docstring


def occurrences(cadence: Cadence, window_start: datetime, window_end: datetime) -> list[Occurrence]:
    """All occurrences starting in ``[window_start, window_end)``, sorted by start.

    Expanded in local wall time so the time of day survives DST changes; see the module docstring for
    gaps, overlaps and the RRULE choices. ValueError for an invalid rule, zone, duration or a naive window.
    The window is clamped to years 2..9997, so ``datetime.min``/``max`` bounds are safe.
    """
    window_start = max(require_aware("window_start", window_start), _EARLIEST)
    window_end = min(require_aware("window_end", window_end), _LATEST)
    tz, first, body, until_ok = _prepare(cadence)
    if window_end <= window_start:
        return []

    candidates: list[datetime] = [first]
    if body is not None:
        parts = _split_rrule(body)
        count = int(parts["COUNT"]) if "COUNT" in parts else None
        rule = rrulestr(_join(parts, without=("UNTIL", "COUNT")), dtstart=first)
        if count is not None and first not in rule:
            count -= 1  # DTSTART counts as the first of COUNT occurrences even off-pattern (RFC 5545)
        if count is None or count > 0:
            if count is not None:
                rule = rule.replace(count=count)
            # Local bounds with a margin wide enough for any UTC offset change; filtered exactly below.
            margin = timedelta(days=2)
            low = window_start.astimezone(tz).replace(tzinfo=None) - margin
            high = window_end.astimezone(tz).replace(tzinfo=None) + margin
            candidates.extend(rule.between(max(low, first), high, inc=True))

    duration = timedelta(minutes=cadence.duration_minutes)
    found: dict[datetime, Occurrence] = {}
    for naive in candidates:
        start = _to_utc(naive, tz)
        if not (window_start <= start < window_end) or start in found:
            continue
        if until_ok is not None and naive != first and not until_ok(start):
            continue
        found[start] = Occurrence(
            original_start=start, start=start, end=start + duration, local_start=start.astimezone(tz)
        )
    return [found[start] for start in sorted(found)]


# --------------------------------------------------------------------------------------------------
# Re-planning after the schedule changed
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRow:
    """An upcoming occurrence already planned (and perhaps announced): what :func:`replan` compares."""

    id: int
    planned_start: datetime  # UTC: where the schedule put it (its original start unless an edit moved it)
    start: datetime  # UTC: where it is now (differs from planned_start when it was moved in Zoom)
    end: datetime  # UTC


@dataclass(frozen=True)
class Replan:
    """What to do so the planned rows match the schedule again.

    ``move`` holds (row id, new planned start, new start, new end); a move whose start and end stay as they
    were (the schedule caught up with a move made in Zoom) only updates the planned start, so nobody is told.
    """

    create: tuple[Occurrence, ...]
    move: tuple[tuple[int, datetime, datetime, datetime], ...]
    cancel: tuple[int, ...]


def replan(rows: list[PlannedRow], wanted: list[Occurrence], timezone_name: str) -> Replan:
    """Pair the planned rows of a window with the occurrences the (possibly edited) schedule wants there.

    * A row planned where the schedule still wants a meeting stays; if only the length changed it moves
      (its end), unless it was moved in Zoom, which keeps Zoom's time.
    * A row and a wanted occurrence on the same local day (in the community's zone) are the same meeting
      at a new time: the row moves, keeping its identity (UID), so members get an update, not a cancellation
      and a second invitation.
    * Rows left over are cancelled; wanted occurrences left over are created.
    """
    tz = zone(timezone_name)
    unmatched_rows = {row.id: row for row in sorted(rows, key=lambda r: (r.planned_start, r.id))}
    by_planned = {row.planned_start: row for row in unmatched_rows.values()}
    moves: list[tuple[int, datetime, datetime, datetime]] = []
    left: list[Occurrence] = []
    for occ in wanted:
        row = by_planned.get(occ.start)
        if row is None or row.id not in unmatched_rows:
            left.append(occ)
            continue
        del unmatched_rows[row.id]
        moved_in_zoom = row.start != row.planned_start
        if not moved_in_zoom and row.end != occ.end:
            moves.append((row.id, occ.start, occ.start, occ.end))
    by_day: dict[date, list[PlannedRow]] = {}
    for row in unmatched_rows.values():
        by_day.setdefault(row.planned_start.astimezone(tz).date(), []).append(row)
    create: list[Occurrence] = []
    for occ in left:
        candidates = by_day.get(occ.start.astimezone(tz).date())
        if not candidates:
            create.append(occ)
            continue
        row = candidates.pop(0)
        del unmatched_rows[row.id]
        moves.append((row.id, occ.start, occ.start, occ.end))
    return Replan(create=tuple(create), move=tuple(moves), cancel=tuple(sorted(unmatched_rows)))


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------


def plan_messages(occ: Occurrence, offsets: Offsets) -> list[PlannedMessage]:
    """One PlannedMessage per kind, in MESSAGE_KINDS order.

    Everything sent before the meeting expires at its start: an invite or reminder for a meeting that
    has begun is noise. The closure request goes to facilitators at the scheduled end and is useful as
    long as the follow-up may still wait for a closure. The follow-up is due ``followup_hours`` after the
    scheduled end and stays useful for FOLLOWUP_LIFETIME after that.
    """
    start = require_aware("occ.start", occ.start)
    end = require_aware("occ.end", occ.end)
    followup_due = end + timedelta(hours=offsets.followup_hours)
    return [
        PlannedMessage("facilitator_prep", start - timedelta(days=offsets.facilitator_prep_days), start),
        PlannedMessage("invite", start - timedelta(days=offsets.invite_days), start),
        PlannedMessage("agenda", start - timedelta(days=offsets.agenda_days), start),
        PlannedMessage("reminder", start - timedelta(minutes=offsets.reminder_minutes), start),
        PlannedMessage("facilitator_closure", end, followup_due + timedelta(hours=offsets.closure_wait_hours)),
        PlannedMessage("followup", followup_due, followup_due + FOLLOWUP_LIFETIME),
    ]


def is_sendable(msg_due: datetime, msg_expires: datetime, now: datetime) -> bool:
    """True when ``msg_due <= now < msg_expires``: due, and not yet stale."""
    due = require_aware("msg_due", msg_due)
    expires = require_aware("msg_expires", msg_expires)
    return due <= require_aware("now", now) < expires
