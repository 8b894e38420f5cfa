"""Unit tests for zoombot.zoom.client: no network (responses), no real sleeping (injected sleep/clock)."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from responses import matchers

from zoombot.core import schedule
from zoombot.core.recurrence import meeting_body, recurrence_from_rrule
from zoombot.zoom.client import ZoomClient, ZoomError, ZoomNotConfigured, encode_uuid

API = "https://api.zoom.test/v2"
OAUTH = "https://zoom.test/oauth/token"
SECRET = "s3cr3t-CLIENT-secret"
CLIENT_ID = "client-id-123"
ACCOUNT_ID = "acct-456"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(sleeps: list[float], clock: FakeClock) -> ZoomClient:
    return ZoomClient(
        account_id=ACCOUNT_ID,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        api_base_url=API,
        oauth_url=OAUTH,
        sleep=sleeps.append,
        clock=clock,
    )


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def add_token(rsps, token: str = "tok-1", expires_in: int = 3600):
    return rsps.add(
        responses.POST,
        OAUTH,
        json={"access_token": token, "token_type": "bearer", "expires_in": expires_in, "scope": "x"},
    )


def api_calls(rsps) -> list:
    return [call for call in rsps.calls if call.request.url.startswith(API)]


def token_calls(rsps) -> list:
    return [call for call in rsps.calls if call.request.url.startswith(OAUTH)]


# ---- OAuth token -----------------------------------------------------------------------------------


def test_token_fetch_uses_basic_auth_and_account_credentials_query(client, rsps):
    add_token(rsps, "tok-A")
    rsps.add(responses.GET, f"{API}/meetings/81234567890", json={"id": 81234567890})

    assert client.get_meeting("81234567890") == {"id": 81234567890}

    (tok,) = token_calls(rsps)
    assert tok.request.method == "POST"
    expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert tok.request.headers["Authorization"] == expected
    query = parse_qs(urlparse(tok.request.url).query)
    assert query == {"grant_type": ["account_credentials"], "account_id": [ACCOUNT_ID]}
    (call,) = api_calls(rsps)
    assert call.request.headers["Authorization"] == "Bearer tok-A"


def test_token_is_cached_across_calls(client, rsps):
    add_token(rsps, "tok-A")
    rsps.add(responses.GET, f"{API}/meetings/1", json={"id": 1})

    client.get_meeting(1)
    client.get_meeting(1)

    assert len(token_calls(rsps)) == 1
    assert [c.request.headers["Authorization"] for c in api_calls(rsps)] == ["Bearer tok-A"] * 2


def test_token_refreshed_60s_before_expiry(client, rsps, clock):
    rsps.add(responses.POST, OAUTH, json={"access_token": "tok-A", "expires_in": 3600})
    rsps.add(responses.POST, OAUTH, json={"access_token": "tok-B", "expires_in": 3600})
    rsps.add(responses.GET, f"{API}/meetings/1", json={"id": 1})

    client.get_meeting(1)
    clock.now += 3600 - 61  # still valid: more than 60 s left
    client.get_meeting(1)
    assert len(token_calls(rsps)) == 1
    clock.now += 2  # now within the 60 s margin
    client.get_meeting(1)

    assert len(token_calls(rsps)) == 2
    assert [c.request.headers["Authorization"] for c in api_calls(rsps)] == [
        "Bearer tok-A",
        "Bearer tok-A",
        "Bearer tok-B",
    ]


def test_401_refreshes_token_once_then_succeeds(client, rsps, sleeps):
    rsps.add(responses.POST, OAUTH, json={"access_token": "tok-old", "expires_in": 3600})
    rsps.add(responses.POST, OAUTH, json={"access_token": "tok-new", "expires_in": 3600})
    rsps.add(responses.GET, f"{API}/meetings/1", status=401, json={"code": 124, "message": "Invalid access token."})
    rsps.add(responses.GET, f"{API}/meetings/1", json={"id": 1})

    assert client.get_meeting(1) == {"id": 1}

    assert len(token_calls(rsps)) == 2
    assert [c.request.headers["Authorization"] for c in api_calls(rsps)] == [
        "Bearer tok-old",
        "Bearer tok-new",
    ]
    assert sleeps == []


def test_second_401_raises(client, rsps):
    rsps.add(responses.POST, OAUTH, json={"access_token": "tok-1", "expires_in": 3600})
    rsps.add(responses.POST, OAUTH, json={"access_token": "tok-2", "expires_in": 3600})
    rsps.add(responses.GET, f"{API}/meetings/1", status=401, json={"code": 124, "message": "Invalid access token."})

    with pytest.raises(ZoomError) as info:
        client.get_meeting(1)

    assert info.value.status == 401
    assert info.value.code == 124
    assert info.value.message == "Invalid access token."
    assert len(api_calls(rsps)) == 2
    assert len(token_calls(rsps)) == 2


def test_oauth_failure_raises_without_secret(client, rsps):
    rsps.add(
        responses.POST,
        OAUTH,
        status=400,
        json={"reason": f"Invalid client_id or client_secret {SECRET}", "error": "invalid_client"},
    )

    with pytest.raises(ZoomError) as info:
        client.get_meeting(1)

    assert info.value.status == 400
    assert SECRET not in str(info.value)
    assert "Invalid client_id" in str(info.value)
    assert api_calls(rsps) == []


# ---- retries ---------------------------------------------------------------------------------------


def test_429_honours_retry_after(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/meetings/1",
        status=429,
        headers={"Retry-After": "7"},
        json={"code": 429, "message": "Too many requests"},
    )
    rsps.add(responses.GET, f"{API}/meetings/1", json={"id": 1})

    assert client.get_meeting(1) == {"id": 1}
    assert sleeps == [7]
    assert len(api_calls(rsps)) == 2


def test_429_without_retry_after_uses_exponential_backoff(client, rsps, sleeps):
    add_token(rsps)
    for _ in range(3):
        rsps.add(responses.GET, f"{API}/meetings/1", status=429, json={"code": 429, "message": "slow"})
    rsps.add(responses.GET, f"{API}/meetings/1", json={"id": 1})

    assert client.get_meeting(1) == {"id": 1}
    assert sleeps == [1, 2, 4]


def test_very_long_retry_after_fails_at_once(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/report/meetings/abc/participants",
        status=429,
        headers={"Retry-After": "36000"},
        json={"code": 429, "message": "daily limit"},
    )

    with pytest.raises(ZoomError) as info:
        list(client.report_participants("abc"))
    assert info.value.status == 429
    assert info.value.retry_after == 36000
    assert sleeps == []


def test_5xx_retried_then_final_failure_carries_details(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(responses.GET, f"{API}/meetings/1", status=503, json={"code": 500, "message": "first"})
    rsps.add(responses.GET, f"{API}/meetings/1", status=502, json={"code": 500, "message": "second"})
    rsps.add(responses.GET, f"{API}/meetings/1", status=500, json={"code": 500, "message": "third"})
    rsps.add(responses.GET, f"{API}/meetings/1", status=500, json={"code": 500, "message": "fourth"})
    rsps.add(responses.GET, f"{API}/meetings/1", status=504, json={"code": 3000, "message": "Server busy, try later"})

    with pytest.raises(ZoomError) as info:
        client.get_meeting(1)

    err = info.value
    assert (err.status, err.code, err.message) == (504, 3000, "Server busy, try later")
    assert str(err) == "Zoom API error (HTTP 504, code 3000): Server busy, try later"
    assert sleeps == [1, 2, 4, 8]  # max_retries=4 retries after the first attempt
    assert len(api_calls(rsps)) == 5


def test_backoff_is_capped_at_60s(rsps, sleeps, clock):
    client = ZoomClient(
        account_id="a",
        client_id="b",
        client_secret="c",
        api_base_url=API,
        oauth_url=OAUTH,
        max_retries=8,
        sleep=sleeps.append,
        clock=clock,
    )
    add_token(rsps)
    rsps.add(responses.GET, f"{API}/meetings/1", status=500, json={"code": 1, "message": "x"})

    with pytest.raises(ZoomError):
        client.get_meeting(1)
    assert sleeps == [1, 2, 4, 8, 16, 32, 60, 60]


def test_connection_error_retried(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(responses.GET, f"{API}/meetings/1", body=requests.ConnectionError("boom"))
    rsps.add(responses.GET, f"{API}/meetings/1", body=requests.Timeout("slow"))
    rsps.add(responses.GET, f"{API}/meetings/1", json={"id": 1})

    assert client.get_meeting(1) == {"id": 1}
    assert sleeps == [1, 2]


def test_connection_errors_exhausted_raise_zoom_error_without_status(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(responses.GET, f"{API}/meetings/1", body=requests.ConnectionError("boom"))

    with pytest.raises(ZoomError) as info:
        client.get_meeting(1)
    assert info.value.status is None
    assert info.value.code is None
    assert "ConnectionError" in str(info.value)
    assert len(sleeps) == 4


def test_other_4xx_raise_immediately(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(
        responses.GET, f"{API}/meetings/1", status=404, json={"code": 3001, "message": "Meeting does not exist: 1."}
    )

    with pytest.raises(ZoomError) as info:
        client.get_meeting(1)
    assert (info.value.status, info.value.code) == (404, 3001)
    assert sleeps == []
    assert len(api_calls(rsps)) == 1


def test_post_not_retried_after_5xx_but_retried_after_429(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(responses.POST, f"{API}/users/me/meetings", status=429, json={"code": 429, "message": "x"})
    rsps.add(responses.POST, f"{API}/users/me/meetings", status=500, json={"code": 500, "message": "oops"})
    rsps.add(responses.POST, f"{API}/users/me/meetings", json={"id": 1})

    with pytest.raises(ZoomError) as info:
        client.create_meeting("me", {"topic": "t"})
    assert info.value.status == 500
    assert sleeps == [1]
    assert len(api_calls(rsps)) == 2  # never a third POST: the meeting may exist already


# ---- request / pagination --------------------------------------------------------------------------


def test_empty_body_returns_empty_dict(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.DELETE,
        f"{API}/meetings/1",
        status=204,
        match=[matchers.query_param_matcher({"occurrence_id": "1700000000000"})],
    )
    rsps.add(responses.PATCH, f"{API}/meetings/1", status=204, match=[matchers.json_params_matcher({"topic": "new"})])

    assert client.delete_meeting(1, occurrence_id="1700000000000") == {}
    assert client.update_meeting(1, {"topic": "new"}) == {}


def test_pagination_over_three_pages(client, rsps):
    add_token(rsps)
    path = f"{API}/report/meetings/abc/participants"
    rsps.add(
        responses.GET,
        path,
        json={"participants": [{"n": 1}, {"n": 2}], "next_page_token": "T1"},
        match=[matchers.query_param_matcher({"page_size": "300"})],
    )
    rsps.add(
        responses.GET,
        path,
        json={"participants": [{"n": 3}], "next_page_token": "T2"},
        match=[matchers.query_param_matcher({"page_size": "300", "next_page_token": "T1"})],
    )
    rsps.add(
        responses.GET,
        path,
        json={"participants": [{"n": 4}], "next_page_token": ""},
        match=[matchers.query_param_matcher({"page_size": "300", "next_page_token": "T2"})],
    )

    items = list(client.paginate("/report/meetings/abc/participants", "participants"))

    assert [item["n"] for item in items] == [1, 2, 3, 4]
    assert len(api_calls(rsps)) == 3


def test_paginate_missing_token_and_extra_params(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/users",
        json={"users": [{"id": "u"}]},
        match=[matchers.query_param_matcher({"page_size": "50", "status": "active"})],
    )

    assert list(client.paginate("/users", "users", params={"status": "active"}, page_size=50)) == [{"id": "u"}]


def test_report_participants_double_encodes_awkward_uuid(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/report/meetings/%252Fabc%252F%252Fdef%253D%253D/participants",
        json={"participants": [{"id": "p"}], "next_page_token": ""},
    )

    assert list(client.report_participants("/abc//def==")) == [{"id": "p"}]
    (call,) = api_calls(rsps)
    assert "/report/meetings/%252Fabc%252F%252Fdef%253D%253D/participants" in call.request.url
    # registrant_id comes only when asked for (include_fields, Meetings OpenAPI spec)
    assert parse_qs(urlparse(call.request.url).query) == {"page_size": ["300"], "include_fields": ["registrant_id"]}


def test_report_participants_normal_uuid_encoded_once(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/report/meetings/4444AAAiAAAAAiAiAiiAii%3D%3D/participants",
        json={"participants": [{"id": "p"}]},
    )

    assert list(client.report_participants("4444AAAiAAAAAiAiAiiAii==")) == [{"id": "p"}]
    (call,) = api_calls(rsps)
    assert "/report/meetings/4444AAAiAAAAAiAiAiiAii%3D%3D/participants" in call.request.url


def test_past_instances(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/past_meetings/81234567890/instances",
        json={"meetings": [{"uuid": "u1", "start_time": "2026-10-13T22:30:00Z"}]},
    )

    assert client.past_instances(81234567890) == [{"uuid": "u1", "start_time": "2026-10-13T22:30:00Z"}]


def test_get_meeting_with_occurrence(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/meetings/9",
        json={"id": 9},
        match=[matchers.query_param_matcher({"occurrence_id": "1760394600000"})],
    )
    assert client.get_meeting(9, occurrence_id="1760394600000") == {"id": 9}


def test_create_meeting_body_monthly_second_tuesday(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.POST,
        f"{API}/users/me/meetings",
        status=201,
        json={"id": 81234567890, "uuid": "u==", "join_url": "https://zoom.us/j/81234567890"},
    )
    body = meeting_body(
        topic="Infant-Toddler CoP",
        start_local=datetime(2026, 10, 13, 18, 30),
        timezone="America/New_York",
        duration_minutes=120,
        rrule="FREQ=MONTHLY;BYDAY=2TU",
        agenda="Share and learn",
    )

    created = client.create_meeting("me", body)

    assert created["id"] == 81234567890
    (call,) = api_calls(rsps)
    assert call.request.method == "POST"
    sent = json.loads(call.request.body)
    assert sent["topic"] == "Infant-Toddler CoP"
    assert sent["type"] == 8
    assert sent["start_time"] == "2026-10-13T18:30:00"
    assert sent["timezone"] == "America/New_York"
    assert sent["duration"] == 120
    assert sent["agenda"] == "Share and learn"
    assert sent["recurrence"] == {
        "type": 3,
        "repeat_interval": 1,
        "monthly_week": 2,
        "monthly_week_day": 3,
        "end_times": 50,
    }
    assert sent["settings"] == {
        "waiting_room": True,
        "join_before_host": False,
        "approval_type": 2,
        "mute_upon_entry": True,
        "auto_recording": "none",
    }
    assert set(sent) == {"topic", "type", "start_time", "timezone", "duration", "agenda", "recurrence", "settings"}


def test_meeting_body_falls_back_to_type_3():
    body = meeting_body(
        topic="T",
        start_local=datetime(2026, 1, 1, 9, 0),
        timezone="UTC",
        duration_minutes=60,
        rrule="FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
    )
    assert body["type"] == 3
    assert "recurrence" not in body
    assert "agenda" not in body


def test_meeting_body_rejects_aware_start():
    with pytest.raises(ValueError):
        meeting_body(
            topic="T",
            start_local=datetime(2026, 1, 1, tzinfo=UTC),
            timezone="UTC",
            duration_minutes=60,
            rrule="FREQ=DAILY",
        )


# ---- pure helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uuid", "expected"),
    [
        ("/abc//def==", "%252Fabc%252F%252Fdef%253D%253D"),
        ("ab//cd", "ab%252F%252Fcd"),
        ("4444AAAiAAAAAiAiAiiAii==", "4444AAAiAAAAAiAiAiiAii%3D%3D"),
        ("a/b+c=", "a%2Fb%2Bc%3D"),
    ],
)
def test_encode_uuid(uuid, expected):
    assert encode_uuid(uuid) == expected


@pytest.mark.parametrize(
    ("rrule", "expected"),
    [
        (
            "FREQ=MONTHLY;BYDAY=2TU",
            {"type": 3, "repeat_interval": 1, "monthly_week": 2, "monthly_week_day": 3, "end_times": 50},
        ),
        ("FREQ=WEEKLY;BYDAY=TU", {"type": 2, "repeat_interval": 1, "weekly_days": "3", "end_times": 50}),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", {"type": 2, "repeat_interval": 2, "weekly_days": "2", "end_times": 50}),
        ("FREQ=WEEKLY;BYDAY=SA,SU,WE", {"type": 2, "repeat_interval": 1, "weekly_days": "1,4,7", "end_times": 50}),
        ("FREQ=MONTHLY;BYMONTHDAY=15", {"type": 3, "repeat_interval": 1, "monthly_day": 15, "end_times": 50}),
        ("FREQ=DAILY", {"type": 1, "repeat_interval": 1, "end_times": 50}),
        (
            "FREQ=MONTHLY;BYDAY=-1FR",
            {"type": 3, "repeat_interval": 1, "monthly_week": -1, "monthly_week_day": 6, "end_times": 50},
        ),
        (
            "FREQ=MONTHLY;BYDAY=+1MO",
            {"type": 3, "repeat_interval": 1, "monthly_week": 1, "monthly_week_day": 2, "end_times": 50},
        ),
        ("FREQ=WEEKLY;BYDAY=TU;COUNT=10", {"type": 2, "repeat_interval": 1, "weekly_days": "3", "end_times": 10}),
        (
            "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270615T220000Z",
            {
                "type": 3,
                "repeat_interval": 1,
                "monthly_week": 2,
                "monthly_week_day": 3,
                "end_date_time": "2027-06-15T22:00:00Z",
            },
        ),
        ("FREQ=DAILY;UNTIL=20261231", {"type": 1, "repeat_interval": 1, "end_date_time": "2026-12-31T23:59:59Z"}),
        (
            "RRULE:freq=weekly;wkst=MO;byday=mo,fr",
            {"type": 2, "repeat_interval": 1, "weekly_days": "2,6", "end_times": 50},
        ),
        ("FREQ=DAILY;BYDAY=MO,WE,FR", {"type": 2, "repeat_interval": 1, "weekly_days": "2,4,6", "end_times": 50}),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", {"type": 3, "repeat_interval": 3, "monthly_day": 1, "end_times": 50}),
        ("FREQ=WEEKLY;BYDAY=TU;COUNT=60", {"type": 2, "repeat_interval": 1, "weekly_days": "3", "end_times": 60}),
        # Zoom's maxima (Meetings OpenAPI spec, recurrence.repeat_interval): 99 days, 50 weeks, 10 months
        ("FREQ=DAILY;INTERVAL=99", {"type": 1, "repeat_interval": 99, "end_times": 50}),
        ("FREQ=WEEKLY;INTERVAL=50;BYDAY=TU", {"type": 2, "repeat_interval": 50, "weekly_days": "3", "end_times": 50}),
        (
            "FREQ=MONTHLY;INTERVAL=10;BYMONTHDAY=1",
            {"type": 3, "repeat_interval": 10, "monthly_day": 1, "end_times": 50},
        ),
    ],
)
def test_recurrence_from_rrule(rrule, expected):
    assert recurrence_from_rrule(rrule) == expected


@pytest.mark.parametrize(
    ("until", "end_date_time"),
    [
        ("20261027", "2026-10-28T06:59:59Z"),  # the end of Tuesday 27 October in Los Angeles (PDT, -7)
        ("20261027T180000", "2026-10-28T01:00:00Z"),  # floating: 18:00 Los Angeles wall time
        ("20261028T010000Z", "2026-10-28T01:00:00Z"),  # UTC, as written
    ],
)
def test_an_until_is_read_in_the_meetings_zone_as_the_schedule_reads_it(until, end_date_time):
    """An 18:00 Los Angeles Tuesday series ending on Tuesday 27 October 2026: its last session starts at
    01:00 UTC on the 28th. Read as UTC, UNTIL=20261027 ended the Zoom series 23:59:59 UTC on the 27th,
    before that session, which Zoom then never had."""
    rrule = f"FREQ=WEEKLY;BYDAY=TU;UNTIL={until}"
    body = meeting_body(
        topic="Evening CoP",
        start_local=datetime(2026, 9, 1, 18, 0),
        timezone="America/Los_Angeles",
        duration_minutes=90,
        rrule=rrule,
    )
    assert body["recurrence"] == {"type": 2, "repeat_interval": 1, "weekly_days": "3", "end_date_time": end_date_time}
    planned = schedule.occurrences(
        schedule.Cadence(datetime(2026, 9, 1, 18, 0), "America/Los_Angeles", 90, rrule),
        datetime(2026, 8, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert len(planned) == 9 and planned[-1].start == datetime(2026, 10, 28, 1, 0, tzinfo=UTC)
    zoom_end = datetime.fromisoformat(end_date_time.replace("Z", "+00:00"))
    assert planned[-1].start <= zoom_end < planned[-1].start + timedelta(days=7)


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
        "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1",
        "FREQ=HOURLY",
        "FREQ=MONTHLY;BYDAY=1TU,3TU",
        "FREQ=MONTHLY;BYDAY=5FR",
        "FREQ=MONTHLY;BYDAY=-2FR",
        "FREQ=MONTHLY;BYDAY=TU",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=2TU;BYMONTHDAY=8",
        "FREQ=WEEKLY;BYDAY=2TU",
        "FREQ=WEEKLY;INTERVAL=51;BYDAY=TU",
        "FREQ=MONTHLY;INTERVAL=11;BYMONTHDAY=1",
        "FREQ=DAILY;INTERVAL=100",
        "FREQ=WEEKLY;BYDAY=TU;COUNT=61",
        "FREQ=WEEKLY;BYDAY=TU;COUNT=5;UNTIL=20270101T000000Z",
        "FREQ=WEEKLY",  # no BYDAY and no start date to take it from
        "FREQ=DAILY;BYHOUR=9",
    ],
)
def test_recurrence_from_rrule_inexpressible_is_none(rrule):
    assert recurrence_from_rrule(rrule) is None


def test_recurrence_end_times_argument_and_start_defaults():
    assert recurrence_from_rrule("FREQ=DAILY", end_times=12)["end_times"] == 12
    assert recurrence_from_rrule("FREQ=DAILY;COUNT=3", end_times=12)["end_times"] == 3
    # 2026-10-13 is a Tuesday
    assert recurrence_from_rrule("FREQ=WEEKLY", start=date(2026, 10, 13))["weekly_days"] == "3"
    assert recurrence_from_rrule("FREQ=MONTHLY", start=date(2026, 10, 13))["monthly_day"] == 13


@pytest.mark.parametrize(
    "rrule",
    [
        "",
        "BYDAY=TU",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;COUNT=abc",
        "FREQ=DAILY;UNTIL=tomorrow",
        "FREQ",
    ],
)
def test_recurrence_from_rrule_malformed_raises(rrule):
    with pytest.raises(ValueError):
        recurrence_from_rrule(rrule)


@pytest.mark.parametrize("end_times", [0, 61])
def test_recurrence_end_times_out_of_range(end_times):
    with pytest.raises(ValueError):
        recurrence_from_rrule("FREQ=DAILY", end_times=end_times)


# ---- configuration & errors ------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["account_id", "client_id", "client_secret"])
def test_not_configured(missing):
    creds = {"account_id": "a", "client_id": "b", "client_secret": "c"}
    creds[missing] = ""
    with pytest.raises(ZoomNotConfigured) as info:
        ZoomClient(**creds)
    assert str(info.value) == ("Zoom API credentials are not configured ([zoom] account_id, client_id, client_secret)")
    assert isinstance(info.value, ZoomError)
    assert info.value.status is None and info.value.code is None


@dataclass(frozen=True)
class FakeZoomSettings:
    account_id: str = ACCOUNT_ID
    client_id: str = CLIENT_ID
    client_secret: str = SECRET
    api_base_url: str = "https://eu.zoom.test/v2/"
    oauth_url: str = "https://eu.zoom.test/oauth/token"


def test_from_settings_honours_urls(rsps, sleeps):
    rsps.add(responses.POST, "https://eu.zoom.test/oauth/token", json={"access_token": "t", "expires_in": 3600})
    rsps.add(responses.GET, "https://eu.zoom.test/v2/meetings/5", json={"id": 5})

    client = ZoomClient.from_settings(FakeZoomSettings(), sleep=sleeps.append)
    assert client.get_meeting(5) == {"id": 5}
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [
        "https://eu.zoom.test/oauth/token",
        "https://eu.zoom.test/v2/meetings/5",
    ]


def test_from_settings_not_configured():
    with pytest.raises(ZoomNotConfigured):
        ZoomClient.from_settings(FakeZoomSettings(client_secret=""))


def test_errors_and_logs_never_contain_secret_or_token(client, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="zoombot.zoom.client")
    add_token(rsps, "tok-VERY-SECRET")
    rsps.add(
        responses.GET,
        f"{API}/users/alice%40example.org/meetings",
        status=400,
        json={"code": 300, "message": f"bad {SECRET} tok-VERY-SECRET user alice@example.org\nline two"},
    )

    with pytest.raises(ZoomError) as info:
        client.request("GET", "/users/alice%40example.org/meetings")

    text = str(info.value)
    assert SECRET not in text and "tok-VERY-SECRET" not in text
    assert "alice@example.org" not in text
    assert "\n" not in text
    assert SECRET not in repr(info.value) and SECRET not in repr(client)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for forbidden in (SECRET, "tok-VERY-SECRET", "alice", CLIENT_ID):
        assert forbidden not in logged
    assert "GET /users/{id}/meetings -> 400" in logged


def test_post_not_retried_after_ambiguous_connection_error(client, rsps, sleeps):
    add_token(rsps)
    rsps.add(responses.POST, f"{API}/users/me/meetings", body=requests.ConnectionError("reset by peer"))

    with pytest.raises(ZoomError) as info:
        client.create_meeting("me", {"topic": "t"})
    assert info.value.status is None
    assert sleeps == []
    assert len(api_calls(rsps)) == 1


def test_past_meeting_double_encodes_the_uuid(client, rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{API}/past_meetings/%252Fab%252F%252Fc%253D%253D",
        json={"uuid": "/ab//c==", "start_time": "2026-10-13T22:30:00Z", "end_time": "2026-10-14T00:30:00Z"},
    )
    assert client.past_meeting("/ab//c==")["end_time"] == "2026-10-14T00:30:00Z"
    (call,) = api_calls(rsps)
    assert call.request.url == f"{API}/past_meetings/%252Fab%252F%252Fc%253D%253D"


def test_meeting_body_without_rrule_is_a_single_meeting():
    body = meeting_body(
        topic="T", start_local=datetime(2026, 1, 6, 9, 0), timezone="UTC", duration_minutes=60, rrule=None
    )
    assert body["type"] == 2 and "recurrence" not in body
    assert body["start_time"] == "2026-01-06T09:00:00"
    assert body["settings"]["waiting_room"] is True
