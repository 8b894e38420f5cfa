"""Zoom's recorded payloads (tests/fixtures/zoom), with fields replaced, and signed as Zoom signs them."""

from __future__ import annotations

import copy
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from webhooks.signature import sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zoom"
WEBHOOK_SECRET = "test-webhook-secret-token"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def zoom_event(name: str, *, event_ts: int | None = None, **fields: Any) -> dict[str, Any]:
    """A recorded payload with fields replaced: `meeting_<key>` for the meeting object, others for the
    participant. `event_ts` defaults to the time of the action, so distinct actions are distinct events."""
    body = copy.deepcopy(load_fixture(name))
    obj = body["payload"]["object"]
    for key, value in fields.items():
        if key.startswith("meeting_"):
            obj[key[len("meeting_") :]] = value
        else:
            obj["participant"][key] = value
    if event_ts is None:
        source = obj.get("participant", {}) if "participant" in obj else obj
        when = next(
            (source[k] for k in ("join_time", "leave_time", "date_time", "end_time", "start_time") if source.get(k)),
            None,
        )
        if when:
            event_ts = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    if event_ts is not None:
        body["event_ts"] = event_ts
    return body


def signed_headers(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"x-zm-request-timestamp": ts, "x-zm-signature": sign(secret, ts, body), "content-type": "application/json"}
