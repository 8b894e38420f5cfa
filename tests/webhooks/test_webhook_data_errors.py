"""A database *data* error while processing an authentic event is not an outage (issue 15, item 2): the
event is kept, marked failed with the reason, and answered 200; only an unreachable or locked database
answers 503. On PostgreSQL in every run (the postgres_url fixture): SQLite enforces no column lengths."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.helpers.zoom_events import signed_headers, zoom_event
from webhooks.delivery import deliver
from webhooks.event import Event
from webhooks.router import Router
from zoombot.app import create_app
from zoombot.store.models import Meeting, ZoomEvent


def sharing_started() -> Event:
    return Event.from_json(
        {
            "event": "meeting.sharing_started",
            "event_ts": 1760394610000,
            "payload": {"account_id": "AbCdEfGh123", "object": {"id": "81234567890", "uuid": "Shared=="}},
        }
    )


def test_a_data_error_in_a_handler_keeps_the_event_as_failed_and_undoes_only_the_handler(pg_runtime):
    router = Router()

    @router.register("meeting.sharing_started")
    def writes_a_meeting_id_too_long_for_its_column(event, ctx):
        ctx.session.add(Meeting(uuid="Shared==", zoom_meeting_id="9" * 33, discrepancies=[]))  # String(32)
        ctx.session.flush()

    event = sharing_started()
    assert deliver(pg_runtime, router, event) == "failed"
    with pg_runtime.db.begin() as session:
        row = session.scalars(select(ZoomEvent)).one()
        assert (row.dedupe_key, row.status) == (event.dedupe_key, "failed")
        assert row.error == "StringDataRightTruncation: value too long for type character varying(32)"
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0  # the handler's write is undone
    assert deliver(pg_runtime, router, event) == "duplicate"


def test_an_identifier_too_long_for_its_column_does_not_cost_the_meeting_its_end(pg_runtime):
    """The attacker's tryout: a 5,000-character registrant id made every delivery of meeting.ended a 503,
    so Zoom retried and dropped the end. Now the end is kept and answered 200 (processed, or kept as
    failed for review if an identifier still does not fit)."""
    client = create_app(runtime=pg_runtime, test_config={"TESTING": True}).test_client()

    def post(body: dict):
        data = json.dumps(body).encode()
        return client.post("/zoom/webhook", data=data, headers=signed_headers(data))

    assert post(zoom_event("meeting_started")).status_code == 200
    assert post(zoom_event("participant_joined", registrant_id="r" * 5000, email="e" * 5000 + "@example.org")).json == {
        "status": "stored"
    }
    ended = post(zoom_event("meeting_ended"))
    assert ended.status_code == 200
    with pg_runtime.db.begin() as session:
        row = session.scalars(select(ZoomEvent).where(ZoomEvent.event == "meeting.ended")).one()
    assert ended.json == {"status": {"processed": "stored", "failed": "failed"}[row.status]}
    if row.status == "failed":
        assert row.error.startswith("StringDataRightTruncation: value too long")
    assert post(zoom_event("meeting_ended")).json == {"status": "duplicate"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_meeting_the_hot_path_cannot_create_goes_the_general_way_and_is_kept(backend, runtime, pg_runtime):
    """A participant event of a meeting not seen yet whose scheduled length zoombot cannot store (an
    integer past the column's range): not a 5xx for its batch, but the general path, which keeps the event
    as failed for review, as for any handler error."""
    rt = pg_runtime if backend == "postgresql" else runtime
    client = create_app(runtime=rt, test_config={"TESTING": True}).test_client()
    data = json.dumps(zoom_event("participant_joined", meeting_duration=10**30)).encode()
    response = client.post("/zoom/webhook", data=data, headers=signed_headers(data))
    assert response.status_code == 200 and response.json == {"status": "failed"}
    with rt.db.begin() as session:
        row = session.scalars(select(ZoomEvent)).one()
        assert row.status == "failed" and row.error
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0


@pytest.mark.parametrize("duration", ["\u00b2", "90 minutes", "-5"])
def test_an_unreadable_scheduled_length_is_no_length_and_the_attendance_counts(duration, runtime):
    """A scheduled length that is not plain digits (a superscript "²" passes `str.isdigit` but not `int`) is
    read as unknown: the join is stored and the meeting has no scheduled length, instead of losing the join."""
    client = create_app(runtime=runtime, test_config={"TESTING": True}).test_client()
    data = json.dumps(zoom_event("participant_joined", meeting_duration=duration)).encode()
    response = client.post("/zoom/webhook", data=data, headers=signed_headers(data))
    assert response.status_code == 200 and response.json == {"status": "stored"}
    with runtime.db.begin() as session:
        assert session.scalars(select(ZoomEvent.status)).all() == ["processed"]
        assert session.scalars(select(Meeting.scheduled_minutes)).all() == [None]
