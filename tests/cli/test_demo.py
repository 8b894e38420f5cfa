"""`zoombot demo`: the marked demo, its past meeting played through the real webhook endpoint."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.mail import smtp  # noqa: F401 - fixture
from tests.helpers.zoom_events import zoom_event
from zoombot import demo
from zoombot.core.passwords import check_password
from zoombot.store import agenda_store
from zoombot.store.models import (
    Closure,
    Community,
    CreditLine,
    CreditSession,
    Meeting,
    Member,
    Membership,
    Occurrence,
    ParkingLotItem,
    Participant,
    StaffUser,
    ZoomEvent,
)
from zoombot.store.replanning import replan_community


@pytest.fixture
def cli(zoombot_cli, runtime):
    """The command with the test app's signing key, so a member link it prints opens in the test app."""
    return zoombot_cli(f'[web]\nbase_url = "http://127.0.0.1:8000"\nsecret_key = "{runtime.settings.web.secret_key}"\n')


def passwords(output):
    return dict(re.findall(r"login:\s+(\S+)\s+password: (\S+)", output))


def counts(runtime):
    with runtime.db.begin() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (Community, Member, Membership, StaffUser, Meeting, CreditSession, ZoomEvent, CreditLine)
        )


# Worked out by hand from the script in zoombot.demo.demo_events (minutes after the start; the meeting
# is live 0-125; hours: under 30 min -> 0, capped at the scheduled 120 min, rounded down to 15 min; no
# training segment, so all growth). (attended seconds, growth hours, training hours, status)
EXPECTED = {
    "email:maria.lopez@example.org": (125 * 60, "2.00", "0.00", "pending"),  # host, 0-125
    "email:alice.nguyen@example.org": (120 * 60, "2.00", "0.00", "pending"),  # 2-40 and 43-125: 38 + 82 min
    "email:ben.okafor@example.org": (124 * 60, "2.00", "0.00", "pending"),  # laptop 1-125, phone 30-60 inside it
    "email:carla.smith@example.org": (113 * 60, "1.75", "0.00", "pending"),  # waiting room 5-12 not counted, 12-125
    "name:+1 617-555-0142": (90 * 60, "1.50", "0.00", "pending"),  # dial-in 10-100, no e-mail
    "email:evan.brooks@example.org": (75 * 60, "1.25", "0.00", "pending"),  # late, 50-125
    # early leaver, 3-23: under the minimum, so no credit, resolved by itself (issue 10: it used to wait for
    # review as a 0.00 h record like any other)
    "email:fatima.khan@example.org": (20 * 60, "0.00", "0.00", "no_credit"),
    "email:grace.kim@example.org": (125 * 60, "2.00", "0.00", "pending"),  # joins at 0, no leave: closes at the end
}


