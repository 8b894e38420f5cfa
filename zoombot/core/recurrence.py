"""Pure: a community's RRULE as Zoom's `recurrence` object, and the body that creates its recurring meeting.

Zoom expresses fewer schedules than RFC 5545 (daily, weekly on plain days, monthly on a day or an nth
weekday; a count or an end; intervals up to 99 days, 50 weeks or 10 months, from Zoom's Meetings OpenAPI
spec), so the translation says None for anything else and the caller keeps the schedule in zoombot only.
An RRULE UNTIL is read exactly as the schedule reads it (`zoombot.core.schedule.until_instant`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from zoombot.core.schedule import until_instant, zone

#: Occurrences created when an RRULE has neither COUNT nor UNTIL (Zoom insists on an end).
DEFAULT_END_TIMES = 50
#: Zoom's maximum for ``recurrence.end_times``.
MAX_END_TIMES = 60

_WEEKDAYS = {"SU": 1, "MO": 2, "TU": 3, "WE": 4, "TH": 5, "FR": 6, "SA": 7}
_FREQ_TYPES = {"DAILY": 1, "WEEKLY": 2, "MONTHLY": 3}
# Zoom's maxima for repeat_interval (Meetings OpenAPI spec, recurrence.repeat_interval): 99 days, 50 weeks,
# 10 months.
_MAX_INTERVAL = {1: 99, 2: 50, 3: 10}
_SUPPORTED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"}
_BYDAY_RE = re.compile(r"^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$")


def recurrence_from_rrule(
    rrule: str, *, end_times: int | None = None, start: date | None = None, timezone: str = "UTC"
) -> dict[str, Any] | None:
    """Map an RFC 5545 RRULE body to Zoom's ``recurrence`` object, or None when Zoom cannot express it.

    Supported: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL (Zoom maxima: 99 days, 50 weeks, 10 months),
    weekly BYDAY=MO,WE (plain days), monthly BYMONTHDAY=N (1..31) or BYDAY=<n>XX with n in -1, 1..4,
    COUNT (1..60) -> ``end_times``, UNTIL -> ``end_date_time`` (UTC), read as the schedule reads it
    (:func:`zoombot.core.schedule.until_instant`): a floating UNTIL is wall time in ``timezone`` (the meeting's
    zone), a date-only UNTIL the end of that local day, so Zoom keeps every occurrence zoombot plans.
    With neither COUNT nor UNTIL, ``end_times`` is the ``end_times`` argument (default 50), since Zoom
    requires an end. WKST is ignored.
    ``start`` (the first occurrence's date) supplies the day when a weekly rule has no BYDAY or a monthly
    rule has neither BYDAY nor BYMONTHDAY (RFC 5545 takes it from DTSTART); without it such rules give None.

    Returns None (caller should create a type-3 "no fixed time" meeting) for YEARLY/HOURLY/..., BYSETPOS,
    BYMONTH and other BY* parts, several monthly days, ordinals 5 / -2 etc., intervals or counts above
    Zoom's limits, and COUNT together with UNTIL. Raises ValueError for a syntactically broken rule
    (no FREQ, unparsable INTERVAL/COUNT/UNTIL, unknown weekday) or an ``end_times`` outside 1..60.
    """
    if end_times is not None and not (1 <= end_times <= MAX_END_TIMES):
        raise ValueError(f"end_times must be between 1 and {MAX_END_TIMES}")
    parts = _parse_rrule(rrule)

    if set(parts) - _SUPPORTED_PARTS:
        return None  # BYSETPOS, BYMONTH, BYYEARDAY, BYWEEKNO, BYHOUR, ... : not expressible
    freq = parts.get("FREQ")
    if freq is None:
        raise ValueError("RRULE has no FREQ")
    interval = _parse_positive_int(parts.get("INTERVAL", "1"), "INTERVAL")

    byday = _parse_byday(parts["BYDAY"]) if "BYDAY" in parts else None
    bymonthday = parts["BYMONTHDAY"].split(",") if "BYMONTHDAY" in parts else None

    if (
        freq == "DAILY"
        and byday is not None
        and bymonthday is None
        and interval == 1
        and all(ordinal is None for ordinal, _ in byday)
    ):
        freq = "WEEKLY"  # FREQ=DAILY;BYDAY=MO,WE,FR is the same set of dates as a weekly rule
    rec_type = _FREQ_TYPES.get(freq)
    if rec_type is None:
        return None
    if interval > _MAX_INTERVAL[rec_type]:
        return None

    recurrence: dict[str, Any] = {"type": rec_type, "repeat_interval": interval}
    if rec_type == 1:
        if byday is not None or bymonthday is not None:
            return None
    elif rec_type == 2:
        if bymonthday is not None:
            return None
        if byday is None:
            if start is None:
                return None
            days = [start.isoweekday() % 7 + 1]
        else:
            if any(ordinal is not None for ordinal, _ in byday):
                return None
            days = sorted({day for _, day in byday})
        recurrence["weekly_days"] = ",".join(str(day) for day in days)
    else:  # monthly
        if byday is not None and bymonthday is not None:
            return None
        if bymonthday is not None:
            if len(bymonthday) != 1:
                return None
            day_of_month = _parse_int(bymonthday[0], "BYMONTHDAY")
            if not 1 <= day_of_month <= 31:
                return None  # negative (from the end of the month) or invalid
            recurrence["monthly_day"] = day_of_month
        elif byday is not None:
            if len(byday) != 1:
                return None
            ordinal, day = byday[0]
            if ordinal not in (-1, 1, 2, 3, 4):
                return None  # every <day> of the month, the 5th <day>, second-to-last, ...
            recurrence["monthly_week"] = ordinal
            recurrence["monthly_week_day"] = day
        else:
            if start is None:
                return None
            recurrence["monthly_day"] = start.day

    if "COUNT" in parts and "UNTIL" in parts:
        return None  # forbidden by RFC 5545 and by Zoom
    if "COUNT" in parts:
        count = _parse_positive_int(parts["COUNT"], "COUNT")
        if count > MAX_END_TIMES:
            return None
        recurrence["end_times"] = count
    elif "UNTIL" in parts:
        recurrence["end_date_time"] = until_instant(parts["UNTIL"], zone(timezone)).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        recurrence["end_times"] = end_times if end_times is not None else DEFAULT_END_TIMES
    return recurrence


def meeting_body(
    *,
    topic: str,
    start_local: datetime,
    timezone: str,
    duration_minutes: int,
    rrule: str | None,
    agenda: str | None = None,
    end_times: int | None = None,
) -> dict[str, Any]:
    """The create-meeting request body for a recurring CoP session.

    Type 8 (recurring, fixed time) with a recurrence object when :func:`recurrence_from_rrule` can express
    the rule, else type 3 (recurring, no fixed time) without ``recurrence``; with no rule at all (None or
    empty) a single scheduled meeting, type 2. ``start_local`` is a naive local wall-clock time in
    ``timezone``; ``agenda`` is included only when given.
    """
    if start_local.tzinfo is not None:
        raise ValueError("start_local must be a naive local datetime (the zone goes in timezone)")
    if not timezone:
        raise ValueError("timezone is required")
    single = not (rrule or "").strip()
    recurrence = (
        None
        if single or rrule is None  # None is single; said again for the type checker
        else recurrence_from_rrule(rrule, end_times=end_times, start=start_local.date(), timezone=timezone)
    )
    body: dict[str, Any] = {
        "topic": topic,
        "type": 2 if single else (8 if recurrence is not None else 3),
        "start_time": start_local.strftime("%Y-%m-%dT%H:%M:%S"),
        "timezone": timezone,
        "duration": int(duration_minutes),
    }
    if agenda is not None:
        body["agenda"] = agenda
    if recurrence is not None:
        body["recurrence"] = recurrence
    body["settings"] = {
        "waiting_room": True,
        "join_before_host": False,
        "approval_type": 2,
        "mute_upon_entry": True,
        "auto_recording": "none",
    }
    return body


def _parse_rrule(rrule: str) -> dict[str, str]:
    text = (rrule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise ValueError(f"malformed RRULE part: {item!r}")
        if name in parts:
            raise ValueError(f"RRULE part {name} given twice")
        parts[name] = value.strip().upper()
    return parts


def _parse_int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"RRULE {name} is not an integer: {value!r}") from None


def _parse_positive_int(value: str, name: str) -> int:
    number = _parse_int(value, name)
    if number < 1:
        raise ValueError(f"RRULE {name} must be >= 1")
    return number


def _parse_byday(value: str) -> list[tuple[int | None, int]]:
    days: list[tuple[int | None, int]] = []
    for item in value.split(","):
        match = _BYDAY_RE.match(item.strip())
        if not match:
            raise ValueError(f"RRULE BYDAY has an invalid day: {item!r}")
        ordinal = int(match.group(1)) if match.group(1) else None
        if ordinal == 0:
            raise ValueError("RRULE BYDAY ordinal cannot be 0")
        days.append((ordinal, _WEEKDAYS[match.group(2)]))
    return days
