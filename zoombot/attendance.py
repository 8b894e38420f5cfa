"""Pure attendance: a meeting instance's events -> each person's merged intervals and attended seconds.

No I/O here. The rules (contract section 5):
- a person is identified by registrant id, then e-mail (lower-cased), then Zoom user id, then display
  name; events that share any of the first three belong to one person, so a laptop and a phone that
  both carry the e-mail are one person with two devices;
- a device (Zoom's `participant_uuid`, else the in-meeting `user_id`) is present from a join to the
  next leave; time in the waiting room is not presence, so "put in waiting room" ends it;
- attendance is the union of all of a person's device intervals, clipped to when the meeting was
  live; a join with no leave closes at the meeting's end (or `until` while it is still live); a leave
  whose join was never seen uses the join time Zoom reports with it, else it adds nothing and the
  person is marked `incomplete` (the Report API reconciliation fills such gaps);
- Report API rows are whole spans; they join the same union, so nothing is counted twice.
Events may come in any order and any number of times: everything is sorted and unioned first.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, NamedTuple

Span = tuple[datetime, datetime]

JOIN_EVENTS = {"meeting.participant_joined", "meeting.participant_admitted",
               "meeting.participant_joined_breakout_room"}
LEAVE_EVENTS = {"meeting.participant_left", "meeting.participant_put_in_waiting_room",
                "meeting.participant_left_breakout_room"}
REPORT_EVENT = "report.participant"
_ORDER = {"end": 0, "leave": 1, "start": 2, "join": 3}


def parse_time(value: Any) -> datetime | None:
    """Zoom's ISO 8601 times ("2026-10-13T22:30:10Z") -> aware UTC; anything else -> None."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11+ reads the trailing "Z"
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed if parsed.tzinfo is timezone.utc else parsed.astimezone(timezone.utc)


def normalize_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _text(p: dict[str, Any], key: str) -> str:
    value = p.get(key)
    if value is None or value == "":
        return ""
    if type(value) is str and value.isascii():  # nearly always: the short way
        return value.strip()
    value = value if isinstance(value, str) else str(value)
    if not value.isascii():  # JSON may carry lone surrogates ("\ud800"), which no database column can store
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.strip()


class Who(NamedTuple):
    """What Zoom tells about a person; only what identification and hours need is kept.

    Tuples rather than dataclasses: a statewide year is hundreds of thousands of them."""

    registrant_id: str = ""
    email: str = ""
    user_id: str = ""
    name: str = ""

    @classmethod
    def from_zoom(cls, p: dict[str, Any]) -> Who:
        return cls(_text(p, "registrant_id"), (_text(p, "email") or _text(p, "user_email")).lower(),
                   _text(p, "participant_user_id") or _text(p, "id"),
                   " ".join(_text(p, "user_name").split()) or " ".join(_text(p, "name").split()))

    def strong_keys(self) -> list[str]:
        keys = []
        if self.registrant_id:
            keys.append(f"registrant:{self.registrant_id}")
        if self.email:
            keys.append(f"email:{self.email}")
        if self.user_id:
            keys.append(f"user:{self.user_id}")
        return keys

    def own_keys(self) -> list[str]:
        """Identifiers in contract order; a person with none of the strong ones is known by name."""
        return self.strong_keys() or [self.name_key()]

    def name_key(self) -> str:
        return f"name:{normalize_name(self.name)}" if self.name else "name:"


_NOBODY = Who()


class Signal(NamedTuple):
    """One attendance fact from one event. `kind`: start, end (the meeting), join, leave, span."""

    kind: str
    at: datetime
    who: Who | None = None
    device: str = ""
    until: datetime | None = None      # end of a span, or a meeting end paired with `at` as its start
    join_time: datetime | None = None  # reported with a leave
    source: str = "webhook"
    is_host: bool = False

    def sort_key(self) -> tuple:
        return (self.at, _ORDER.get(self.kind, 9), self.until or self.at, self.device, self.who or _NOBODY,
                self.source)


