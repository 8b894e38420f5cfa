"""Pure retention rules: when a session's personal data may go, and what stripping it means.

Confidentiality asks that zoombot keep no more personal data than needed. Once a session's credit
lines are all settled (rejected, no credit, or approved and exported), and `[retention] days` have
passed since it ended, the names, e-mails, registrant ids, phone numbers, IP addresses and device
details in its raw events are no longer needed. They are replaced by pseudonyms that keep everything
hours depend on: each person becomes `user:anon:<hmac prefix>` (one stable pseudonym per person,
from the identity key zoombot already gave them), each device keeps a distinct opaque id, times and
the host flag stay. So attendance computed from the stripped events is the attendance of before, and
`zoombot attendance rebuild` leaves the lines alone. Lines and the audit trail stay. A member's claim on the
session must be decided first (it names a participant staff must still find); its words are then stripped. A session is
stripped as a whole (all its Zoom instances), because who is who is decided across all of them.

No I/O here: the retention job (`jobs/retention.py`, the shell) loads, calls these, checks, and stores.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from zoombot.core.attendance import Signal, Who, binds_of, signals_from_event
from zoombot.core.attendance import identity_resolver as attendance_identity_resolver
from zoombot.core.privacy import mask_emails

ANON_PREFIX = "anon:"
ANON_KEY_PREFIX = "user:" + ANON_PREFIX
REDACTED = "[redacted]"

#: In a participant object only these survive (times and what attendance needs), plus the pseudonyms.
PARTICIPANT_KEEP = frozenset({"join_time", "leave_time", "date_time", "duration", "status", "failover"})
#: Anywhere else in an event, keys that hold personal data, secrets or content, dropped with their value.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "user_email",
        "host_email",
        "registrant_email",
        "operator",
        "operator_id",
        "name",
        "user_name",
        "first_name",
        "last_name",
        "display_name",
        "participant_name",
        "phone",
        "phone_number",
        "phone_numbers",
        "caller_number",
        "callee_number",
        "address",
        "city",
        "zip",
        "state",
        "country",
        "org",
        "job_title",
        "comments",
        "custom_questions",
        "registrant_id",
        "participant_user_id",
        "customer_key",
        "user_id",
        "id_number",
        "ip",
        "ip_address",
        "public_ip",
        "private_ip",
        "location",
        "mac_addr",
        "pc_name",
        "device_name",
        "harddisk_id",
        "domain",
        "network_type",
        "microphone",
        "speaker",
        "camera",
        "password",
        "h323_password",
        "pstn_password",
        "encrypted_password",
        "start_url",
        "join_url",
        "registration_url",
        "alternative_hosts",
        "message",
        "chat_message",
        "content",
    }
)
IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")


# --- when ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineState:
    status: str  # pending | approved | rejected | no_credit
    exported_at: datetime | None


def is_due(
    ended_at: datetime | None, lines: Iterable[LineState], *, now: datetime, days: int, claims_open: bool = False
) -> bool:
    """A session's personal data may go once it ended over `days` ago, every line is settled (rejected, no
    credit, or approved and exported) and no member's claim on it is still open: staff resolve a claim
    back to the participant it names, which stripping would make impossible. A session without lines only
    waits."""
    if ended_at is None or ended_at > now - timedelta(days=days) or claims_open:
        return False
    return all(
        r.status in ("rejected", "no_credit") or (r.status == "approved" and r.exported_at is not None) for r in lines
    )


# --- pseudonyms ----------------------------------------------------------------------------------


def pseudonym(secret: str, value: str) -> str:
    """`anon:` + the first 16 hex digits of HMAC-SHA256(secret, value): stable, not reversible without
    the installation's secret (a plain hash of an e-mail could be confirmed by anyone holding a list)."""
    return ANON_PREFIX + hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def anonymous_key(secret: str, identity_key: str) -> str:
    """The identity key a person has once stripped (already-stripped keys are kept as they are)."""
    if identity_key.startswith(ANON_KEY_PREFIX):
        return identity_key
    return "user:" + pseudonym(secret, identity_key)


