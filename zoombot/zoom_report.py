"""Pure: Zoom Report API answers as synthetic stored events, and which Report API failures are final.

Each participant-report row is kept as one `report.participant` event in `zoom_events` (source 'report'),
next to the webhook events of the same meeting instance, so attendance is always computed from stored
events by the one union in `zoombot.attendance`, and `attendance rebuild` reproduces it. Only the fields
attendance needs are kept: no IP address, location, device, network or customer data.

A row's identity is its content (like a webhook event's), so fetching the same report twice stores nothing
new. No I/O here.
"""
from __future__ import annotations

from typing import Any, Mapping

from zoombot.attendance import REPORT_EVENT
from zoombot.event_identity import event_key

__all__ = ["REPORT_EVENT", "ENDED_EVENT", "ROW_FIELDS", "participant_event", "ended_event", "dedupe_key",
           "is_unavailable", "UNAVAILABLE_CODES"]

ENDED_EVENT = "meeting.ended"
#: The report-row fields zoombot keeps (identification, times, waiting-room status).
ROW_FIELDS = ("id", "user_id", "name", "user_email", "join_time", "leave_time", "duration", "registrant_id",
              "participant_user_id", "status")
#: Zoom error codes meaning "there is no report for this instance" (no paid plan / report scope,
#: meeting instance unknown or not yet reported, older than Zoom keeps reports).
UNAVAILABLE_CODES = frozenset({200, 1001, 3001, 12702})


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _object(meeting_id: str, meeting_uuid: str) -> dict[str, Any]:
    return {"id": str(meeting_id), "uuid": str(meeting_uuid)}


def participant_event(meeting_id: str, meeting_uuid: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The stored body for one participant-report row (only `ROW_FIELDS`, normalised to strings but
    `duration`, an integer of seconds)."""
    participant: dict[str, Any] = {}
    for key in ROW_FIELDS:
        if key == "duration":
            value = row.get(key)
            participant[key] = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
        else:
            participant[key] = _text(row.get(key)).strip()
    obj = _object(meeting_id, meeting_uuid)
    obj["participant"] = participant
    return {"event": REPORT_EVENT, "event_ts": 0, "payload": {"object": obj}}


def ended_event(meeting_id: str, meeting_uuid: str, details: Mapping[str, Any]) -> dict[str, Any] | None:
    """A `meeting.ended` body from GET /past_meetings/{uuid} (start_time, end_time, duration, topic), for an
    instance whose own meeting.ended webhook never arrived; None when Zoom gave no start and end."""
    start, end = _text(details.get("start_time")), _text(details.get("end_time"))
    if not start or not end:
        return None
    obj = _object(meeting_id, meeting_uuid)
    obj.update({"topic": _text(details.get("topic"))[:300], "start_time": start, "end_time": end})
    duration = details.get("duration")
    if isinstance(duration, int) and not isinstance(duration, bool):
        obj["duration"] = duration
    return {"event": ENDED_EVENT, "event_ts": 0, "payload": {"object": obj}}


def dedupe_key(body: Mapping[str, Any]) -> str:
    """The stored event's key (`zoombot.event_identity`), as for a webhook delivery."""
    return event_key(body.get("event"), body.get("event_ts"), body.get("payload"))


def is_unavailable(status: int | None, code: int | None) -> bool:
    """True when Zoom says there is no report to fetch (as opposed to a failure worth retrying soon)."""
    return status == 404 or (code is not None and code in UNAVAILABLE_CODES)
