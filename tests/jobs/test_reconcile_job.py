"""The scheduled reconciliation job: off without credentials (said once), due meetings only, one holder."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import responses
from sqlalchemy import select

import jobs.reconcile as job
from jobs.table import JOBS
from tests.helpers.zoom_api import API, OAUTH, zoom_api
from tests.helpers.zoom_events import zoom_event
from zoombot.runtime import Runtime
from zoombot.store.models import CreditLine, Lease, Meeting, Participant
from zoombot.zoom.client import encode_uuid

UUID = "4444AAAiAAAAAiAiAiiAii=="
REPORT_URL = f"{API}/report/meetings/{encode_uuid(UUID)}/participants"


@pytest.fixture
def zoom_runtime(make_settings, clock):
    rt = Runtime.from_settings(
        make_settings(
            zoom={
                "account_id": "acct",
                "client_id": "cid",
                "client_secret": "csecret",
                "api_base_url": API,
                "oauth_url": OAUTH,
                "report_delay_minutes": 45,
            }
        )
    )
    rt.clock = clock
    yield rt
    rt.db.dispose()


@pytest.fixture
def rsps():
    with zoom_api(strict=False) as mock:
        yield mock


def ended_meeting(post_event) -> None:
    # Alice joined at 22:30:10; her leave was lost, so the webhooks keep her until the end (00:30)
    for name in ("meeting_started", "participant_joined", "meeting_ended"):
        assert post_event(zoom_event(name)).status_code == 200


def test_job_is_in_the_table():
    assert [j.func for j in JOBS if j.name == "reconcile"] == [job.run]


def test_without_credentials_does_nothing_and_says_so_once(runtime, post_event, rsps, caplog, monkeypatch):
    monkeypatch.setattr(job, "_warned_unconfigured", False)
    ended_meeting(post_event)
    with caplog.at_level(logging.INFO, logger="jobs.reconcile"):
        assert job.run(runtime) == 0
        assert job.run(runtime) == 0
    said = [r.getMessage() for r in caplog.records if r.name == "jobs.reconcile"]
    assert said == ["Zoom API credentials are not configured: reconciliation with Zoom reports is off"]
    assert len(rsps.calls) == 0
    with runtime.db.begin() as s:
        assert s.scalar(select(Meeting.report_status)) is None


def test_reconciles_due_meetings_after_the_delay(zoom_runtime, post_event, rsps, clock):
    ended_meeting(post_event)
    rsps.add(
        responses.GET,
        REPORT_URL,
        json={
            "next_page_token": "",
            "participants": [
                {
                    "id": "",
                    "user_id": "16778240",
                    "name": "Alice Ames",
                    "user_email": "alice@example.org",
                    "join_time": "2026-10-13T22:30:10Z",
                    "leave_time": "2026-10-13T23:30:00Z",
                    "duration": 3590,
                    "status": "in_meeting",
                }
            ],
        },
    )
    with zoom_runtime.db.begin() as s:
        ended_at = s.scalar(select(Meeting.ended_at))
    clock.set(ended_at + timedelta(minutes=44))
    assert job.run(zoom_runtime) == 0  # [zoom] report_delay_minutes = 45
    assert len(rsps.calls) == 0
    clock.set(ended_at + timedelta(minutes=45))
    assert job.run(zoom_runtime) == 1
    assert job.run(zoom_runtime) == 0  # done: not asked again
    assert len([c for c in rsps.calls if "/report/" in c.request.url]) == 1
    with zoom_runtime.db.begin() as s:
        meeting = s.scalars(select(Meeting)).one()
        # the report's shorter stay changes nothing: the union keeps 22:30:10 -> 00:30:00; staff are told
        assert (meeting.report_status, [(d["kind"], d["seconds"]) for d in meeting.discrepancies]) == (
            "done",
            [("report_shorter", 3600)],
        )
        assert s.scalar(select(Participant.attended_seconds)) == 7190
        line = s.scalars(select(CreditLine)).one()  # so the credit line stands as it was: 1.75 h, pending
        assert (line.attended_seconds, str(line.growth_hours), line.status, line.flagged) == (
            7190,
            "1.75",
            "pending",
            False,
        )
        assert s.scalars(select(Lease)).all() == []  # released


def test_another_holder_of_the_lease_keeps_this_run_away(zoom_runtime, post_event, rsps, clock):
    ended_meeting(post_event)
    clock.set(clock() + timedelta(hours=1))
    with zoom_runtime.db.begin() as s:
        s.add(Lease(name="reconcile", holder="elsewhere", expires_at=clock() + timedelta(minutes=5)))
    assert job.run(zoom_runtime) == 0
    assert [c for c in rsps.calls if "/report/" in c.request.url] == []
    rsps.add(responses.GET, REPORT_URL, json={"next_page_token": "", "participants": []})
    clock.set(clock() + timedelta(minutes=6))  # the other holder's lease has expired
    assert job.run(zoom_runtime) == 1
