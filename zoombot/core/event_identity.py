"""The identity of a stored Zoom event. Zoom sends no event id, so it is derived from content: the event
name, `event_ts` and the payload as canonical JSON. A redelivery has the same key, two different events
cannot; webhook deliveries and Report API rows share this one scheme."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson


def event_key(name: Any, event_ts: Any, payload: Any, *, no_floats: bool = False) -> str:
    """sha256 of `[name, event_ts, payload]` as canonical JSON (sorted keys, no spaces, UTF-8).

    `no_floats`: the caller knows the payload holds no float, so orjson writes the very same text in a
    tenth of the time (they differ only in how floats are written, 1e-07 against 1e-7; a property test
    holds them equal otherwise). Whatever orjson cannot write (lone surrogates, integers beyond 64 bits)
    falls back to json.dumps."""
    if no_floats:
        try:
            return hashlib.sha256(orjson.dumps([name, event_ts, payload], option=orjson.OPT_SORT_KEYS)).hexdigest()
        except (TypeError, orjson.JSONEncodeError):
            pass
    canonical = json.dumps([name, event_ts, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()  # "\ud800" is valid JSON
