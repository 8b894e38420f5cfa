"""Creating a community's Zoom meeting and syncing it back (Zoom's HTTP API mocked with `responses`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import select

from tests.helpers.zoom_api import API, zoom_api, zoom_client
from zoombot.store.models import Community, Occurrence
from zoombot.zoom.client import ZoomClient, ZoomError
from zoombot.zoom.sync import create_zoom_meeting, sync_community

UTC = UTC
OCT = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)  # 2nd Tuesday, 18:30 New York (EDT)
NOV = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # 2nd Tuesday, 18:30 New York (EST)
DEC = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@pytest.fixture
def rsps():
    with zoom_api(strict=True) as mock:
        yield mock


@pytest.fixture
def zoom() -> ZoomClient:
    return zoom_client()


def add_community(session, *, rrule="FREQ=MONTHLY;BYDAY=2TU", zoom_meeting_id=None) -> Community:
    community = Community(
        name="Infant-Toddler CoP",
        first_start_local=datetime(2026, 10, 13, 18, 30),
        timezone="America/New_York",
        duration_minutes=120,
        rrule=rrule,
        zoom_meeting_id=zoom_meeting_id,
    )
    session.add(community)
    session.flush()
    for start in (OCT, NOV, DEC):
        session.add(
            Occurrence(community_id=community.id, original_start=start, start=start, end=start + timedelta(minutes=120))
        )
    session.flush()
    return community


def test_create_zoom_meeting_monthly_second_tuesday(runtime, rsps, zoom):
    rsps.add(
        responses.POST,
        f"{API}/users/host%40example.org/meetings",
        status=201,
        json={
            "id": 81234567890,
            "uuid": "abc==",
            "join_url": "https://zoom.us/j/81234567890?pwd=x",
            "password": "Hk3e9q",
            "occurrences": [
                {
                    "occurrence_id": ms(OCT),
                    "start_time": "2026-10-13T22:30:00Z",
                    "duration": 120,
                    "status": "available",
                },
                {
                    "occurrence_id": ms(NOV),
                    "start_time": "2026-11-10T23:30:00Z",
                    "duration": 120,
                    "status": "available",
                },
                # an occurrence zoombot has not planned yet: left for the planner
                {"occurrence_id": ms(DEC + timedelta(days=35)), "start_time": "2027-01-12T23:30:00Z", "duration": 120},
            ],
        },
    )
    with runtime.db.begin() as session:
        community = add_community(session)
        create_zoom_meeting(session, community, zoom, user_id="host@example.org", now=runtime.now())

    sent = json.loads(rsps.calls[-1].request.body)
    assert sent["topic"] == "Infant-Toddler CoP"
    assert sent["type"] == 8
    assert sent["start_time"] == "2026-10-13T18:30:00"
    assert sent["timezone"] == "America/New_York"
    assert sent["duration"] == 120
    assert sent["recurrence"] == {
        "type": 3,
        "repeat_interval": 1,
        "monthly_week": 2,
        "monthly_week_day": 3,
        "end_times": 50,
    }
    assert sent["settings"]["waiting_room"] is True
    assert sent["settings"]["join_before_host"] is False
    assert "agenda" not in sent
    with runtime.db.begin() as session:
        community = session.scalars(select(Community)).one()
        assert community.zoom_meeting_id == "81234567890"
        assert community.join_url == "https://zoom.us/j/81234567890?pwd=x"
        assert community.passcode == "Hk3e9q"  # shown beside the link for app and phone users
        assert community.zoom_synced_at == runtime.now()
        rows = session.scalars(select(Occurrence).order_by(Occurrence.start)).all()
        assert [r.zoom_occurrence_id for r in rows] == [ms(OCT), ms(NOV), None]
        assert [r.sequence for r in rows] == [0, 0, 0]


def test_create_zoom_meeting_without_rrule_is_a_single_meeting(runtime, rsps, zoom):
    rsps.add(
        responses.POST, f"{API}/users/me/meetings", status=201, json={"id": 555, "join_url": "https://zoom.us/j/555"}
    )
    with runtime.db.begin() as session:
        community = add_community(session, rrule=None)
        create_zoom_meeting(session, community, zoom, user_id="me")
    sent = json.loads(rsps.calls[-1].request.body)
    assert sent["type"] == 2 and "recurrence" not in sent
    with runtime.db.begin() as session:
        assert session.scalars(select(Community)).one().zoom_meeting_id == "555"


def test_create_zoom_meeting_refused_stores_nothing(runtime, rsps, zoom):
    rsps.add(
        responses.POST, f"{API}/users/me/meetings", status=400, json={"code": 300, "message": "Invalid recurrence"}
    )
    with pytest.raises(ZoomError) as raised:
        with runtime.db.begin() as session:
            community = add_community(session)
            create_zoom_meeting(session, community, zoom, user_id="me")
    assert raised.value.code == 300
    with runtime.db.begin() as session:
        assert session.scalars(select(Community)).all() == []


def test_sync_moves_and_cancels_occurrences(runtime, rsps, zoom):
    with runtime.db.begin() as session:
        community = add_community(session, zoom_meeting_id="81234567890")
        for row in session.scalars(select(Occurrence)):
            row.zoom_occurrence_id = ms(row.original_start) if row.original_start != NOV else None
    moved_oct = OCT + timedelta(days=2)
    rsps.add(
        responses.GET,
        f"{API}/meetings/81234567890",
        json={
            "id": 81234567890,
            "join_url": "https://zoom.us/j/81234567890?pwd=new",
            "occurrences": [
                {"occurrence_id": ms(OCT), "start_time": "2026-10-15T22:30:00Z", "duration": 90, "status": "available"},
                {"occurrence_id": ms(NOV), "start_time": "2026-11-10T23:30:00Z", "duration": 120, "status": "deleted"},
                {
                    "occurrence_id": ms(DEC),
                    "start_time": "2026-12-08T23:30:00Z",
                    "duration": 120,
                    "status": "available",
                },
            ],
        },
    )
    with runtime.db.begin() as session:
        community = session.scalars(select(Community)).one()
        result = sync_community(session, community, zoom.get_meeting(community.zoom_meeting_id), runtime.now())
    assert (result.moved, result.cancelled, result.linked, result.join_url_changed) == (1, 1, 1, True)
    with runtime.db.begin() as session:
        community = session.scalars(select(Community)).one()
        assert community.join_url == "https://zoom.us/j/81234567890?pwd=new"
        oct_row, nov_row, dec_row = session.scalars(select(Occurrence).order_by(Occurrence.original_start)).all()
        assert (oct_row.start, oct_row.end, oct_row.sequence, oct_row.status) == (
            moved_oct,
            moved_oct + timedelta(minutes=90),
            1,
            "scheduled",
        )
        assert (nov_row.status, nov_row.sequence, nov_row.zoom_occurrence_id) == ("cancelled", 1, ms(NOV))
        assert (dec_row.start, dec_row.sequence, dec_row.status) == (DEC, 0, "scheduled")
        # the same answer again changes nothing
        again = sync_community(
            session,
            community,
            {
                "join_url": "https://zoom.us/j/81234567890?pwd=new",
                "occurrences": [
                    {"occurrence_id": ms(OCT), "start_time": "2026-10-15T22:30:00Z", "duration": 90},
                    {
                        "occurrence_id": ms(NOV),
                        "start_time": "2026-11-10T23:30:00Z",
                        "duration": 120,
                        "status": "deleted",
                    },
                    {"occurrence_id": ms(DEC), "start_time": "2026-12-08T23:30:00Z", "duration": 120},
                ],
            },
            runtime.now(),
        )
        assert not again.changed
        assert [r.sequence for r in session.scalars(select(Occurrence).order_by(Occurrence.original_start))] == [
            1,
            1,
            0,
        ]


def test_sync_cancels_an_occurrence_zoom_no_longer_lists(runtime):
    with runtime.db.begin() as session:
        add_community(session, zoom_meeting_id="81234567890")
        for row in session.scalars(select(Occurrence)):
            row.zoom_occurrence_id = ms(row.original_start)
    with runtime.db.begin() as session:
        community = session.scalars(select(Community)).one()
        result = sync_community(
            session,
            community,
            {
                "occurrences": [
                    {"occurrence_id": ms(OCT), "start_time": "2026-10-13T22:30:00Z", "duration": 120},
                    {"occurrence_id": ms(DEC), "start_time": "2026-12-08T23:30:00Z", "duration": 120},
                ]
            },
            runtime.now(),
        )
    assert result.cancelled == 1
    with runtime.db.begin() as session:
        statuses = [
            (r.status, r.sequence) for r in session.scalars(select(Occurrence).order_by(Occurrence.original_start))
        ]
    assert statuses == [("scheduled", 0), ("cancelled", 1), ("scheduled", 0)]
