"""The identity of a stored Zoom event. Zoom sends no event id, so it is derived from content: the event
name, `event_ts` and the payload as canonical JSON. A redelivery has the same key, two different events
cannot; webhook deliveries and Report API rows share this one scheme."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def event_key(name: Any, event_ts: Any, payload: Any) -> str:
    canonical = json.dumps([name, event_ts, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()  # "\ud800" is valid JSON
