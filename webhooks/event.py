"""A Zoom event as a small value: name, time, account, object, and the key that identifies it.

Zoom sends no event id, so identity is derived from content: the event name, `event_ts` and the
payload (canonical JSON). A retry of the same delivery has the same key; two different events cannot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import (
    Mapping,  # not typing.Mapping: its isinstance() is several times slower
)
from dataclasses import dataclass, field
from typing import Any

from zoombot.core import json_codec
from zoombot.core.event_identity import event_key


class BadPayload(Exception):
    """The body is not a Zoom event (not a JSON object with an `event`)."""


@dataclass(frozen=True)
class Event:
    name: str
    event_ts: int
    body: Mapping[str, Any]
    plain_numbers: bool = field(default=False, compare=False)  # known to hold no float: see dedupe_key

    @classmethod
    def from_body(cls, raw: bytes) -> Event:
        """Only JSON the database can store: no NaN/Infinity, bounded nesting, and text that UTF-8 and
        PostgreSQL can hold (see storable)."""
        try:
            body = json_codec.loads(raw)
            if _may_be_unstorable(raw):
                body = storable(body)
        except (UnicodeDecodeError, ValueError):
            raise BadPayload("body is not JSON") from None
        except RecursionError:
            raise BadPayload("body is nested too deeply") from None
        return cls.from_json(body, plain_numbers=not _FLOATISH.search(raw))

    @classmethod
    def from_json(cls, body: Any, *, plain_numbers: bool = False) -> Event:
        if not isinstance(body, dict):
            raise BadPayload("body is not a JSON object")
        name = body.get("event")
        if not isinstance(name, str) or not name or len(name) > 100:
            raise BadPayload("body has no event name")
        ts = body.get("event_ts")
        try:
            event_ts = int(ts) if ts is not None and not isinstance(ts, bool) else 0
        except (TypeError, ValueError):
            event_ts = 0
        if not 0 <= event_ts < 2**63:  # a BIGINT column
            event_ts = 0
        return cls(name=name, event_ts=event_ts, body=body, plain_numbers=plain_numbers)

    @functools.cached_property  # read several times per delivery; an Event never changes
    def payload(self) -> Mapping[str, Any]:
        payload = self.body.get("payload")
        return payload if isinstance(payload, Mapping) else {}

    @functools.cached_property
    def object(self) -> Mapping[str, Any]:
        obj = self.payload.get("object")
        return obj if isinstance(obj, Mapping) else {}

    @property
    def account_id(self) -> str | None:
        value = self.payload.get("account_id")
        return str(value)[:64] if value else None

    @property
    def meeting_id(self) -> str | None:
        """The meeting number, a string in newer payloads and a number in older ones: always a string."""
        value = self.object.get("id")
        if value is None or isinstance(value, bool) or value == "":
            return None
        return str(value)[:32]

    @property
    def meeting_uuid(self) -> str | None:
        value = self.object.get("uuid")
        return str(value)[:100] if value else None

    @functools.cached_property
    def dedupe_key(self) -> str:
        """Computed once: the hot path and, when it declines, the general path both need it."""
        return event_key(self.name, self.event_ts, self.body.get("payload"), no_floats=self.plain_numbers)


# A JSON number with a fraction or an exponent, where a value starts (after ':', ',' or '[' and any space):
# every float in a body matches it. Inside a string only text shaped like one does ("x:1.5"), a false alarm
# that costs speed only. Any digit before '.', 'e' or 'E' was a false alarm in a third of Zoom's deliveries
# (their base64 uuids: "…D8E/…"), each then keyed by json.dumps at ten times orjson's cost.
_FLOATISH = re.compile(rb"[:,\[]\s*-?[0-9]+[.eE]")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with every U+0000 and every lone UTF-16 surrogate, in keys and in values, replaced by U+FFFD.

    Both are valid JSON escapes (`\\u0000`, `\\ud800`) that a signed Zoom body may hold, but PostgreSQL's
    text cannot hold the first and UTF-8 cannot encode the second, so storing either would fail, and a
    refusal is final for Zoom. Replacing rather than dropping keeps the sign that something was there
    and never runs two words together; U+FFFD is what a UTF-8 decoder puts in place of what it cannot
    read. The dedupe key is computed after this, so a redelivery is still the same event."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value) if UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _may_be_unstorable(raw: bytes) -> bool:
    """Whether `raw` may hold what storable() replaces: a \\u0000 or \\uD... escape, or UTF-8-encoded
    surrogates (lead byte 0xED, which json.loads decodes with surrogatepass), or a NUL byte (which JSON in
    UTF-8 never holds, but the UTF-16 and UTF-32 that json.loads also reads do). A quick test on the bytes
    that spares nearly every delivery the walk; a false alarm costs only the walk."""
    return b"\x00" in raw or b"\\u0000" in raw or b"\\ud" in raw or b"\\uD" in raw or b"\xed" in raw