def inert_key(secret: str, identity_key: str) -> str:
    """A staff merge's keys once stripped: a pseudonym no event carries, so the merge stays on record
    without linking anything again (the merged people already share one pseudonym in the events)."""
    if identity_key.startswith(ANON_PREFIX):
        return identity_key
    return pseudonym(secret, "merge:" + identity_key)


# --- who is who in a meeting ----------------------------------------------------------------------


def identity_resolver(
    events: Iterable[tuple[str, Mapping[str, Any]]], merges: Mapping[str, str], unbinds: Iterable[frozenset[str]] = ()
) -> Callable[[Mapping[str, Any]], str]:
    """For one session: a function giving the identity key zoombot's attendance gives the person a
    participant object belongs to (`zoombot.core.attendance.identity_resolver` over the session's events, Zoom's
    binds and staff merges applied as in `zoombot.core.attendance.compute_session`)."""
    by_instance: dict[str, list[Signal]] = {}
    for name, body in events:
        by_instance.setdefault(str(_object(body).get("uuid") or ""), []).extend(signals_from_event(name, body))
    binds = binds_of(by_instance, frozenset(unbinds))
    resolve = attendance_identity_resolver(
        (signal.who for signals in by_instance.values() for signal in signals if signal.who is not None),
        merges,
        ((b.phone, b.bound) for b in binds if b.applied),
    )
    return lambda participant: resolve(Who.from_zoom(participant))


def device_of(participant: Mapping[str, Any]) -> str:
    """The device attendance tells apart (as in `zoombot.core.attendance.signals_from_event`)."""
    who = Who.from_zoom(participant)
    return str(participant.get("participant_uuid") or participant.get("user_id") or who.name or "")


def personal_values(participants: Iterable[Mapping[str, Any]]) -> set[str]:
    """Names, e-mails and ids found in participant objects, to be masked wherever free text repeats them."""
    found: set[str] = set()
    for p in participants:
        who = Who.from_zoom(p)
        for value in (
            who.name,
            who.email,
            who.registrant_id,
            who.user_id,
            str(p.get("phone_number") or ""),
            str(p.get("user_name") or ""),
            str(p.get("name") or ""),
            str(p.get("email") or ""),
            str(p.get("user_email") or ""),
        ):
            value = value.strip()
            digits = sum(c.isdigit() for c in value)
            if len(value) >= 3 and (any(c.isalpha() for c in value) or digits >= 7):  # not bits of a time
                found.add(value)
    return found


# --- stripping -----------------------------------------------------------------------------------


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """Free text with e-mail addresses, IPv4 addresses and the given personal values masked."""
    for value in sorted(set(known), key=len, reverse=True):
        if value in text:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", REDACTED, text)
    text = mask_emails(text, REDACTED)
    return IPV4.sub(REDACTED, text)


def strip_participant(participant: Mapping[str, Any], *, person: str, host: str | None, secret: str) -> dict[str, Any]:
    """A participant object reduced to its times, its device's pseudonym, its person's pseudonym (in
    `participant_user_id`, the first id attendance reads) and, for the host, the meeting's stripped host
    id in `id` (attendance recognises the host by `id` == the meeting's `host_id`)."""
    out: dict[str, Any] = {
        k: (mask_text(v) if isinstance(v, str) else v)
        for k, v in participant.items()
        if k in PARTICIPANT_KEEP and not isinstance(v, (dict, list))
    }
    device = device_of(participant)
    if device:
        out["participant_uuid"] = pseudonym(secret, "device:" + device)
    out["participant_user_id"] = person.removeprefix("user:")
    if host is not None:
        out["id"] = host
    reason = str(participant.get("leave_reason", "")).lower()
    if "breakout" in reason:
        out["leave_reason"] = "breakout room"  # what attendance looks for; the rest of the text goes
    elif "waiting room" in reason:
        out["leave_reason"] = "waiting room"
    for key in ("user_id", "bind_participant_uuid", "bind_user_id"):  # a bind names devices by these
        if key != "user_id" or "bind_participant_uuid" in participant or "bind_user_id" in participant:
            if participant.get(key):
                out[key] = pseudonym(secret, "device:" + str(participant[key]))
    return out


