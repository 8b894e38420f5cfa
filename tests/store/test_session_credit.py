"""Issue 10's cases through the signed webhook endpoint: one credit line per person per session, across Zoom
restarts, with training carved out of one rounded total; the follow-up mail shows the line (real SMTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.helpers.mail import add_community, at, outbox_rows, runtime, smtp  # noqa: F401
from tests.helpers.zoom_events import zoom_event
from zoombot.store import review
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Meeting, Occurrence, Participant

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # 18:30 in New York, the community's 2nd Tuesday
FIRST, SECOND = "FirstInstance000000000==", "SecondInstance00000000=="
D = Decimal


def iso(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(name: str, email: str, device: str, user_id: str) -> dict:
    return dict(user_name=name, email=email, participant_uuid=device, user_id=user_id)


ALICE = person("Alice Ames", "alice@example.org", "dev-alice-1", "16778001")
BOB = person("Bob Brown", "bob@example.org", "dev-bob-1", "16778002")
FRAN = person("Fran Facil", "fran@example.org", "dev-fran-1", "16778003")


def instance(uuid: str, start: float, end: float, visits: list[tuple[dict, float, float | None]]) -> list[dict]:
    """One Zoom instance: started at `start`, ended at `end` (minutes after 18:30), with its visits."""
    common = {"meeting_uuid": uuid, "meeting_start_time": iso(start)}
    events = [zoom_event("meeting_started", **common)]
    for who, joined, left in visits:
        events.append(zoom_event("participant_joined", join_time=iso(joined), **who, **common))
        if left is not None:
            events.append(zoom_event("participant_left", leave_time=iso(left), **who, **common))
    events.append(zoom_event("meeting_ended", meeting_end_time=iso(end), **common))
    return events


def play(post_event, events):
    for body in events:
        response = post_event(body)
        assert response.status_code == 200 and response.json["status"] in ("stored", "duplicate"), response.json


def lines(runtime) -> dict[str, CreditLine]:
    with runtime.db.begin() as s:
        return {line.participant_key: line for line in s.scalars(select(CreditLine))}


def restarted(post_event):
    """The host ends the meeting by mistake at 18:58 and starts it again at 19:01 (same id, new UUID).
    Alice: 25 minutes in the first instance and 92 in the second; Bob: 20 + 22; Fran hosts both."""
    play(post_event, instance(FIRST, 0, 28, [(FRAN, 0, 28), (ALICE, 3, 28), (BOB, 8, 28)]))
    play(
        post_event,
        instance(
            SECOND,
            31,
            125,
            [(FRAN, 31, 125), (dict(ALICE, user_id="16779001"), 33, 125), (dict(BOB, user_id="16779002"), 31, 53)],
        ),
    )


def test_a_host_restart_is_one_session_credited_once(runtime, clock, smtp, post_event):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 30, 12, 0, tzinfo=UTC))  # the occurrence is planned
    restarted(post_event)
    with runtime.db.begin() as s:
        held = s.scalars(select(CreditSession)).one()
        occurrence = s.scalars(select(Occurrence).where(Occurrence.start == START)).one()
        assert (held.occurrence_id, held.status, held.local_date.isoformat(), held.scheduled_minutes) == (
            occurrence.id,
            "ended",
            "2026-11-10",
            120,
        )
        assert {m.uuid: m.session_id for m in s.scalars(select(Meeting))} == {FIRST: held.id, SECOND: held.id}
        alice = s.scalar(select(Participant).where(Participant.identity_key == "email:alice@example.org"))
        assert alice.intervals == [
            [f"{iso(3)[:-1]}+00:00", f"{iso(28)[:-1]}+00:00", "webhook"],
            [f"{iso(33)[:-1]}+00:00", f"{iso(125)[:-1]}+00:00", "webhook"],
        ]
    found = {key: (line.attended_seconds, line.growth_hours, line.status) for key, line in lines(runtime).items()}
    assert found == {
        "email:alice@example.org": (117 * 60, D("1.75"), "pending"),  # not 0 + 1.50
        "email:bob@example.org": (42 * 60, D("0.50"), "pending"),  # not nothing
        "email:fran@example.org": (122 * 60, D("2.00"), "pending"),  # 28 + 94, capped at the scheduled 2 h
    }


def test_the_follow_up_shows_the_session_total_and_the_line(runtime, clock, smtp, post_event):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 30, 12, 0, tzinfo=UTC))
    restarted(post_event)
    # due 2 hours after the end, it waits up to [schedule] closure_wait_hours (24) for the closure nobody records
    got = at(clock, smtp, runtime, START + timedelta(hours=2 + 2 + 24, minutes=5))
    texts = {r.to[0]: r.text for r in got if r.kind == "followup"}
    assert "Your attendance: 1 h 57 min" in texts["alice@example.org"]  # both instances, not the larger one
    assert "Growth hours: 1.75 (pending review)" in texts["alice@example.org"]
    assert "Your attendance: 42 min" in texts["bob@example.org"]
    assert "Growth hours: 0.50 (pending review)" in texts["bob@example.org"]


def test_a_restart_while_lines_exist_keeps_them_in_step(runtime, post_event, clock):
    """Lines appear when the first instance ends; the second instance's end brings them up to date."""
    play(post_event, instance(FIRST, 0, 28, [(ALICE, 3, 28)]))
    assert {k: line.status for k, line in lines(runtime).items()} == {"email:alice@example.org": "no_credit"}
    play(post_event, instance(SECOND, 31, 125, [(dict(ALICE, user_id="16779001"), 33, 125)]))
    alice = lines(runtime)["email:alice@example.org"]
    assert (alice.attended_seconds, alice.growth_hours, alice.status, alice.no_credit_reason) == (
        117 * 60,
        D("1.75"),
        "pending",
        None,
    )
    with runtime.db.begin() as s:
        assert s.scalar(select(CreditSession.key)) == "z81234567890:2026-11-10"  # no community: by local date


