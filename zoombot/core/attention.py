"""Pure: why a credit line needs a person's attention, gathered from every source into one queue.

A line is in the "needs attention" queue while it is still on its way to the registry (pending, or
approved and not yet submitted) and at least one source gives a reason. Each source is a function of
the line's facts returning a `Reason` or None; sources kept elsewhere (a member's claim, say) hand their
reasons in by line id (`gather(..., more=...)`), so adding one is one more entry, not a new queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from zoombot.core.deadlines import Due, due
from zoombot.core.registry_rows import registry_id_ok


@dataclass(frozen=True)
class LineFacts:
    line_id: int
    session_id: int
    status: str
    submitted: bool
    member_id: int | None
    registry_id: str | None
    flagged: bool
    flag_reason: str | None
    override_reason: str | None
    proposal: str | None  # a facilitator's: "confirmed" | "disputed"
    note: str | None
    corrects_id: int | None


@dataclass(frozen=True)
class Reason:
    kind: str  # one of KINDS: the line's own sources, and `claim` (a member's, `zoombot.store.claims`)
    text: str


OPEN = ("pending", "approved")


def is_open(line: LineFacts) -> bool:
    return line.status in OPEN and not line.submitted


def _unmatched(line: LineFacts, pattern: str) -> Reason | None:
    return Reason("unmatched", "no member matched") if line.member_id is None else None


def _flagged(line: LineFacts, pattern: str) -> Reason | None:
    return Reason("flagged", line.flag_reason or "flagged") if line.flagged else None


def _registry_id(line: LineFacts, pattern: str) -> Reason | None:
    if line.member_id is None:
        return None
    if not line.registry_id:
        return Reason("no_registry_id", "the member has no registry id")
    if not registry_id_ok(pattern, line.registry_id):
        return Reason("no_registry_id", f"registry id {line.registry_id} does not look like the registry's")
    return None


def _overridden(line: LineFacts, pattern: str) -> Reason | None:
    return Reason("overridden", f"over the session's cap: {line.override_reason}") if line.override_reason else None


def _disputed(line: LineFacts, pattern: str) -> Reason | None:
    if line.proposal == "disputed":
        return Reason("disputed", f"facilitator disputes it: {line.note}" if line.note else "facilitator disputes it")
    return None


def _correction(line: LineFacts, pattern: str) -> Reason | None:
    return Reason("correction", f"correction of submitted line {line.corrects_id}") if line.corrects_id else None


SOURCES: list[Callable[[LineFacts, str], Reason | None]] = [
    _unmatched,
    _flagged,
    _registry_id,
    _overridden,
    _disputed,
    _correction,
]
KINDS = ("unmatched", "flagged", "no_registry_id", "overridden", "disputed", "correction", "claim")


def reasons(line: LineFacts, pattern: str = "") -> list[Reason]:
    found = [source(line, pattern) for source in SOURCES] if is_open(line) else []
    return [reason for reason in found if reason is not None]


def gather(
    lines: Iterable[LineFacts], *, pattern: str = "", more: Mapping[int, Sequence[Reason]] | None = None
) -> dict[int, list[Reason]]:
    """line id -> its reasons, for the lines that have any. `more`: reasons of other sources, by line id
    (counted only while the line is open)."""
    more = more or {}
    out: dict[int, list[Reason]] = {}
    for line in lines:
        found = reasons(line, pattern) + (list(more.get(line.line_id, ())) if is_open(line) else [])
        if found:
            out[line.line_id] = found
    return out


@dataclass
class SessionItem:
    """One session of the queue: its lines' reasons and when the registry wants it."""

    session_id: int
    local_date: date
    due: Due | None
    lines: list[tuple[int, list[Reason]]]


def queue(
    sessions: Mapping[int, date],
    found: Mapping[int, list[Reason]],
    line_session: Mapping[int, int],
    *,
    submission_days: int,
    today: date,
) -> list[SessionItem]:
    """Sessions with lines needing attention, the soonest due first (then the oldest; then by id)."""
    by_session: dict[int, list[tuple[int, list[Reason]]]] = {}
    for line_id in sorted(found):
        by_session.setdefault(line_session[line_id], []).append((line_id, found[line_id]))
    items = [
        SessionItem(sid, sessions[sid], due(sessions[sid], submission_days, today), lines)
        for sid, lines in by_session.items()
    ]
    items.sort(key=lambda item: (item.due.date if item.due else item.local_date, item.local_date, item.session_id))
    return items