def test_demo_plays_the_meeting_through_the_webhook(cli, runtime, clock):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "DEMO DATA seeded: community 'Infant-Toddler CoP (demo)'" in out
    assert "7 credit lines are ready for review, 1 with no credit (below the minimum)" in out
    assert "Staff UI: http://127.0.0.1:8000/staff/\n" in out
    # a demo member's own page, by a working signed link (its page lists her pending 2.00 h)
    link = re.search(
        r"A member's own page \(Alice Nguyen, no password: the link is the key\): "
        r"http://127\.0\.0\.1:8000(/me/\S+)\n",
        out,
    )
    assert link is not None, out
    from zoombot.app import create_app

    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the command made the link on the real clock
    page = create_app(runtime=runtime, test_config={"TESTING": True}).test_client().get(link.group(1))
    assert page.status_code == 200
    assert "Alice Nguyen · Registry ID DEMO-1001" in page.get_data(as_text=True)
    logins = passwords(out)
    assert set(logins) == {"demo@zoombot.example", "maria.lopez@example.org"}
    with runtime.db.begin() as s:
        users = {u.email: u for u in s.scalars(select(StaffUser))}
        assert users["demo@zoombot.example"].role == "staff"
        assert users["maria.lopez@example.org"].role == "facilitator"
        for email, password in logins.items():
            assert len(password) >= 10 and check_password(users[email].password_hash, password)

        community = s.scalars(select(Community)).one()
        assert (
            community.name,
            community.is_demo,
            community.zoom_meeting_id,
            community.rrule,
            community.timezone,
            community.duration_minutes,
        ) == ("Infant-Toddler CoP (demo)", True, "85500000001", "FREQ=MONTHLY;BYDAY=2TU", "America/New_York", 120)
        assert community.join_url.startswith("https://")
        assert community.first_start_local.time().isoformat() == "18:30:00"
        people = s.scalars(select(Member)).all()
        assert len(people) == 9 and all(
            m.is_demo and m.email.endswith("@example.org") and m.registry_id for m in people
        )
        roles = sorted(s.scalars(select(Membership.role)).all())
        assert roles == ["facilitator"] + ["member"] * 8

        meeting = s.scalars(select(Meeting)).one()
        assert meeting.is_demo and meeting.status == "ended" and meeting.community_id == community.id
        local = meeting.started_at.astimezone(demo.zone(demo.TIMEZONE))
        assert local.weekday() == 1 and 8 <= local.day <= 14 and (local.hour, local.minute) == (18, 30)
        assert meeting.ended_at < datetime.now(UTC)
        assert (meeting.ended_at - meeting.started_at).total_seconds() == 125 * 60
        held = s.scalars(select(CreditSession)).one()  # the session of the one instance
        assert (held.is_demo, held.status, held.community_id, held.local_date, held.started_at, held.ended_at) == (
            True,
            "ended",
            community.id,
            local.date(),
            meeting.started_at,
            meeting.ended_at,
        )
        assert [m.id for m in held.meetings] == [meeting.id] and held.needs_review is False

        # every event went through the receiver and was processed
        events = s.execute(select(ZoomEvent.event, ZoomEvent.status, ZoomEvent.source)).all()
        assert len(events) == len(demo.demo_events(meeting.started_at))
        assert {(status, source) for _, status, source in events} == {("processed", "webhook")}

        records = {r.participant_key: r for r in s.scalars(select(CreditLine))}
        assert {
            key: (r.attended_seconds, str(r.growth_hours), str(r.training_hours), r.status)
            for key, r in records.items()
        } == EXPECTED
        assert {r.session_id for r in records.values()} == {held.id}
        assert (
            records["email:fatima.khan@example.org"].no_credit_reason == "attended 20 min, under the 30 minutes minimum"
        )
        assert records["name:+1 617-555-0142"].member_id is None
        assert all(r.member_id for key, r in records.items() if key.startswith("email:"))
        ben = s.scalars(select(Participant).where(Participant.identity_key == "email:ben.okafor@example.org")).one()
        assert (ben.devices, ben.rejoins) == (2, 0)
        # issue 10: a drop and rejoin from the same device is a rejoin, not a second device
        alice = s.scalars(select(Participant).where(Participant.identity_key == "email:alice.nguyen@example.org")).one()
        assert (alice.devices, alice.rejoins) == (1, 1)
        maria = s.scalars(select(Participant).where(Participant.identity_key == "email:maria.lopez@example.org")).one()
        assert maria.is_host

        # a full CoP cycle to look at: the meeting was a planned occurrence, its closure is recorded (a summary,
        # two next steps, a parked question), and next month's agenda draft starts from those next steps
        occurrence = s.scalars(select(Occurrence)).one()
        assert (occurrence.start, occurrence.status, held.occurrence_id) == (
            meeting.started_at,
            "scheduled",
            occurrence.id,
        )
        closure = s.scalars(select(Closure)).one()
        assert (closure.occurrence_id, closure.recorded_by, closure.next_steps) == (
            occurrence.id,
            "maria.lopez@example.org",
            list(demo.CLOSURE.next_steps),
        )
        parked = s.scalars(select(ParkingLotItem)).one()
        assert (parked.text, parked.raised_occurrence_id, parked.closed_at) == (
            "How do we talk with families about screen time at home?",
            occurrence.id,
            None,
        )
        replan_community(s, community, occurrence.end, occurrence.end + timedelta(days=40))
        following = s.scalars(select(Occurrence).where(Occurrence.start > occurrence.start)).one()
        draft = agenda_store.current(s, following, datetime.now(UTC))
        assert draft.topics == tuple("Follow up: " + step for step in demo.CLOSURE.next_steps)
        assert draft.parking_lot == ("How do we talk with families about screen time at home?",)


def test_if_empty_twice_seeds_once(cli, runtime):
    first = cli("demo", "--if-empty")
    assert first.exit_code == 0 and "DEMO DATA seeded" in first.stdout
    seeded = counts(runtime)
    second = cli("demo", "--if-empty")
    assert (second.exit_code, second.stdout) == (0, "demo not seeded: the database already holds data\n")
    assert counts(runtime) == seeded


def test_if_empty_with_zoom_credentials_seeds_nothing(cli, runtime):
    cli.config.write_text(cli.config.read_text() + '[zoom]\naccount_id = "a"\nclient_id = "b"\nclient_secret = "c"\n')
    result = cli("demo", "--if-empty")
    assert result.exit_code == 0
    assert result.stdout == "demo not seeded: Zoom API credentials are configured (this is a real installation)\n"
    assert counts(runtime) == (0, 0, 0, 0, 0, 0, 0, 0)