def test_zoomnets_same_second_pair_counts_zero(runtime, post_event):
    common = {"meeting_start_time": iso(0)}
    play(
        post_event,
        [
            zoom_event("meeting_started", **common),
            zoom_event("participant_joined", join_time=iso(10), **ALICE, **common),
            zoom_event("participant_left", leave_time=iso(10), **ALICE, **common),
            zoom_event("meeting_ended", meeting_end_time=iso(86), **common),
        ],
    )
    alice = lines(runtime)["email:alice@example.org"]
    assert (alice.attended_seconds, alice.status, alice.no_credit_reason) == (
        0,
        "no_credit",
        "attended 0 min, under the 30 minutes minimum",
    )


def test_overlapping_joins_under_one_participant_id(runtime, post_event):
    common = {"meeting_start_time": iso(0)}
    play(
        post_event,
        [
            zoom_event("meeting_started", **common),
            zoom_event("participant_joined", join_time=iso(5), **ALICE, **common),
            zoom_event("participant_joined", join_time=iso(30), **ALICE, **common),
            zoom_event("participant_left", leave_time=iso(35), **ALICE, **common),
            zoom_event("participant_left", leave_time=iso(40), **ALICE, **common),
            zoom_event("meeting_ended", meeting_end_time=iso(60), **common),
        ],
    )
    assert lines(runtime)["email:alice@example.org"].attended_seconds == 35 * 60


