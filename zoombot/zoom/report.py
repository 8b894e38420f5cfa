"""Pure: Zoom Report API answers as synthetic stored events, and which Report API failures are final.

Each participant-report row is kept as one `report.participant` event in `zoom_events` (source 'report'),
next to the webhook events of the same meeting instance, so attendance is always computed from stored
events by the one union in `zoombot.core.attendance`, and `attendance rebuild` reproduces it. Only the fields
attendance needs are kept: no IP address, location, device, network or customer data. The meeting's
`host_id` is kept beside them, as in a webhook event, because a report row has no host flag of its own:
attendance knows the host as the participant whose `id` is the meeting's `host_id`.

A row's identity is its content (like a webhook event's), so fetching the same report twice stores nothing
new. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoombot.core.attendance import REPORT_EVENT
from zoombot.core.event_identity import event_key

__all__ = [
    "REPORT_EVENT",
    "ENDED_EVENT",
    "ROW_FIELDS",
    "participant_event",
    "ended_event",
    "dedupe_key",
    "host_of",
    "is_unavailable",
    "UNAVAILABLE_CODES",
]

ENDED_EVENT = "meeting.ended"
#: The report-row fields zoombot keeps (identification, times, waiting-room status).
ROW_FIELDS = (
    "id",
    "user_id",
    "name",
    "user_email",
    "join_time",
    "leave_time",
    "duration",
    "registrant_id",
    "participant_user_id",
    "status",
)
#: Zoom error codes meaning "there is nothing to fetch for this instance", per endpoint, from the Meetings
#: OpenAPI spec (a code means different things on different endpoints). Both: 200 no paid plan or no
#: permission, 3001 instance unknown or expired, 12702 more than a year ago, and 1001 user does not
#: exist. GET /past_meetings/{uuid}: 300 "cannot access meeting information". GET /report/meetings/{uuid}/
#: participants: 1010 "user does not belong to this account".
UNAVAILABLE_CODES = {
    "past_meeting": frozenset({200, 300, 1001, 3001, 12702}),
    "report": frozenset({200, 1001, 1010, 3001, 12702}),
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _object(meeting_id: str, meeting_uuid: str, host_id: Any = "") -> dict[str, Any]:
    obj = {"id": str(meeting_id), "uuid": str(meeting_uuid)}
    if _text(host_id).strip():
        obj["host_id"] = _text(host_id).strip()
    return obj


def host_of(bodies: Iterable[Mapping[str, Any]]) -> str:
    """The meeting's host id as the first of these stored event bodies that names one gives it, or ""."""
    for body in bodies:
        payload = body.get("payload") if isinstance(body, Mapping) else None
        obj = payload.get("object") if isinstance(payload, Mapping) else None
        host_id = obj.get("host_id") if isinstance(obj, Mapping) else None
        if host_id:
            return str(host_id)
    return ""


def participant_event(meeting_id: str, meeting_uuid: str, row: Mapping[str, Any], host_id: str = "") -> dict[str, Any]:
    """The stored body for one participant-report row (only `ROW_FIELDS`, normalised to strings but
    `duration`, an integer of seconds), with the meeting's `host_id` when known."""
    participant: dict[str, Any] = {}
    for key in ROW_FIELDS:
        if key == "duration":
            value = row.get(key)
            participant[key] = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
        else:
            participant[key] = _text(row.get(key)).strip()
    obj = _object(meeting_id, meeting_uuid, host_id)
    obj["participant"] = participant
    return {"event": REPORT_EVENT, "event_ts": 0, "payload": {"object": obj}}


def ended_event(meeting_id: str, meeting_uuid: str, details: Mapping[str, Any]) -> dict[str, Any] | None:
    """A `meeting.ended` body from GET /past_meetings/{uuid} (start_time, end_time, duration, topic), for an
    instance whose own meeting.ended webhook never arrived; None when Zoom gave no start and end."""
    start, end = _text(details.get("start_time")), _text(details.get("end_time"))
    if not start or not end:
        return None
    obj = _object(meeting_id, meeting_uuid, details.get("host_id"))
    obj.update({"topic": _text(details.get("topic"))[:300], "start_time": start, "end_time": end})
    duration = details.get("duration")
    if isinstance(duration, int) and not isinstance(duration, bool):
        obj["duration"] = duration
    return {"event": ENDED_EVENT, "event_ts": 0, "payload": {"object": obj}}


def dedupe_key(body: Mapping[str, Any]) -> str:
    """The stored event's key (`zoombot.core.event_identity`), as for a webhook delivery."""
    return event_key(body.get("event"), body.get("event_ts"), body.get("payload"))


def is_unavailable(status: int | None, code: int | None, endpoint: str = "report") -> bool:
    """True when Zoom says `endpoint` (report, past_meeting) has nothing for this instance, as opposed to a
    failure: the instance is then marked unavailable, and retried like one, never an error."""
    return status == 404 or (code is not None and code in UNAVAILABLE_CODES[endpoint])
