"""Pure parts of reconciliation: report rows as stored events, and the discrepancy finder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core import attendance, discrepancies
from zoombot.core.attendance import Signal, Who
from zoombot.zoom import report as zoom_report

UTC = UTC
T0 = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
END = T0 + timedelta(hours=2)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


ALICE = Who(email="alice@example.org", name="Alice Ames")
BOB = Who(email="bob@example.org", name="Bob Boyd")
LIVE = [Signal("start", T0), Signal("end", T0, until=END)]


def compute(signals):
    return attendance.compute(LIVE + signals, until=END)


def three_ways(webhook, report):
    merged = compute(webhook + report)
    return compute(webhook), merged, compute(report)


# --- zoom_report ----------------------------------------------------------------------------------

ROW = {
    "id": "zu1",
    "user_id": "16778240",
    "name": "Alice Ames",
    "user_email": "alice@example.org",
    "join_time": "2026-10-13T22:30:10Z",
    "leave_time": "2026-10-14T00:25:00Z",
    "duration": 6890,
    "registrant_id": None,
    "participant_user_id": "pu1",
    "status": "in_meeting",
    "failover": False,
    "ip_address": "203.0.113.9",
    "location": "Springfield (US)",
    "network_type": "Wifi",
    "device": "Mac",
    "data_center": "US",
    "customer_key": "ck",
    "microphone": "Built-in",
    "pc_name": "ALICE-PC",
}


def test_participant_event_keeps_only_what_attendance_needs():
    body = zoom_report.participant_event("81234567890", "u==", ROW)
    assert body == {
        "event": "report.participant",
        "event_ts": 0,
        "payload": {
            "object": {
                "id": "81234567890",
                "uuid": "u==",
                "participant": {
                    "id": "zu1",
                    "user_id": "16778240",
                    "name": "Alice Ames",
                    "user_email": "alice@example.org",
                    "join_time": "2026-10-13T22:30:10Z",
                    "leave_time": "2026-10-14T00:25:00Z",
                    "duration": 6890,
                    "registrant_id": "",
                    "participant_user_id": "pu1",
                    "status": "in_meeting",
                },
            }
        },
    }
    (signal,) = attendance.signals_from_event(body["event"], body)
    assert (signal.kind, signal.source, signal.at, signal.until) == (
        "span",
        "report",
        at(1 / 6),
        datetime(2026, 10, 14, 0, 25, tzinfo=UTC),
    )


def test_dedupe_key_is_stable_and_content_derived():
    one = zoom_report.participant_event("1", "u==", ROW)
    same = zoom_report.participant_event("1", "u==", {**ROW, "ip_address": "198.51.100.1"})
    other_instance = zoom_report.participant_event("1", "v==", ROW)
    later = zoom_report.participant_event("1", "u==", {**ROW, "leave_time": "2026-10-14T00:26:00Z"})
    assert zoom_report.dedupe_key(one) == zoom_report.dedupe_key(same)
    assert len({zoom_report.dedupe_key(b) for b in (one, other_instance, later)}) == 3
    assert len(zoom_report.dedupe_key(one)) == 64


def test_ended_event_needs_start_and_end():
    details = {
        "start_time": "2026-10-13T22:30:00Z",
        "end_time": "2026-10-14T00:30:00Z",
        "duration": 120,
        "topic": "CoP",
        "participants_count": 3,
        "user_email": "host@example.org",
    }
    body = zoom_report.ended_event("1", "u==", {**details, "host_id": "H1"})
    assert body["payload"]["object"] == {
        "id": "1",
        "uuid": "u==",
        "host_id": "H1",
        "topic": "CoP",
        "duration": 120,
        "start_time": "2026-10-13T22:30:00Z",
        "end_time": "2026-10-14T00:30:00Z",
    }
    (signal,) = attendance.signals_from_event(body["event"], body)
    assert (signal.kind, signal.at, signal.until) == ("end", T0, END)
    assert zoom_report.ended_event("1", "u==", {"start_time": "2026-10-13T22:30:00Z"}) is None


def test_participant_event_keeps_the_meeting_host_so_attendance_marks_the_host():
    host = {**ROW, "id": "x1yCzABCDEfg23HiJKl4mN"}
    body = zoom_report.participant_event("81234567890", "u==", host, "x1yCzABCDEfg23HiJKl4mN")
    assert body["payload"]["object"]["host_id"] == "x1yCzABCDEfg23HiJKl4mN"
    (signal,) = attendance.signals_from_event(body["event"], body)
    assert signal.is_host
    (guest,) = attendance.signals_from_event(
        "report.participant", zoom_report.participant_event("81234567890", "u==", ROW, "x1yCzABCDEfg23HiJKl4mN")
    )
    assert not guest.is_host
    assert "host_id" not in zoom_report.participant_event("1", "u==", ROW, "")["payload"]["object"]


def test_host_of_takes_the_first_event_that_names_one():
    started = {"event": "meeting.started", "payload": {"object": {"id": "1", "host_id": "H1"}}}
    assert zoom_report.host_of([{"payload": {"object": {"id": "1"}}}, started, {"host_id": "H2"}]) == "H1"
    assert zoom_report.host_of([{"payload": None}, {}]) == ""


def test_unavailable_versus_error():
    assert zoom_report.is_unavailable(404, 3001)
    assert zoom_report.is_unavailable(400, 200)
    # per endpoint, as the Meetings OpenAPI spec documents them
    assert zoom_report.is_unavailable(400, 1010)  # report: "User does not belong to this account"
    assert zoom_report.is_unavailable(400, 300, "past_meeting")  # "Cannot access meeting information"
    assert not zoom_report.is_unavailable(400, 300)  # not a documented report answer
    assert zoom_report.is_unavailable(404, None)
    assert not zoom_report.is_unavailable(500, None)
    assert not zoom_report.is_unavailable(429, None)
    assert not zoom_report.is_unavailable(None, None)


# --- discrepancies --------------------------------------------------------------------------------


def test_describe_seconds():
    assert [discrepancies.describe_seconds(s) for s in (0, 40, 600, 630, 3600, 4530)] == [
        "0 s",
        "40 s",
        "10 min",
        "10 min 30 s",
        "1 h",
        "1 h 15 min 30 s",
    ]


def test_nothing_when_report_agrees():
    webhook = [Signal("join", at(0), ALICE, "a"), Signal("leave", at(60), ALICE, "a")]
    report = [Signal("span", at(0.05), ALICE, "r", until=at(59.95), source="report")]
    assert discrepancies.find(*three_ways(webhook, report)) == []


def test_missed_join_missed_participant_extra_time():
    carol = Who(email="carol@example.org", name="Carol Cruz")
    webhook = [
        Signal("join", at(0), ALICE, "a"),
        Signal("leave", at(30), ALICE, "a"),
        Signal("leave", at(60), BOB, "b"),
    ]  # Bob's join never came
    report = [
        Signal("span", at(0), ALICE, "r", until=at(40), source="report"),
        Signal("span", at(15), BOB, "r", until=at(60), source="report"),
        Signal("span", at(10), carol, "r", until=at(20), source="report"),
    ]
    assert discrepancies.find(*three_ways(webhook, report)) == [
        {
            "kind": "missed_participant",
            "participant": "Carol Cruz",
            "seconds": 600,
            "detail": "Carol Cruz is missing from the webhook events; the Zoom report shows 10 min of attendance.",
        },
        {
            "kind": "missed_join",
            "participant": "Bob Boyd",
            "seconds": 2700,
            "detail": "A join of Bob Boyd never arrived by webhook; the Zoom report supplies 45 min.",
        },
        {
            "kind": "extra_time",
            "participant": "Alice Ames",
            "seconds": 600,
            "detail": "The Zoom report adds 10 min for Alice Ames that the webhook events missed.",
        },
    ]


def test_report_shorter_is_information_beyond_tolerance():
    webhook = [
        Signal("join", at(0), ALICE, "a"),
        Signal("leave", at(60), ALICE, "a"),
        Signal("join", at(0), BOB, "b"),
        Signal("leave", at(60), BOB, "b"),
    ]
    report = [
        Signal("span", at(0), ALICE, "r", until=at(50), source="report"),
        Signal("span", at(0), BOB, "r", until=at(59.5), source="report"),
    ]
    assert discrepancies.find(*three_ways(webhook, report)) == [
        {
            "kind": "report_shorter",
            "participant": "Alice Ames",
            "seconds": 600,
            "detail": "The Zoom report shows 10 min less than the webhook events for Alice Ames; "
            "the webhook time is kept.",
        }
    ]


def test_name_only_webhook_person_and_identified_report_row_are_two_people():
    """attendance keeps a name-only participant apart from a row with an e-mail (contract's identity order),
    so the report's row is a person the webhooks never showed: staff see it and can merge the two."""
    by_name = Who(name="Alice Ames")
    webhook = [Signal("join", at(0), by_name, "a"), Signal("leave", at(30), by_name, "a")]
    report = [Signal("span", at(0), ALICE, "r", until=at(30), source="report")]
    assert discrepancies.find(*three_ways(webhook, report)) == [
        {
            "kind": "missed_participant",
            "participant": "Alice Ames",
            "seconds": 1800,
            "detail": "Alice Ames is missing from the webhook events; the Zoom report shows 30 min of attendance.",
        },
        {
            "kind": "report_shorter",
            "participant": "Alice Ames",
            "seconds": 1800,
            "detail": "The Zoom report shows 30 min less than the webhook events for Alice Ames; "
            "the webhook time is kept.",
        },
    ]


def test_report_only_meeting_is_one_entry():
    report = [
        Signal("span", at(0), ALICE, "r", until=at(60), source="report"),
        Signal("span", at(0), BOB, "r", until=at(30), source="report"),
    ]
    assert discrepancies.find(*three_ways([], report)) == [
        {
            "kind": "no_webhooks",
            "participant": "",
            "seconds": 5400,
            "detail": "No webhook attendance was received for this meeting; the attendance of 2 participants "
            "comes from the Zoom report alone.",
        }
    ]


spans = st.lists(st.tuples(st.integers(0, 130), st.integers(1, 60)), max_size=4)


@settings(max_examples=150, deadline=None)
@given(webhook_spans=spans, report_spans=spans)
def test_added_time_accounts_for_the_whole_difference(webhook_spans, report_spans):
    """For one person known to both sources, what the discrepancies say was added is exactly merged -
    webhook-only attendance, never negative, never counted twice."""
    webhook = [Signal("join", at(0), BOB, "anchor"), Signal("leave", at(0.5), BOB, "anchor")]
    for i, (start, length) in enumerate(webhook_spans):
        webhook += [Signal("join", at(start), ALICE, f"d{i}"), Signal("leave", at(start + length), ALICE, f"d{i}")]
    report = [
        Signal("span", at(s), ALICE, f"r{i}", until=at(s + n), source="report") for i, (s, n) in enumerate(report_spans)
    ]
    webhook_only, merged, report_only = three_ways(webhook, report)
    alice_merged = (
        merged.people["email:alice@example.org"].attended_seconds if merged.people.get("email:alice@example.org") else 0
    )
    alice_webhook = (
        webhook_only.people["email:alice@example.org"].attended_seconds
        if webhook_only.people.get("email:alice@example.org")
        else 0
    )
    assert alice_merged >= alice_webhook
    added = sum(
        e["seconds"]
        for e in discrepancies.find(webhook_only, merged, report_only)
        if e["participant"] == "Alice Ames" and e["kind"] != "report_shorter"
    )
    assert added == alice_merged - alice_webhook


def test_dedupe_key_follows_the_webhook_scheme():
    from webhooks.event import Event

    body = zoom_report.participant_event("1", "u==", ROW)
    assert zoom_report.dedupe_key(body) == Event.from_json(body).dedupe_key


def test_a_report_row_with_a_lone_surrogate_has_a_key_like_a_webhook_event():
    """ "\\ud800" is valid JSON; Zoom may send it in a display name, in a report as in a webhook."""
    from webhooks.event import Event

    body = zoom_report.participant_event("1", "u==", {**ROW, "name": "Ana \ud800"})
    assert zoom_report.dedupe_key(body) == Event.from_json(body).dedupe_key