def test_zoom_binding_a_phone_caller_is_one_person_staff_can_take_apart(runtime, post_event, clock):
    phone = dict(user_name="+1 617-555-0142", email="", participant_uuid="PhoneDev1", user_id="1234567890")
    laptop = dict(user_name="Dana Lee", email="dana@example.org", participant_uuid="DanaLaptop", user_id="16778240")
    common = {"meeting_start_time": iso(0)}
    bind = zoom_event("participant_joined", **common)
    bind["event"] = "meeting.participant_bind"
    bind["payload"]["object"]["participant"] = {
        "user_id": "1234567890",
        "bind_user_id": "16778240",
        "user_name": "+1 617-555-0142",
        "participant_uuid": "PhoneDev1",
        "bind_participant_uuid": "DanaLaptop",
        "date_time": iso(62),
        "phone_number": "16175550142",
    }
    play(
        post_event,
        [
            zoom_event("meeting_started", **common),
            zoom_event("participant_joined", join_time=iso(0), **laptop, **common),
            zoom_event("participant_left", leave_time=iso(60), **laptop, **common),  # laptop battery died
            zoom_event("participant_joined", join_time=iso(61), **phone, **common),
            bind,
            zoom_event("participant_left", leave_time=iso(120), **phone, **common),
            zoom_event("meeting_ended", meeting_end_time=iso(120), **common),
        ],
    )
    assert {k: (line.attended_seconds, line.growth_hours) for k, line in lines(runtime).items()} == {
        "email:dana@example.org": (119 * 60, D("1.75"))
    }
    with runtime.db.begin() as s:
        bound = s.scalars(select(AuditEntry).where(AuditEntry.action == "bound")).one()
        assert (bound.actor, bound.from_value, bound.session_id) == (
            "zoom",
            "+1 617-555-0142",
            s.scalar(select(CreditSession.id)),
        )
        sid = s.scalar(select(CreditSession.id))
        review.unbind(
            s,
            sid,
            "name:+1 617-555-0142",
            "email:dana@example.org",
            actor="staff@example.org",
            now=clock(),
            settings=runtime.settings,
        )
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.actor == "staff@example.org")) == "unbound"
    assert {k: (line.attended_seconds, line.growth_hours) for k, line in lines(runtime).items()} == {
        "email:dana@example.org": (60 * 60, D("1.00")),
        "name:+1 617-555-0142": (59 * 60, D("0.75")),
    }


def test_rebuild_gives_exactly_what_live_processing_gave(runtime, clock, smtp, post_event, zoombot_cli):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 30, 12, 0, tzinfo=UTC))
    restarted(post_event)
    with runtime.db.begin() as s:
        sid = s.scalar(select(CreditSession.id))
        review.save_segment(
            s,
            sid,
            start=START + timedelta(minutes=30),
            end=START + timedelta(minutes=60),
            title="Safe sleep",
            category="",
            approval_code="",
            actor="staff@example.org",
            now=clock(),
            settings=runtime.settings,
        )
        review.approve(
            s,
            [s.scalar(select(CreditLine.id).where(CreditLine.participant_key == "email:bob@example.org"))],
            actor="staff@example.org",
            now=clock(),
        )

    def state():
        with runtime.db.begin() as s:
            people = {
                (p.session_id, p.identity_key): (p.attended_seconds, p.intervals, p.devices, p.rejoins, p.member_id)
                for p in s.scalars(select(Participant))
            }
            credit = {
                line.id: (
                    line.session_id,
                    line.participant_key,
                    line.attended_seconds,
                    line.growth_hours,
                    line.training_hours,
                    line.status,
                    line.flagged,
                    line.segments,
                )
                for line in s.scalars(select(CreditLine))
            }
            placed = {m.uuid: (m.session_id, m.status, m.started_at, m.ended_at) for m in s.scalars(select(Meeting))}
            return people, credit, placed

    live = state()
    assert {v[1]: v[3:6] for v in live[1].values()}["email:alice@example.org"] == (D("1.50"), D("0.25"), "pending")
    cli = zoombot_cli()
    assert cli("attendance", "rebuild").output == "rebuilt 2 meeting instances from stored events\n"
    assert state() == live


def test_a_change_inside_the_minute_says_so_in_the_audit_trail(runtime, post_event):
    """The trail shows attended time as h:mm: a late visit of 15 seconds leaves "1:37 attended" on both sides,
    so the entry says what changed instead of reading as a change from X to X."""
    play(post_event, instance(FIRST, 0, 120, [(ALICE, 3, 100)]))
    assert lines(runtime)["email:alice@example.org"].attended_seconds == 97 * 60
    common = {"meeting_uuid": FIRST, "meeting_start_time": iso(0)}
    play(
        post_event,
        [
            zoom_event("participant_left", leave_time=iso(100.75), **ALICE, **common),  # delivered out of order
            zoom_event("participant_joined", join_time=iso(100.5), **ALICE, **common),
        ],
    )
    alice = lines(runtime)["email:alice@example.org"]
    assert alice.attended_seconds == 97 * 60 + 15
    with runtime.db.begin() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == alice.id).order_by(AuditEntry.id.desc())
        ).first()
    assert (entry.action, entry.from_value, entry.to_value) == (
        "recomputed",
        "pending, 1:37 attended, 1.50 h growth",
        "pending, 1:37 attended, 1.50 h growth",
    )
    assert entry.reason.endswith("; attended time changed within the minute (+15 seconds)")
