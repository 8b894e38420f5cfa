"""Reconciliation with Zoom's participant report: webhook side built from real signed deliveries through
the endpoint, Zoom's REST API mocked with `responses`. Every expected `attended_seconds` is worked out by
hand in the comments (the meeting is live 22:30:00 -> 00:30:00 UTC)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
import responses
from sqlalchemy import func, select

from tests.helpers.zoom_api import API, zoom_api, zoom_client
from tests.helpers.zoom_events import zoom_event
from zoombot.store import review
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Meeting, Participant, ZoomEvent
from zoombot.zoom.client import ZoomClient, encode_uuid
from zoombot.zoom.reconcile import due_meetings, reconcile_instance

UUID = "4444AAAiAAAAAiAiAiiAii=="
MEETING_ID = "81234567890"
HOST_ID = "x1yCzABCDEfg23HiJKl4mN"  # the host of the recorded meeting fixtures
REPORT_URL = f"{API}/report/meetings/{encode_uuid(UUID)}/participants"

ALICE = {
    "user_name": "Alice Ames",
    "email": "alice@example.org",
    "user_id": "16778240",
    "participant_uuid": "Pp7YyHm2Q2uJbQk0bS1xWw",
}
BOB = {
    "user_name": "Bob Boyd",
    "email": "bob@example.org",
    "user_id": "16778241",
    "participant_uuid": "Bb7YyHm2Q2uJbQk0bS1xWw",
}


@pytest.fixture
def rsps():
    with zoom_api(strict=False) as mock:
        yield mock


@pytest.fixture
def zoom() -> ZoomClient:
    return zoom_client(max_retries=2)


def send(post_event, name: str, **fields) -> None:
    response = post_event(zoom_event(name, **fields))
    assert response.status_code == 200, response.data


def meeting_with(post_event, *participant_events) -> None:
    """meeting.started, the given (fixture, fields) participant events, meeting.ended."""
    send(post_event, "meeting_started")
    for name, fields in participant_events:
        send(post_event, name, **fields)
    send(post_event, "meeting_ended")


def row(person: dict, join: str, leave: str, **extra) -> dict:
    """A Report API row as Zoom sends it, including fields zoombot must not keep."""
    base = {
        "id": "",
        "user_id": person["user_id"],
        "name": person["user_name"],
        "user_email": person["email"],
        "join_time": join,
        "leave_time": leave,
        "duration": 0,
        "registrant_id": "",
        "participant_user_id": "",
        "status": "in_meeting",
        "failover": False,
        "customer_key": "ck-1",
        "ip_address": "203.0.113.9",
        "location": "Springfield",
        "network_type": "Wifi",
        "device": "Mac",
        "data_center": "US",
    }
    base.update(extra)
    return base


def report(rsps, *pages: list[dict], uuid: str = UUID) -> None:
    url = f"{API}/report/meetings/{encode_uuid(uuid)}/participants"
    for index, rows in enumerate(pages):
        token = f"page{index + 1}" if index + 1 < len(pages) else ""
        params = {"page_size": "300", "include_fields": "registrant_id"}
        if index:
            params["next_page_token"] = f"page{index}"
        rsps.add(
            responses.GET,
            url,
            json={
                "page_count": len(pages),
                "page_size": 300,
                "total_records": 0,
                "next_page_token": token,
                "participants": rows,
            },
            match=[responses.matchers.query_param_matcher(params)],
        )


def people(runtime) -> dict[str, int]:
    with runtime.db.begin() as s:
        return {p.name: p.attended_seconds for p in s.scalars(select(Participant))}


def the_meeting(runtime) -> Meeting:
    with runtime.db.begin() as s:
        return s.scalars(select(Meeting).where(Meeting.uuid == UUID)).one()


def the_session(runtime) -> CreditSession:
    with runtime.db.begin() as s:
        return s.scalars(
            select(CreditSession).join(Meeting, Meeting.session_id == CreditSession.id).where(Meeting.uuid == UUID)
        ).one()


def records(runtime) -> dict[str, CreditLine]:
    """The credit lines by participant name (one per person per session)."""
    with runtime.db.begin() as s:
        rows = s.execute(
            select(Participant.name, CreditLine).join(
                Participant,
                (Participant.identity_key == CreditLine.participant_key)
                & (Participant.session_id == CreditLine.session_id),
            )
        ).all()
        return {name: record for name, record in rows}


def test_webhooks_complete_report_adds_nothing(runtime, post_event, rsps, zoom):
    meeting_with(
        post_event, ("participant_joined", ALICE), ("participant_left", {**ALICE, "leave_time": "2026-10-14T00:25:00Z"})
    )
    assert people(runtime) == {"Alice Ames": 6890}  # 22:30:10 -> 00:25:00
    # the report's clock differs by a couple of seconds: inside the webhook interval, adds nothing
    report(rsps, [row(ALICE, "2026-10-13T22:30:12Z", "2026-10-14T00:24:58Z", duration=6886)])

    outcome = reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert (outcome.status, outcome.rows, outcome.stored, outcome.discrepancies) == ("done", 1, 1, 0)
    assert people(runtime) == {"Alice Ames": 6890}
    meeting = the_meeting(runtime)
    assert (meeting.report_status, meeting.reconciled_at, meeting.discrepancies) == ("done", runtime.now(), [])
    record = records(runtime)["Alice Ames"]
    assert (record.attended_seconds, record.status, record.flagged) == (6890, "pending", False)
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "recomputed")) == 0


def test_report_row_is_stored_minimised_and_once(runtime, post_event, rsps, zoom):
    meeting_with(post_event, ("participant_joined", ALICE))
    report(rsps, [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:30:00Z", duration=7190)])
    reconcile_instance(runtime, zoom, UUID, MEETING_ID)
    again = reconcile_instance(runtime, zoom, UUID, MEETING_ID)
    assert (again.rows, again.stored) == (1, 0)
    with runtime.db.begin() as s:
        (event,) = s.scalars(select(ZoomEvent).where(ZoomEvent.source == "report")).all()
        assert (event.event, event.meeting_uuid, event.meeting_id, event.event_ts) == (
            "report.participant",
            UUID,
            MEETING_ID,
            0,
        )
        assert event.body == {
            "event": "report.participant",
            "event_ts": 0,
            "payload": {
                "object": {
                    "id": MEETING_ID,
                    "uuid": UUID,
                    "host_id": HOST_ID,
                    "participant": {
                        "id": "",
                        "user_id": "16778240",
                        "name": "Alice Ames",
                        "user_email": "alice@example.org",
                        "join_time": "2026-10-13T22:30:10Z",
                        "leave_time": "2026-10-14T00:30:00Z",
                        "duration": 7190,
                        "registrant_id": "",
                        "participant_user_id": "",
                        "status": "in_meeting",
                    },
                }
            },
        }
        assert "203.0.113.9" not in json.dumps(event.body)


def test_missed_join_report_supplies_the_span(runtime, post_event, rsps, zoom):
    # Bob's join was lost: the leave alone (no join_time) adds nothing
    meeting_with(
        post_event,
        ("participant_joined", ALICE),
        ("participant_left", {**ALICE, "leave_time": "2026-10-14T00:25:00Z"}),
        ("participant_left", {**BOB, "leave_time": "2026-10-13T23:30:00Z"}),
    )
    assert people(runtime) == {"Alice Ames": 6890, "Bob Boyd": 0}
    report(
        rsps,
        [
            row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:25:00Z"),
            row(BOB, "2026-10-13T22:45:00Z", "2026-10-13T23:30:00Z"),
        ],
    )

    reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert people(runtime) == {"Alice Ames": 6890, "Bob Boyd": 2700}  # 22:45 -> 23:30
    assert the_meeting(runtime).discrepancies == [
        {
            "kind": "missed_join",
            "participant": "Bob Boyd",
            "seconds": 2700,
            "detail": "A join of Bob Boyd never arrived by webhook; the Zoom report supplies 45 min.",
        }
    ]
    bob = records(runtime)["Bob Boyd"]
    assert (bob.attended_seconds, bob.growth_hours, bob.training_hours, bob.status) == (
        2700,
        Decimal("0.75"),
        Decimal("0.00"),
        "pending",
    )
    with runtime.db.begin() as s:
        intervals = s.scalar(select(Participant.intervals).where(Participant.name == "Bob Boyd"))
    assert intervals == [["2026-10-13T22:45:00+00:00", "2026-10-13T23:30:00+00:00", "report"]]


def test_participant_missed_entirely(runtime, post_event, rsps, zoom):
    carol = {"user_name": "Carol Cruz", "email": "carol@example.org", "user_id": "16778242"}
    meeting_with(post_event, ("participant_joined", ALICE))
    report(
        rsps,
        [
            row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:30:00Z"),
            row(carol, "2026-10-13T23:00:00Z", "2026-10-14T00:10:00Z"),
        ],
    )

    reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert people(runtime) == {"Alice Ames": 7190, "Carol Cruz": 4200}  # 22:30:10 -> 00:30; 23:00 -> 00:10
    assert the_meeting(runtime).discrepancies == [
        {
            "kind": "missed_participant",
            "participant": "Carol Cruz",
            "seconds": 4200,
            "detail": "Carol Cruz is missing from the webhook events; the Zoom report shows 1 h 10 min of attendance.",
        }
    ]
    carol_record = records(runtime)["Carol Cruz"]
    assert (carol_record.attended_seconds, carol_record.growth_hours, carol_record.status) == (
        4200,
        Decimal("1.00"),
        "pending",
    )


def test_overlapping_report_rows_are_a_union_not_a_sum(runtime, post_event, rsps, zoom):
    # webhooks: 22:30:10 -> 23:00:00 (1790 s) and 23:10:00 -> 00:25:00 (4500 s) = 6290 s
    meeting_with(
        post_event,
        ("participant_joined", ALICE),
        ("participant_left", {**ALICE, "leave_time": "2026-10-13T23:00:00Z"}),
        ("participant_joined", {**ALICE, "join_time": "2026-10-13T23:10:00Z"}),
        ("participant_left", {**ALICE, "leave_time": "2026-10-14T00:25:00Z"}),
    )
    assert people(runtime) == {"Alice Ames": 6290}
    # report rows sum to 1790 + 1500 + 4500 = 7790 s; the second (a phone, 22:55 -> 23:20) fills the gap
    report(
        rsps,
        [
            row(ALICE, "2026-10-13T22:30:10Z", "2026-10-13T23:00:00Z"),
            row(ALICE, "2026-10-13T22:55:00Z", "2026-10-13T23:20:00Z", user_id="16778299"),
            row(ALICE, "2026-10-13T23:10:00Z", "2026-10-14T00:25:00Z"),
        ],
    )

    reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert people(runtime) == {"Alice Ames": 6890}  # the union 22:30:10 -> 00:25:00
    assert the_meeting(runtime).discrepancies == [
        {
            "kind": "extra_time",
            "participant": "Alice Ames",
            "seconds": 600,
            "detail": "The Zoom report adds 10 min for Alice Ames that the webhook events missed.",
        }
    ]
    assert records(runtime)["Alice Ames"].attended_seconds == 6890


def test_report_over_several_pages(runtime, post_event, rsps, zoom):
    meeting_with(
        post_event, ("participant_joined", ALICE), ("participant_left", {**ALICE, "leave_time": "2026-10-13T23:00:00Z"})
    )
    dave = {"user_name": "Dave Diaz", "email": "dave@example.org", "user_id": "16778243"}
    erin = {"user_name": "Erin Eng", "email": "erin@example.org", "user_id": "16778244"}
    report(
        rsps,
        [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-13T23:00:00Z")],
        [
            row(dave, "2026-10-13T22:40:00Z", "2026-10-13T23:40:00Z"),
            row(erin, "2026-10-13T22:20:00Z", "2026-10-13T22:35:00Z", status="in_waiting_room"),
        ],
        [
            row(erin, "2026-10-13T22:35:00Z", "2026-10-14T00:45:00Z"),
            row(ALICE, "2026-10-13T23:30:00Z", "2026-10-13T23:45:00Z"),
        ],
    )

    outcome = reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert (outcome.rows, outcome.stored) == (5, 5)
    assert len([c for c in rsps.calls if "/report/" in c.request.url]) == 3
    # Alice 1790 + 900 (23:30 -> 23:45); Dave 22:40 -> 23:40; Erin's waiting room not counted, and her
    # row is clipped to the meeting's end: 22:35 -> 00:30 = 6900
    assert people(runtime) == {"Alice Ames": 2690, "Dave Diaz": 3600, "Erin Eng": 6900}


@pytest.mark.parametrize(
    "status,code,expected",
    [
        (404, 3001, "unavailable"),  # meeting instance unknown to the report
        (400, 200, "unavailable"),  # "Only available for paid account"
        (400, 1010, "unavailable"),  # "User does not belong to this account" (Meetings OpenAPI spec)
        (500, None, "error"),  # still failing after the retries
    ],
)
def test_report_unavailable_leaves_attendance_unchanged(runtime, post_event, rsps, zoom, status, code, expected):
    meeting_with(
        post_event, ("participant_joined", ALICE), ("participant_left", {**ALICE, "leave_time": "2026-10-13T23:00:00Z"})
    )
    body = {"code": code, "message": "No permission."} if code else {"message": "boom"}
    rsps.add(responses.GET, REPORT_URL, status=status, json=body)

    outcome = reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert outcome.status == expected and outcome.error is not None and outcome.error.code == code
    meeting = the_meeting(runtime)
    assert (meeting.report_status, meeting.reconciled_at, meeting.discrepancies) == (expected, runtime.now(), [])
    assert people(runtime) == {"Alice Ames": 1790}
    assert records(runtime)["Alice Ames"].attended_seconds == 1790
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(ZoomEvent).where(ZoomEvent.source == "report")) == 0
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reconciled")).one()
        assert (entry.from_value, entry.to_value) == (None, expected)


def test_no_credit_line_follows_the_report(runtime, post_event, rsps, zoom):
    meeting_with(
        post_event, ("participant_joined", ALICE), ("participant_left", {**ALICE, "leave_time": "2026-10-13T23:00:00Z"})
    )
    line = records(runtime)["Alice Ames"]  # 1790 s, under 30 minutes: no credit, resolved by itself
    assert (line.attended_seconds, line.growth_hours, line.status, line.no_credit_reason) == (
        1790,
        Decimal("0.00"),
        "no_credit",
        "attended 29 min, under the 30 minutes minimum",
    )
    report(rsps, [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:25:00Z")])

    reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    line = records(runtime)["Alice Ames"]  # nobody decided it: it follows, 6890 s -> 1.75 h, for review
    assert (line.status, line.attended_seconds, line.growth_hours, line.no_credit_reason, line.flagged) == (
        "pending",
        6890,
        Decimal("1.75"),
        None,
        False,
    )
    assert the_session(runtime).needs_review is False


def test_approved_line_is_reopened_not_changed_silently(runtime, post_event, rsps, zoom):
    # Issue 10: an approved line never changes silently, and nothing is created beside it. The old model
    # left the approved record's 0.00 h standing under a flag; now the line is reopened (pending, flagged)
    # with the new figures and the before -> after for staff to decide again.
    meeting_with(
        post_event, ("participant_joined", ALICE), ("participant_left", {**ALICE, "leave_time": "2026-10-13T23:30:00Z"})
    )
    line_id = records(runtime)["Alice Ames"].id
    with runtime.db.begin() as s:
        line = s.get(CreditLine, line_id)
        assert (line.attended_seconds, line.growth_hours, line.status) == (3590, Decimal("0.75"), "pending")
        review.approve(s, [line_id], actor="lee@example.org", now=runtime.now())
    report(rsps, [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:25:00Z")])

    reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert people(runtime) == {"Alice Ames": 6890}
    line = records(runtime)["Alice Ames"]
    assert (line.id, line.status, line.attended_seconds, line.growth_hours) == (
        line_id,
        "pending",
        6890,
        Decimal("1.75"),
    )
    assert line.flagged and line.flag_reason == (
        "approved line reopened: was approved, 0:59 attended, 0.75 h growth; now 1.75 h growth proposed"
    )
    assert the_session(runtime).needs_review is True
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(CreditLine)) == 1
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reopened")).one()
        assert (entry.entity, entry.entity_id, entry.actor, entry.from_value, entry.to_value, entry.reason) == (
            "credit_line",
            line_id,
            "system",
            "approved, 0:59 attended, 0.75 h growth",
            "pending, 1:54 attended, 1.75 h growth",
            "reconciled with Zoom report",
        )


def test_uuid_needing_double_encoding_end_to_end(runtime, post_event, rsps, zoom):
    uuid = "/gkT//5bQ6uH+Gd2lRhnNnA=="
    send(post_event, "meeting_started", meeting_uuid=uuid)
    send(post_event, "participant_joined", meeting_uuid=uuid, **ALICE)
    send(post_event, "meeting_ended", meeting_uuid=uuid)
    double = "%252FgkT%252F%252F5bQ6uH%252BGd2lRhnNnA%253D%253D"
    assert encode_uuid(uuid) == double
    rsps.add(
        responses.GET,
        re.compile(re.escape(f"{API}/report/meetings/{double}/participants") + r"\?.*"),
        json={"next_page_token": "", "participants": [row(ALICE, "2026-10-13T22:20:00Z", "2026-10-14T00:30:00Z")]},
    )

    outcome = reconcile_instance(runtime, zoom, uuid, MEETING_ID)

    assert outcome.status == "done"
    (call,) = [c for c in rsps.calls if "/report/" in c.request.url]
    assert call.request.url.startswith(f"{API}/report/meetings/{double}/participants?")
    with runtime.db.begin() as s:
        meeting = s.scalars(select(Meeting).where(Meeting.uuid == uuid)).one()
        assert meeting.report_status == "done"
        # webhook 22:30:10 -> 00:30; the report's 22:20 -> 00:30, clipped to the live start: 22:30:00 -> 00:30
        assert (
            s.scalar(select(Participant.attended_seconds).where(Participant.session_id == meeting.session_id)) == 7200
        )


def test_lost_meeting_ended_is_recovered_from_past_meeting(runtime, post_event, rsps, zoom, clock):
    """Only meeting.started and a join arrived; the finalizer's guess of the end is replaced by Zoom's."""
    send(post_event, "meeting_started")
    send(post_event, "participant_joined", **ALICE)
    with runtime.db.begin() as s:
        meeting = s.scalars(select(Meeting)).one()
        from zoombot.core.times import parse_time
        from zoombot.store.meetings import attendance_changed, mark_ended

        mark_ended(meeting, None, parse_time("2026-10-14T01:30:00Z"), by="finalizer")
        attendance_changed(s, meeting, runtime.settings, runtime.now(), reason="finalized")
    assert people(runtime) == {"Alice Ames": 10790}  # open until the finalizer's 01:30
    rsps.add(
        responses.GET,
        f"{API}/past_meetings/{encode_uuid(UUID)}",
        json={
            "uuid": UUID,
            "id": int(MEETING_ID),
            "topic": "Infant-Toddler CoP",
            "start_time": "2026-10-13T22:30:00Z",
            "end_time": "2026-10-14T00:30:00Z",
            "duration": 120,
            "participants_count": 1,
        },
    )
    report(rsps, [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:30:00Z")])

    reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert people(runtime) == {"Alice Ames": 7190}  # 22:30:10 -> 00:30:00, the real end
    meeting = the_meeting(runtime)
    assert (meeting.ended_at.isoformat(), meeting.finalized_by) == ("2026-10-14T00:30:00+00:00", "report")
    assert records(runtime)["Alice Ames"].attended_seconds == 7190


def test_due_meetings(runtime, post_event, rsps, zoom, clock):
    from datetime import timedelta

    meeting_with(post_event, ("participant_joined", ALICE))
    delay = timedelta(minutes=30)
    ended = the_meeting(runtime).ended_at
    clock.set(ended + timedelta(minutes=29))
    with runtime.db.begin() as s:
        assert due_meetings(s, runtime.now(), delay) == []
    clock.set(ended + timedelta(minutes=30))
    with runtime.db.begin() as s:
        assert [m.uuid for m in due_meetings(s, runtime.now(), delay)] == [UUID]
    rsps.add(responses.GET, REPORT_URL, status=404, json={"code": 3001, "message": "Meeting does not exist"})
    reconcile_instance(runtime, zoom, UUID, MEETING_ID)
    with runtime.db.begin() as s:  # unavailable: asked again an hour later, for a day
        assert due_meetings(s, runtime.now() + timedelta(minutes=59), delay) == []
        assert len(due_meetings(s, runtime.now() + timedelta(hours=1), delay)) == 1
        assert due_meetings(s, ended + timedelta(days=1, minutes=1), delay) == []
    report(rsps, [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:30:00Z")])
    clock.set(runtime.now() + timedelta(hours=1))
    assert reconcile_instance(runtime, zoom, UUID, MEETING_ID).status == "done"
    with runtime.db.begin() as s:  # done: never again
        assert due_meetings(s, runtime.now() + timedelta(hours=2), delay) == []


def test_a_host_only_the_report_saw_is_marked_host(runtime, post_event, rsps, zoom):
    """Report rows have no host flag: the host is the row whose id is the meeting's host_id (from the
    instance's own meeting.started), as in webhook events."""
    maria = {"user_name": "Maria Lopez", "email": "maria@example.org", "user_id": "16778000"}
    meeting_with(post_event, ("participant_joined", ALICE))
    report(
        rsps,
        [
            row(maria, "2026-10-13T22:30:00Z", "2026-10-14T00:30:00Z", id=HOST_ID, participant_user_id=HOST_ID),
            row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:30:00Z"),
        ],
    )

    assert reconcile_instance(runtime, zoom, UUID, MEETING_ID).status == "done"

    with runtime.db.begin() as s:
        assert dict(s.execute(select(Participant.name, Participant.is_host)).all()) == {
            "Maria Lopez": True,
            "Alice Ames": False,
        }


def test_past_meeting_code_300_is_no_record_and_the_report_still_counts(runtime, post_event, rsps, zoom):
    """GET /past_meetings answers 400 code 300 ("Cannot access meeting information"): no record of the
    instance, which is not a failure; the report is fetched all the same and its host_id comes from the
    stored meeting.started."""
    send(post_event, "meeting_started")
    send(post_event, "participant_joined", **ALICE)
    rsps.add(
        responses.GET,
        f"{API}/past_meetings/{encode_uuid(UUID)}",
        status=400,
        json={"code": 300, "message": "Cannot access meeting information."},
    )
    report(rsps, [row(ALICE, "2026-10-13T22:30:10Z", "2026-10-14T00:30:00Z")])

    outcome = reconcile_instance(runtime, zoom, UUID, MEETING_ID)

    assert (outcome.status, outcome.rows, outcome.error) == ("done", 1, None)
    assert the_meeting(runtime).report_status == "done"
    with runtime.db.begin() as s:
        bodies = s.scalars(select(ZoomEvent.body).where(ZoomEvent.event == "report.participant")).all()
    assert {b["payload"]["object"].get("host_id") for b in bodies} == {HOST_ID}