def signals_from_event(name: str, body: Mapping[str, Any]) -> list[Signal]:
    """The attendance facts in one stored event (webhook or Report API row); [] for anything else."""
    payload = body.get("payload")
    payload = payload if isinstance(payload, dict) else {}  # JSON objects are dicts (and dict checks are cheap)
    obj = payload.get("object")
    obj = obj if isinstance(obj, dict) else {}
    if name == "meeting.started":
        at = parse_time(obj.get("start_time"))
        return [Signal("start", at)] if at else []
    if name == "meeting.ended":
        start, end = parse_time(obj.get("start_time")), parse_time(obj.get("end_time"))
        if end is None:
            return []
        return [Signal("end", start or end, until=end)]
    participant = obj.get("participant")
    participant = participant if isinstance(participant, dict) else None
    if participant is None:
        return []
    who = Who.from_zoom(participant)
    device = str(participant.get("participant_uuid") or participant.get("user_id") or who.name or "")
    host_id = str(obj.get("host_id") or "")
    is_host = bool(host_id) and str(participant.get("id") or "") == host_id
    if name == REPORT_EVENT:
        start, end = parse_time(participant.get("join_time")), parse_time(participant.get("leave_time"))
        if start is None or end is None or end <= start or participant.get("status") == "in_waiting_room":
            return []
        return [Signal("span", start, who, device, until=end, source="report", is_host=is_host)]
    if name in JOIN_EVENTS:
        at = parse_time(participant.get("join_time")) or parse_time(participant.get("date_time"))
        return [Signal("join", at, who, device, is_host=is_host)] if at else []
    if name in LEAVE_EVENTS:
        if name == "meeting.participant_left" and "breakout" in str(participant.get("leave_reason", "")).lower():
            return []  # moving into a breakout room is still attendance
        at = parse_time(participant.get("leave_time")) or parse_time(participant.get("date_time"))
        if at is None:
            return []
        return [Signal("leave", at, who, device, join_time=parse_time(participant.get("join_time")),
                       is_host=is_host)]
    return []


