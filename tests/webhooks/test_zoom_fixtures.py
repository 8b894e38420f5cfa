"""The recorded Zoom payloads in tests/fixtures/zoom are shaped as Zoom documents them: each one validates
against its event's schema from Zoom's webhook events OpenAPI spec (kept, without annotations, in
tests/fixtures/zoom-spec; see extract_schemas.py there). `format` is an annotation here, not checked: Zoom
sends "" as the e-mail of a dial-in, which the spec marks `format: email`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures"
SCHEMAS = json.loads((FIXTURES / "zoom-spec" / "webhook-events.schema.json").read_text(encoding="utf-8"))["schemas"]
RECORDED = sorted(p for p in (FIXTURES / "zoom").glob("*.json") if p.stem != "url_validation")


def test_every_recorded_event_has_its_schema():
    assert len(RECORDED) == 14
    assert {json.loads(p.read_text(encoding="utf-8"))["event"] for p in RECORDED} <= set(SCHEMAS)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recorded_event_validates_against_zooms_schema(path):
    body = json.loads(path.read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(SCHEMAS[body["event"]]).iter_errors(body)
    ]
    assert errors == []


def test_the_schemas_hold_what_the_issue_found_missing():
    """So the check above can fail: meeting.started and meeting.ended require the host's e-mail."""
    for name in ("meeting.started", "meeting.ended"):
        required = SCHEMAS[name]["properties"]["payload"]["properties"]["object"]["required"]
        assert "host_email" in required and "host_id" in required
    bare = {
        "event": "meeting.started",
        "event_ts": 1,
        "payload": {
            "account_id": "a",
            "object": {
                "id": "1",
                "uuid": "u==",
                "host_id": "h",
                "topic": "t",
                "type": 8,
                "start_time": "2026-10-13T22:30:00Z",
                "duration": 120,
            },
        },
    }
    assert not jsonschema.Draft202012Validator(SCHEMAS["meeting.started"]).is_valid(bare)


def test_the_url_validation_challenge_is_as_zoom_documents_it():
    """endpoint.url_validation is not in the events spec: Zoom's webhook documentation gives its shape."""
    body = json.loads((FIXTURES / "zoom" / "url_validation.json").read_text(encoding="utf-8"))
    assert set(body) == {"event", "event_ts", "payload"} and body["event"] == "endpoint.url_validation"
    assert set(body["payload"]) == {"plainToken"} and isinstance(body["payload"]["plainToken"], str)
    assert isinstance(body["event_ts"], int)
