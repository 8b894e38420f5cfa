"""Pure attendance: a session's events -> each person's merged intervals and attended seconds.

No I/O here. A *session* is one community occurrence, made of one or more Zoom meeting *instances*
(a host who ends the meeting by mistake and starts it again makes a second instance). The rules
(contract section 5):
- a person is identified by registrant id, then e-mail (lower-cased), then Zoom user id, then display
  name; events that share any of the first three belong to one person, across all of the session's
  instances, so a laptop and a phone that both carry the e-mail are one person with two devices;
  `meeting.participant_bind` (Zoom binding a phone caller to a computer participant) links the two, unless
  staff undid it; staff merges link too;
- a device (Zoom's `participant_uuid`, else the in-meeting `user_id`) is present from a join to its
  leave. Overlapping joins under one device count from the first join to the last leave (Moodle
  mod_zoom's 15:05/15:30/15:35/15:40 case is 35 minutes). At equal times a join comes before a leave,
  so a join and a leave in the same second are a zero-length visit, never an open one;
- time in the waiting room is not presence ("put in waiting room" ends it); breakout rooms are presence
  (they are tracked as a channel of their own beside the main room, so leaving for a breakout room and
  coming back never opens presence twice);
- attendance is the union of all of a person's device intervals, each instance's clipped to when that
  instance was live; a join with no leave closes at its instance's end (or `until` while it is live); a
  leave whose join was never seen uses the join time Zoom reports with it, else it adds nothing and the
  person is marked `incomplete` (the Report API reconciliation fills such gaps);
- Report API rows are whole spans; they join the same union, so nothing is counted twice.
Events may come in any order and any number of times: everything is sorted and unioned first.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from zoombot.core import intervals
from zoombot.core.intervals import Span
from zoombot.core.times import parse_time

JOIN_EVENTS = {"meeting.participant_joined", "meeting.participant_joined_breakout_room"}
ADMIT_EVENT = "meeting.participant_admitted"  # from the waiting room into the meeting
LEAVE_EVENTS = {
    "meeting.participant_left",
    "meeting.participant_put_in_waiting_room",
    "meeting.participant_left_breakout_room",
}
BREAKOUT_EVENTS = {"meeting.participant_joined_breakout_room", "meeting.participant_left_breakout_room"}
BIND_EVENT = "meeting.participant_bind"
REPORT_EVENT = "report.participant"
# At equal times: the meeting starts, people join, people leave, the meeting ends.
_ORDER = {"start": 0, "admit": 1, "join": 1, "transfer": 2, "leave": 3, "end": 4}

#: Longest identifier kept as Zoom sent it; a longer one is replaced by its hash (see `_identifier`).
MAX_IDENTIFIER = 64
MAX_EMAIL = 254  # RFC 5321's longest address
MAX_NAME = 200


def normalize_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    if value is None or value == "":
        return ""
    if type(value) is str and value.isascii():  # nearly always: the short way
        return value.strip()
    value = value if isinstance(value, str) else str(value)
    if not value.isascii():  # JSON may carry lone surrogates ("\ud800"), which no database column can store
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.strip()


def _identifier(value: str, limit: int) -> str:
    """An identifier that fits its column: as sent when short enough, else `sha256:` and its hash. A hash,
    not a cut, because two long ids that share a prefix must stay two people (a real Zoom id is far shorter:
    this only ever meets junk or an attack, which must not stop the meeting's credit)."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class Who(NamedTuple):
    """What Zoom tells about a person; only what identification and hours need is kept.

    Tuples rather than dataclasses: a statewide year is hundreds of thousands of them."""

    registrant_id: str = ""
    email: str = ""
    user_id: str = ""
    name: str = ""

    @classmethod
    def from_zoom(cls, p: Mapping[str, Any]) -> Who:
        name = " ".join(_text(p, "user_name").split()) or " ".join(_text(p, "name").split())
        return cls(
            _identifier(_text(p, "registrant_id"), MAX_IDENTIFIER),
            _identifier((_text(p, "email") or _text(p, "user_email")).lower(), MAX_EMAIL),
            _identifier(_text(p, "participant_user_id") or _text(p, "id"), MAX_IDENTIFIER),
            name[:MAX_NAME],
        )

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
    """One attendance fact from one event.

    `kind`: start, end (the meeting; an end carries its start in `at` and its end in `until`), join,
    admit (from the waiting room), leave, transfer (the main room left for a breakout room), span (a Report API
    row), bind (Zoom linked a phone caller, `link[:2]`, to a computer participant, `link[2:]`: participant uuid and user
    id each).
    `device` is the device and, for breakout rooms, the channel ("<device>#breakout")."""

    kind: str
    at: datetime
    who: Who | None = None
    device: str = ""
    until: datetime | None = None  # end of a span, or a meeting end paired with `at` as its start
    join_time: datetime | None = None  # reported with a leave
    source: str = "webhook"
    is_host: bool = False
    link: tuple[str, str, str, str] | None = None

    def sort_key(self) -> tuple[datetime, int, datetime, str, Who, str, tuple[str, ...]]:
        return (
            self.at,
            _ORDER.get(self.kind, 9),
            self.until or self.at,
            self.device,
            self.who or _NOBODY,
            self.source,
            self.link or (),
        )


def _device(participant: Mapping[str, Any], who: Who) -> str:
    return str(participant.get("participant_uuid") or participant.get("user_id") or who.name or "")


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
    if name == BIND_EVENT:
        return _bind(participant)
    who = Who.from_zoom(participant)
    device = _device(participant, who)
    host_id = str(obj.get("host_id") or "")
    is_host = bool(host_id) and str(participant.get("id") or "") == host_id
    if name == REPORT_EVENT:
        start, end = parse_time(participant.get("join_time")), parse_time(participant.get("leave_time"))
        if start is None or end is None or end <= start or participant.get("status") == "in_waiting_room":
            return []
        return [Signal("span", start, who, device, until=end, source="report", is_host=is_host)]
    if name in BREAKOUT_EVENTS:
        device += "#breakout"
    if name in JOIN_EVENTS or name == ADMIT_EVENT:
        at = parse_time(participant.get("join_time")) or parse_time(participant.get("date_time"))
        kind = "admit" if name == ADMIT_EVENT else "join"
        return [Signal(kind, at, who, device, is_host=is_host)] if at else []
    if name in LEAVE_EVENTS:
        at = parse_time(participant.get("leave_time")) or parse_time(participant.get("date_time"))
        if at is None:
            return []
        reason = str(participant.get("leave_reason", "")).lower()
        if name == "meeting.participant_left" and "waiting room" in reason:
            return []  # left from the waiting room: never was in the meeting
        if name == "meeting.participant_left" and "breakout" in reason:
            return [Signal("transfer", at, who, device, is_host=is_host)]  # still attending, in a breakout room
        return [Signal("leave", at, who, device, join_time=parse_time(participant.get("join_time")), is_host=is_host)]
    return []


def _bind(participant: Mapping[str, Any]) -> list[Signal]:
    ids = tuple(
        str(participant.get(key) or "")
        for key in ("participant_uuid", "user_id", "bind_participant_uuid", "bind_user_id")
    )
    at = parse_time(participant.get("date_time")) or parse_time(participant.get("join_time"))
    if at is None or not (ids[0] or ids[1]) or not (ids[2] or ids[3]):
        return []
    return [Signal("bind", at, link=ids)]  # type: ignore[arg-type]


# --- people ------------------------------------------------------------------------------------------------


@dataclass
class Person:
    key: str
    name: str = ""
    email: str = ""
    registrant_id: str = ""
    user_id: str = ""
    is_host: bool = False
    devices: int = 0  # the most devices present at the same moment
    rejoins: int = 0  # times the person came back after a gap in one instance
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


@dataclass(frozen=True)
class Bind:
    """Zoom said the phone caller `phone` is the computer participant `bound` (both own keys)."""

    phone: str
    bound: str
    applied: bool  # False when staff undid it


@dataclass
class Attendance:
    """A session's (or one instance's) attendance: when it was live, who was there, Zoom's binds."""

    live: list[Span]
    people: dict[str, Person]
    binds: list[Bind] = field(default_factory=list)
    live_by_instance: dict[str, list[Span]] = field(default_factory=dict)

    @property
    def live_seconds(self) -> int:
        return intervals.seconds(self.live)


MeetingAttendance = Attendance  # one instance is a session of one


@dataclass(frozen=True)
class Instance:
    """One Zoom meeting instance of a session: its attendance signals and where open presence ends
    (the instance's end; now while it is live)."""

    signals: Sequence[Signal]
    until: datetime | None = None


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
    return intervals.union(spans)


RANK = ("registrant:", "email:", "user:", "name:")  # contract section 5: which identifier names a person


def identity_resolver(
    whos: Iterable[Who], merges: Mapping[str, str], links: Iterable[tuple[str, str]] = ()
) -> Callable[[Who], str]:
    """Who is who: union-find over strong identifiers (people who share a registrant id, an e-mail or a
    Zoom user id are one person), Zoom's binds (`links`, pairs of own keys) and staff merges applied; the
    person's key is their best-ranked identifier. Returns a function from a `Who` to that key."""
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
    for a, b in links:
        link(a, b)
    for source, target in merges.items():
        if source in parent or target in parent:
            link(source, target)
    members: dict[str, set[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), set()).add(node)
    # "this participant is the same person as that one": the person staff named keeps their identity (and so
    # their line and member), whatever the two identifiers' rank; a target that is itself merged on is not
    # the final one (chains), and otherwise the best-ranked identifier names the person
    final_targets = set(merges.values()) - set(merges)
    chosen = {
        root: min(
            nodes,
            key=lambda k: (k not in final_targets, next(i for i, p in enumerate(RANK) if k.startswith(p)), k),
        )
        for root, nodes in members.items()
    }

    def resolve(who: Who) -> str:
        keys = own_keys(who)
        return next((chosen[find(k)] for k in keys if k in parent), keys[0])

    return resolve


def binds_of(instances: Mapping[str, list[Signal]], unbinds: Collection[frozenset[str]] = ()) -> list[Bind]:
    """Zoom's binds as pairs of own keys: a bind names devices (participant uuid or in-meeting user id,
    valid in its instance only), which are looked up among the instance's own signals."""
    out: list[Bind] = []
    for signals in instances.values():
        binds = [s for s in signals if s.kind == "bind"]
        if not binds:
            continue
        by_device: dict[str, Who] = {}
        for s in signals:
            if s.who is not None:
                by_device.setdefault(s.device.removesuffix("#breakout"), s.who)
        for s in binds:
            phone_uuid, phone_id, bound_uuid, bound_id = s.link  # type: ignore[misc]
            phone = by_device.get(phone_uuid) or by_device.get(phone_id)
            bound = by_device.get(bound_uuid) or by_device.get(bound_id)
            if phone is None or bound is None:
                continue
            pair = (phone.own_keys()[0], bound.own_keys()[0])
            if pair[0] != pair[1]:
                out.append(Bind(pair[0], pair[1], frozenset(pair) not in unbinds))
    return sorted(set(out), key=lambda b: (b.phone, b.bound))


def compute(
    signals: Iterable[Signal],
    *,
    until: datetime | None = None,
    merges: Mapping[str, str] | None = None,
    unbinds: Collection[frozenset[str]] = (),
) -> Attendance:
    """Attendance of one meeting instance. `until`: now, for a meeting that is still live; `merges` and
    `unbinds`: staff decisions, as for compute_session."""
    return compute_session({"": Instance(list(signals), until)}, merges=merges, unbinds=unbinds)


def compute_session(
    instances: Mapping[str, Instance],
    *,
    merges: Mapping[str, str] | None = None,
    unbinds: Collection[frozenset[str]] = (),
) -> Attendance:
    """Attendance of a session: every instance's events, one union of time per person.

    `instances`: by instance uuid; `merges`: staff merges (source key -> target key); `unbinds`: pairs of
    own keys whose Zoom bind staff undid."""
    ordered = {uuid: sorted(set(inst.signals), key=Signal.sort_key) for uuid, inst in instances.items()}
    live_by_instance = {
        uuid: live_windows((s for s in signals if s.kind in ("start", "end")), instances[uuid].until)
        for uuid, signals in ordered.items()
    }
    binds = binds_of(ordered, unbinds)
    resolve = identity_resolver(
        (s.who for signals in ordered.values() for s in signals if s.who is not None),
        merges or {},
        ((b.phone, b.bound) for b in binds if b.applied),
    )
    people: dict[str, Person] = {}
    # the person's name and e-mail are those of the participant whose identifier names them (the one staff
    # merged the other into, the computer a phone was bound to), else the first seen: the e-mail is what
    # matches a member, so a merge must not hand the credit to the other participant's member
    defining: dict[str, Who] = {}
    looked_at: set[Who] = set()
    raw: dict[str, list[tuple[datetime, datetime, str]]] = {}
    per_device: dict[str, list[list[Span]]] = {}  # each device's presence, for counting devices at once
    per_instance: dict[str, list[list[Span]]] = {}  # each instance's presence, for counting rejoins
    for uuid, signals in ordered.items():
        live, until = live_by_instance[uuid], instances[uuid].until
        close_at = live[-1][1] if live else until
        by_device: dict[tuple[str, str], list[Signal]] = {}
        for s in signals:
            if s.who is None:
                continue
            key = resolve(s.who)
            person = people.get(key)
            if person is None:
                person = people[key] = Person(key=key)
                raw[key] = []
            who = s.who
            if key not in defining and who not in looked_at:
                looked_at.add(who)
                if key in who.own_keys():
                    defining[key] = who
            person.name = person.name or who.name
            person.email = person.email or who.email
            person.registrant_id = person.registrant_id or who.registrant_id
            person.user_id = person.user_id or who.user_id
            person.is_host = person.is_host or s.is_host
            by_device.setdefault((key, s.device), []).append(s)
        devices: dict[tuple[str, str], list[tuple[datetime, datetime, str]]] = {}
        for (key, device), device_signals in by_device.items():
            spans, incomplete = _presence(device_signals, close_at)
            people[key].incomplete |= incomplete
            devices.setdefault((key, device.removesuffix("#breakout")), []).extend(spans)
        in_instance: dict[str, list[Span]] = {}
        for (key, _device), spans in devices.items():
            clipped = _clip([(a, b) for a, b, _ in spans], live, until)
            raw[key].extend((a, b, src) for a, b, src in spans)
            if clipped and any(src == "webhook" for _, _, src in spans):
                per_device.setdefault(key, []).append(clipped)
            in_instance.setdefault(key, []).extend(clipped)
        for key, instance_spans in in_instance.items():
            per_instance.setdefault(key, []).append(intervals.union(instance_spans))
    for key, who in defining.items():
        person = people[key]
        person.name = who.name or person.name
        person.email = who.email or person.email
        person.registrant_id = who.registrant_id or person.registrant_id
        person.user_id = who.user_id or person.user_id
    all_live = intervals.union(span for spans in live_by_instance.values() for span in spans)
    for key, person in people.items():
        merged = intervals.union(span for spans in per_instance.get(key, []) for span in spans)
        person.intervals = [(a, b, _source_of(a, b, raw[key])) for a, b in merged]
        person.attended_seconds = intervals.seconds(merged)
        person.devices = _most_at_once(per_device.get(key, [])) or (1 if merged else 0)
        person.rejoins = sum(max(len(spans) - 1, 0) for spans in per_instance.get(key, []))
    return Attendance(live=all_live, people=people, binds=binds, live_by_instance=live_by_instance)


def _presence(signals: list[Signal], close_at: datetime | None) -> tuple[list[tuple[datetime, datetime, str]], bool]:
    """One device's presence (in time order). A join (or an admission from the waiting room) starts it and a
    leave ends it; a join still open closes at `close_at`. Zoom's `participant_joined` after the admission
    of the same entry is the same presence. A second `participant_joined` while present is an overlapping
    join: the leave that later finds nothing open belongs to it and extends the presence (mod_zoom's
    15:05/15:30/15:35/15:40 is 15:05-15:40). Returns the spans and whether a leave came whose join was never
    seen."""
    out: list[tuple[datetime, datetime, str]] = []
    since: datetime | None = None
    joined = False  # the open presence has had its participant_joined
    extra = 0  # overlapping joins whose leaves are still to come
    returning = False  # left the main room for a breakout room: the next main join is the return
    seen_join = incomplete = False
    for s in signals:
        if s.kind == "span":
            out.append((s.at, s.until, s.source))  # type: ignore[arg-type]
        elif s.kind in ("join", "admit"):
            seen_join = True
            if since is None:
                since, joined, returning = s.at, s.kind == "join", False
            elif s.kind == "join":
                if returning:
                    returning = False
                elif joined:
                    extra += 1
                joined = True
        elif s.kind == "transfer":
            returning = since is not None
        elif s.kind == "leave":
            if since is not None:
                out.append((since, s.at, s.source))
                since, joined, returning = None, False, False
            elif extra and out:
                extra -= 1
                start, end, source = out[-1]
                out[-1] = (start, max(end, s.at), source)
            elif s.join_time is not None and s.at > s.join_time:
                out.append((s.join_time, s.at, s.source))
            elif s.join_time is None:
                incomplete |= not seen_join
    if since is not None and close_at is not None and close_at > since:
        out.append((since, close_at, "webhook"))
    return [span for span in out if span[1] > span[0]], incomplete


def _clip(spans: list[Span], live: list[Span], until: datetime | None) -> list[Span]:
    """An instance's presence, inside when it was live (or before `until` when its live time is unknown)."""
    if live:
        return intervals.intersect(spans, live)
    if until is not None:
        return intervals.clip(spans, until)
    return intervals.union(spans)


def _most_at_once(devices: list[list[Span]]) -> int:
    """The most devices present at one moment (touching is not overlapping)."""
    edges = sorted((t, step) for spans in devices for a, b in spans for t, step in ((a, 1), (b, -1)))
    most = count = 0
    for _, step in edges:  # at equal times -1 sorts first
        count += step
        most = max(most, count)
    return most


def _source_of(start: datetime, end: datetime, raw: list[tuple[datetime, datetime, str]]) -> str:
    """'webhook' if any webhook interval overlaps the merged span, else 'report' (found only there)."""
    sources = {src for a, b, src in raw if a < end and b > start}
    return "webhook" if "webhook" in sources or not sources else "report"


# kept for the callers that only need the arithmetic
union = intervals.union
intersect = intervals.intersect
seconds = intervals.seconds