def union(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering exactly the input (touching spans are joined)."""
    merged: list[list[datetime]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def intersect(spans: Iterable[Span], windows: Iterable[Span]) -> list[Span]:
    windows = union(windows)
    out = []
    for start, end in union(spans):
        for w_start, w_end in windows:
            a, b = max(start, w_start), min(end, w_end)
            if b > a:
                out.append((a, b))
    return union(out)


def seconds(spans: Iterable[Span]) -> int:
    return int(sum((end - start).total_seconds() for start, end in union(spans)))


@dataclass
class Person:
    key: str
    name: str = ""
    email: str = ""
    registrant_id: str = ""
    user_id: str = ""
    is_host: bool = False
    devices: int = 0
    intervals: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    attended_seconds: int = 0
    incomplete: bool = False

    @property
    def first_join(self) -> datetime | None:
        return self.intervals[0][0] if self.intervals else None

    @property
    def last_leave(self) -> datetime | None:
        return max(end for _, end, _ in self.intervals) if self.intervals else None

    def spans(self) -> list[Span]:
        return [(a, b) for a, b, _ in self.intervals]


@dataclass
class MeetingAttendance:
    live: list[Span]
    people: dict[str, Person]

    @property
    def live_seconds(self) -> int:
        return seconds(self.live)


def live_windows(signals: Iterable[Signal], until: datetime | None) -> list[Span]:
    """When the meeting was live: each ended pair, plus a start with no end open until `until`."""
    signals = sorted(signals, key=Signal.sort_key)
    closed = [(s.at, s.until) for s in signals if s.kind == "end" and s.until]
    spans = list(closed)
    for s in signals:
        if s.kind == "start" and not any(a <= s.at <= b for a, b in closed):
            later_ends = [a for a, _ in closed if a >= s.at]
            end = min(later_ends) if later_ends else until
            if end is not None and end > s.at:
                spans.append((s.at, end))
    return union(spans)


RANK = ("registrant:", "email:", "user:", "name:")  # contract section 5: which identifier names a person


def identity_resolver(whos: Iterable[Who], merges: Mapping[str, str]) -> Callable[[Who], str]:
    """Who is who in one meeting: union-find over strong identifiers (people who share a registrant id,
    an e-mail or a Zoom user id are one person), staff merges applied; the person's key is their
    best-ranked identifier. Returns a function from a `Who` to that key."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    own_keys = functools.lru_cache(maxsize=None)(Who.own_keys)  # each person's events repeat their Who
    for who in whos:
        keys = own_keys(who)
        find(keys[0])
        for k in keys[1:]:
            link(keys[0], k)
    for source, target in merges.items():
        if source in parent or target in parent:
            link(source, target)
    members: dict[str, set[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), set()).add(node)
    chosen = {root: min(nodes, key=lambda k: (next(i for i, p in enumerate(RANK) if k.startswith(p)), k))
              for root, nodes in members.items()}

    def resolve(who: Who) -> str:
        keys = own_keys(who)
        return next((chosen[find(k)] for k in keys if k in parent), keys[0])
    return resolve


def compute(signals: Iterable[Signal], *, until: datetime | None = None,
            merges: Mapping[str, str] | None = None) -> MeetingAttendance:
    """Attendance of one meeting instance. `until`: now, for a meeting that is still live."""
    signals = sorted(set(signals), key=Signal.sort_key)
    live = live_windows((s for s in signals if s.kind in ("start", "end")), until)
    people_signals = [s for s in signals if s.who is not None]
    resolve = identity_resolver((s.who for s in people_signals), merges or {})
    keys = [resolve(s.who) for s in people_signals]
    people: dict[str, Person] = {}
    by_device: dict[tuple[str, str], list[Signal]] = {}
    for i, s in enumerate(people_signals):
        person = people.setdefault(keys[i], Person(key=keys[i]))
        who = s.who
        person.name = person.name or who.name
        person.email = person.email or who.email
        person.registrant_id = person.registrant_id or who.registrant_id
        person.user_id = person.user_id or who.user_id
        person.is_host = person.is_host or s.is_host
        by_device.setdefault((keys[i], s.device), []).append(s)
    close_at = live[-1][1] if live else until
    raw: dict[str, list[tuple[datetime, datetime, str]]] = {k: [] for k in people}
    for (key, _device), device_signals in by_device.items():
        present_since: datetime | None = None
        seen_join = False
        for s in device_signals:  # already in time order
            if s.kind == "span":
                raw[key].append((s.at, s.until, s.source))
            elif s.kind == "join":
                present_since = s.at if present_since is None else present_since
                seen_join = True
            elif s.kind == "leave":
                start = present_since if present_since is not None else s.join_time
                if start is None:
                    people[key].incomplete |= not seen_join  # a leave whose join never arrived
                elif s.at > start:
                    raw[key].append((start, s.at, s.source))
                present_since = None
        if present_since is not None and close_at is not None and close_at > present_since:
            raw[key].append((present_since, close_at, "webhook"))
    all_devices: Counter[str] = Counter()
    webhook_devices: Counter[str] = Counter()
    for (key, _device), device_signals in by_device.items():
        all_devices[key] += 1
        webhook_devices[key] += any(s.kind != "span" for s in device_signals)
    for key, person in people.items():
        person.devices = webhook_devices[key] or all_devices[key]
    for key, person in people.items():
        spans = [(a, b) for a, b, _ in raw[key]]
        if live:
            merged = intersect(spans, live)
        elif until is not None:
            merged = [(a, min(b, until)) for a, b in union(spans) if a < until]
        else:
            merged = union(spans)
        person.intervals = [(a, b, _source_of(a, b, raw[key])) for a, b in merged]
        person.attended_seconds = seconds(merged)
    return MeetingAttendance(live=live, people=people)


def _source_of(start: datetime, end: datetime, raw: list[tuple[datetime, datetime, str]]) -> str:
    """'webhook' if any webhook interval overlaps the merged span, else 'report' (found only there)."""
    sources = {src for a, b, src in raw if a < end and b > start}
    return "webhook" if "webhook" in sources or not sources else "report"