def test_demo_refuses_real_data(cli, runtime):
    assert (
        cli(
            "community",
            "add",
            "Preschool CoP",
            "--zoom-meeting-id",
            "81234567890",
            "--facilitator",
            "m@example.org",
            "--start",
            "2026-09-08T18:30",
            "--duration",
            "90",
        ).exit_code
        == 0
    )
    before = counts(runtime)
    result = cli("demo")
    assert result.exit_code == 1
    assert result.stderr == "Error: the database holds real data: the demo only goes into an empty database\n"
    assert cli("demo", "--if-empty").stdout == "demo not seeded: the database already holds data\n"
    assert counts(runtime) == before


@pytest.mark.parametrize("real", ["staff", "event"])
def test_a_real_login_or_zoom_event_is_real_data(cli, runtime, post_event, real):
    if real == "staff":
        assert cli("staff", "create", "lee@example.org", "--password-stdin", input="long enough pass\n").exit_code == 0
    else:
        assert post_event(zoom_event("meeting_started")).status_code == 200
    assert cli("demo").exit_code == 1


def test_demo_again_only_gives_its_logins_new_passwords(cli, runtime):
    first = passwords(cli("demo").stdout)
    seeded = counts(runtime)
    again = cli("demo")
    assert again.exit_code == 0
    assert again.stdout.startswith("the demo is already in this database; its logins got new passwords:\n")
    second = passwords(again.stdout)
    assert counts(runtime) == seeded
    with runtime.db.begin() as s:
        user = s.scalars(select(StaffUser).where(StaffUser.email == "demo@zoombot.example")).one()
        assert check_password(user.password_hash, second["demo@zoombot.example"])
        assert not check_password(user.password_hash, first["demo@zoombot.example"])


# --- the pure script ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, first",
    [
        (date(2026, 11, 25), datetime(2026, 5, 12, 18, 30)),
        (date(2026, 3, 1), datetime(2025, 9, 9, 18, 30)),
        (date(2027, 6, 30), datetime(2026, 12, 8, 18, 30)),
    ],
)
def test_first_meeting_is_a_second_tuesday_six_months_back(today, first):
    assert demo.first_meeting_local(today) == first


def test_demo_events_are_in_time_order_and_bracketed_by_start_and_end():
    start = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
    events = demo.demo_events(start, uuid="u==")
    assert events[0]["event"] == "meeting.started" and events[-1]["event"] == "meeting.ended"
    stamps = [e["event_ts"] for e in events]
    assert stamps == sorted(stamps)
    assert stamps[0] == int(start.timestamp() * 1000)
    assert events[-1]["payload"]["object"]["end_time"] == "2026-11-11T01:35:00Z"
    assert {e["payload"]["object"]["uuid"] for e in events} == {"u=="}
    names = [e["event"] for e in events]
    assert names.count("meeting.participant_joined") == 10 and names.count("meeting.participant_left") == 9
    assert "meeting.participant_joined_waiting_room" in names and "meeting.participant_admitted" in names
    assert demo.demo_events(start, uuid="u==") == events  # a pure function of its inputs


def test_the_demo_communitys_messages_are_planned_and_shown_but_never_mailed(make_settings, clock, smtp):
    """The scheduler plans the demo community's invites like any others (staff see them in the outbox),
    and the sender marks them skipped instead of handing fictional addresses to a real SMTP server; a real
    community's invites beside them go out."""
    from tests.helpers.mail import add_community, mail_settings, run_jobs
    from zoombot.runtime import Runtime
    from zoombot.store.models import OutboxMessage

    runtime = Runtime.from_settings(make_settings(mail=mail_settings(smtp), schedule={"horizon_days": 40}))
    runtime.clock = clock
    try:
        demo.seed(runtime)
        add_community(
            runtime,
            name="Real CoP",
            start=datetime(2026, 11, 12, 18, 30),
            zoom_id="81299990000",
            rrule="FREQ=MONTHLY;BYDAY=2TH",
        )
        received = []
        start = clock()
        for day in range(0, 36, 5):  # five weeks of scheduler passes: invites, agendas, reminders fall due
            clock.set(start + timedelta(days=day))
            run_jobs(runtime)
            received += smtp.take()
        with runtime.db.begin() as s:
            rows = [(m.recipient, m.status, m.last_error, m.due_at) for m in s.scalars(select(OutboxMessage))]
            demo_addresses = {m.email for m in s.scalars(select(Member).where(Member.is_demo.is_(True)))}
    finally:
        runtime.db.dispose()
    demo_rows = [r for r in rows if r[0] in demo_addresses]
    due = [r for r in demo_rows if r[3] <= clock()]
    assert due and {status for _, status, _, _ in due} == {"skipped"}  # none sent, none retried or failed
    reasons = {error for _, _, error, _ in due}
    assert "demo data: never mailed" in reasons and reasons <= {
        "demo data: never mailed",
        "expired before it could be sent",
    }
    assert all(status == "pending" for _, status, _, at in demo_rows if at > clock())
    sent_to = {address for message in received for address in message.to}
    assert sent_to and not sent_to & demo_addresses