def strip_event(
    body: Mapping[str, Any], *, person_of: Callable[[Mapping[str, Any]], str], secret: str, known: Iterable[str] = ()
) -> dict[str, Any]:
    """One event body with its personal data replaced (see the module docstring)."""
    known = tuple(known)

    def host_pseudonym(host_id: str) -> str:
        return host_id if host_id.startswith(ANON_PREFIX) else pseudonym(secret, "host:" + host_id)

    def walk_mapping(value: Mapping[str, Any], key: str | None, host_id: str) -> dict[str, Any]:
        if key == "participant":
            is_host = bool(host_id) and str(value.get("id") or "") == host_id
            return strip_participant(
                value, person=person_of(value), secret=secret, host=host_pseudonym(host_id) if is_host else None
            )
        host_id = str(value.get("host_id") or "") or host_id
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in PERSONAL_KEYS:
                continue
            if k == "host_id" and v:
                out[k] = host_pseudonym(str(v))
            elif k == "participants" and isinstance(v, list):
                out[k] = [walk(item, "participant", host_id) for item in v]
            else:
                out[k] = walk(v, k, host_id)
        return out

    def walk(value: Any, key: str | None, host_id: str) -> Any:
        if isinstance(value, Mapping):
            return walk_mapping(value, key, host_id)
        if isinstance(value, list):
            return [walk(item, key, host_id) for item in value]
        if isinstance(value, str):
            return mask_text(value, known)
        return value

    return walk_mapping(body, None, "")


@dataclass(frozen=True)
class MeetingPlan:
    """What stripping one meeting changes: new bodies by event id, and identity keys old -> new."""

    bodies: dict[int, dict[str, Any]]
    keys: dict[str, str]
    known: frozenset[str]

    def key(self, old: str) -> str:
        return self.keys.get(old, old)


def plan_meeting(
    events: list[tuple[int, str, Mapping[str, Any], bool]],
    merges: Mapping[str, str],
    participant_keys: Iterable[str],
    *,
    secret: str,
    unbinds: Iterable[frozenset[str]] = (),
) -> MeetingPlan:
    """Strip every not-yet-stripped event of one session (all its instances). `events`: (id, name, body,
    already_stripped).

    Each person's pseudonym derives from the identity key the session's attendance gives them, so all
    their devices and aliases collapse onto one `user:anon:...` key that the stored participants,
    credit lines and merges are renamed to (`keys`)."""
    resolve = identity_resolver(((name, body) for _, name, body, _ in events), merges, unbinds)
    participants = [p for _, _, body, done in events if not done for p in _participant_objects(body)]
    known = frozenset(personal_values(participants))

    def person_of(participant: Mapping[str, Any]) -> str:
        return anonymous_key(secret, resolve(participant))

    bodies = {
        event_id: strip_event(body, person_of=person_of, secret=secret, known=known)
        for event_id, _, body, done in events
        if not done
    }
    keys = {key: anonymous_key(secret, key) for key in participant_keys}
    return MeetingPlan(bodies=bodies, keys=keys, known=known)


def _object(body: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = body.get("payload")
    if not isinstance(payload, Mapping):
        return {}
    obj = payload.get("object")
    return obj if isinstance(obj, Mapping) else {}


def _participant_objects(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    obj = _object(body)
    found = [obj["participant"]] if isinstance(obj.get("participant"), Mapping) else []
    if isinstance(obj.get("participants"), list):
        found.extend(p for p in obj["participants"] if isinstance(p, Mapping))
    return found
