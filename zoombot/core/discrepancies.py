"""Pure: what the Zoom report changed compared with the webhook events alone, in words staff can read.

`find` compares each person's attendance computed three ways: from the webhook events only, from the
report rows only, and from both (the union that counts). The merged figure is never below the webhook
one, so the report can only add time; it is "shorter" only as information (the webhook time is kept).
Entries name participants by display name only. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zoombot.core.attendance import MeetingAttendance, Person, Who

__all__ = ["find", "KINDS", "describe_seconds"]

#: no_webhooks: nothing but the report knows this instance's participants (e.g. a backfilled meeting);
#: missed_participant: a person the webhooks never showed; missed_join: a leave whose join never came;
#: extra_time: other time only the report shows; report_shorter: the report shows less than the webhooks.
KINDS = ("no_webhooks", "missed_participant", "missed_join", "extra_time", "report_shorter")


def describe_seconds(seconds: int) -> str:
    """4530 -> '1 h 15 min 30 s'; 600 -> '10 min'; 0 -> '0 s'."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


def _identity(person: Person) -> set[str]:
    own = Who(person.registrant_id, person.email, person.user_id, person.name).own_keys()
    return {person.key, *(key for key in own if key != "name:")}


def _matching(people: Iterable[Person], target: Person) -> list[Person]:
    """The people of a partial computation that are (part of) `target` in the merged one."""
    wanted = _identity(target)
    return [p for p in people if _identity(p) & wanted]


def _label(person: Person) -> str:
    return person.name or "a participant without a display name"


def _entry(kind: str, person: Person | None, seconds: int, detail: str) -> dict[str, Any]:
    return {"kind": kind, "participant": person.name if person else "", "seconds": int(seconds), "detail": detail}


def find(
    webhook: MeetingAttendance,
    merged: MeetingAttendance,
    report: MeetingAttendance | None = None,
    *,
    tolerance_seconds: int = 60,
) -> list[dict[str, Any]]:
    """Discrepancies, sorted by kind then participant. `report_shorter` is listed only beyond
    `tolerance_seconds` (the two sources' clocks differ by a few seconds as a matter of course)."""
    if not any(p.attended_seconds or p.incomplete for p in webhook.people.values()):
        reported = [p for p in merged.people.values() if p.attended_seconds > 0]
        if not reported:
            return []
        total = len(reported)
        return [
            _entry(
                "no_webhooks",
                None,
                sum(p.attended_seconds for p in reported),
                f"No webhook attendance was received for this meeting; the attendance of {total} "
                f"participant{'s' if total != 1 else ''} comes from the Zoom report alone.",
            )
        ]
    out: list[dict[str, Any]] = []
    for person in merged.people.values():
        seen = _matching(webhook.people.values(), person)
        seen_seconds = sum(p.attended_seconds for p in seen)
        added = person.attended_seconds - seen_seconds
        name = _label(person)
        if not seen or (seen_seconds == 0 and not any(p.incomplete for p in seen)):
            if person.attended_seconds > 0:
                out.append(
                    _entry(
                        "missed_participant",
                        person,
                        person.attended_seconds,
                        f"{name} is missing from the webhook events; the Zoom report shows "
                        f"{describe_seconds(person.attended_seconds)} of attendance.",
                    )
                )
        elif added > 0 and any(p.incomplete for p in seen):
            out.append(
                _entry(
                    "missed_join",
                    person,
                    added,
                    f"A join of {name} never arrived by webhook; the Zoom report supplies {describe_seconds(added)}.",
                )
            )
        elif added > 0:
            out.append(
                _entry(
                    "extra_time",
                    person,
                    added,
                    f"The Zoom report adds {describe_seconds(added)} for {name} that the webhook events missed.",
                )
            )
        if report is not None and seen_seconds > 0:
            in_report = sum(p.attended_seconds for p in _matching(report.people.values(), person))
            shorter = seen_seconds - in_report
            if shorter > tolerance_seconds:
                out.append(
                    _entry(
                        "report_shorter",
                        person,
                        shorter,
                        f"The Zoom report shows {describe_seconds(shorter)} less than the webhook "
                        f"events for {name}; the webhook time is kept.",
                    )
                )
    order = {kind: i for i, kind in enumerate(KINDS)}
    out.sort(key=lambda e: (order[e["kind"]], e["participant"].casefold(), e["seconds"]))
    return out
