"""The rebuild with its rules in a process of their own (`zoombot.store.rules_process`) gives exactly what the
rebuild in one process gives, decisions included; the rules process only reads; its failure fails the rebuild
and leaves nothing written. Three communities meet twice (the meeting of staff_support.meeting_events: Alice,
Bob, a phone, a guest); in the first community's first session the host ended by mistake and started again
(a second instance, where Bob came back for 19 minutes), and staff merged the phone into Alice; a Zoom meeting
of no community meets once. Chunks of two instances, so the rebuild takes five chunks and a session spans two."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError

from tests.helpers.staff import BOB, instance, play, play_year
from tests.helpers.zoom_events import zoom_event
from zoombot.core import recompute
from zoombot.store import meetings, review, rules_process
from zoombot.store.db import Database
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Meeting, Participant

ZOOM_IDS = ["81111111111", "82222222222", "83333333333"]
LONE = "89999999999"
RESTART = "81111111111Restart00=="
STAFF = "staff@example.org"


@pytest.fixture
def played(runtime, post_event):
    play_year(runtime, post_event, ZOOM_IDS, LONE)
    again = {"meeting_uuid": RESTART, "meeting_id": ZOOM_IDS[0]}
    play(
        post_event,
        [
            zoom_event("meeting_started", meeting_start_time="2026-10-14T00:40:00Z", **again),
            zoom_event("participant_joined", join_time="2026-10-14T00:41:00Z", **BOB, **again),
            zoom_event("participant_left", leave_time="2026-10-14T01:00:00Z", **BOB, **again),
            zoom_event(
                "meeting_ended",
                meeting_start_time="2026-10-14T00:40:00Z",
                meeting_end_time="2026-10-14T01:10:00Z",
                **again,
            ),
        ],
    )
    with runtime.db.begin() as s:
        first = s.scalar(select(Meeting.session_id).where(Meeting.uuid == instance(ZOOM_IDS[0], 0)))
        phone = s.scalar(
            select(Participant.identity_key).where(Participant.session_id == first, Participant.name == "+1 555 0100")
        )
        review.merge(
            s, first, phone, "email:alice@example.org", actor=STAFF, now=runtime.now(), settings=runtime.settings
        )


def snapshot(runtime) -> dict[str, list[tuple]]:
    with runtime.db.begin() as s:
        return {
            "lines": sorted(
                s.execute(
                    select(
                        CreditSession.key,
                        CreditLine.participant_key,
                        CreditLine.attended_seconds,
                        CreditLine.proposed_growth_hours,
                        CreditLine.growth_hours,
                        CreditLine.status,
                        CreditLine.member_id,
                        CreditLine.flagged,
                    ).join(CreditSession, CreditSession.id == CreditLine.session_id)
                ).all()
            ),
            "participants": sorted(
                s.execute(
                    select(
                        CreditSession.key,
                        Participant.identity_key,
                        Participant.attended_seconds,
                        Participant.intervals,
                        Participant.devices,
                        Participant.member_id,
                    ).join(CreditSession, CreditSession.id == Participant.session_id)
                ).all()
            ),
            "sessions": sorted(
                s.execute(
                    select(CreditSession.key, CreditSession.status, CreditSession.started_at, CreditSession.ended_at)
                ).all()
            ),
            "meetings": sorted(
                s.execute(
                    select(Meeting.uuid, Meeting.status, Meeting.ended_at, CreditSession.key).join(
                        CreditSession, CreditSession.id == Meeting.session_id
                    )
                ).all()
            ),
            "audit": sorted(
                s.execute(select(AuditEntry.action, func.count(AuditEntry.id)).group_by(AuditEntry.action)).all()
            ),
        }


def forget_derived(runtime, *, sessions_too: bool = False) -> None:
    """Derived rows gone, as after a restore of the events alone; staff merges stay with their sessions
    unless the sessions go too."""
    with runtime.db.begin() as s:
        models = [AuditEntry, CreditLine, Participant] + ([Meeting, CreditSession] if sessions_too else [])
        for model in models:
            s.execute(delete(model))


def rebuild(runtime, *, in_process: bool) -> int:
    with runtime.db.begin() as s:
        if in_process:
            return meetings.rebuild(s, runtime.settings, runtime.now())
        return rules_process.rebuild(s, runtime.db.url, runtime.settings, runtime.now())


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(meetings, "REBUILD_CHUNK", 2)


@pytest.fixture
def started(monkeypatch):
    """The rules processes started during a test."""
    seen: list[rules_process.RulesProcess] = []
    original = rules_process.RulesProcess.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self)

    monkeypatch.setattr(rules_process.RulesProcess, "__init__", init)
    return seen


def test_the_rules_process_rebuilds_exactly_what_one_process_rebuilds(runtime, played, small_chunks, started):
    live = snapshot(runtime)
    session_keys = {row[0] for row in live["sessions"]}
    assert len(session_keys) == 7  # the restart joined its session
    first_day = next(row[3] for row in live["meetings"] if row[0] == RESTART)
    mine = {row[1]: row for row in live["lines"] if row[0] == first_day}
    # the phone merged into Alice (her union is her own time: 22:30:10-00:25, 6890 s); Bob 75 + 19 minutes:
    # 94 minutes, 1.50 h in quarter hours; the guest's 20 minutes are below the 30-minute minimum
    assert {key: (row[2], row[3]) for key, row in mine.items()} == {
        "email:alice@example.org": (6890, Decimal("1.75")),
        "email:bob@example.org": (5640, Decimal("1.50")),
        "name:gina guest": (1200, Decimal("0.00")),
    }

    # over the live data: nothing changes, not even an audit entry
    assert rebuild(runtime, in_process=False) == 8
    assert len(started) == 1 and snapshot(runtime) == live

    # participants, lines and audit gone (sessions and the staff merge kept): one process, then two
    forget_derived(runtime)
    assert rebuild(runtime, in_process=True) == 8
    one = snapshot(runtime)
    forget_derived(runtime)
    assert rebuild(runtime, in_process=False) == 8
    assert len(started) == 2 and snapshot(runtime) == one
    assert one["lines"] == live["lines"] and one["participants"] == live["participants"]
    assert dict(one["audit"]) == {"created": 6 * 4 - 1 + 4}  # a line each: 4 people a session, 3 after the merge

    # every derived row gone, sessions too (the merge with them): both ways agree again
    forget_derived(runtime, sessions_too=True)
    assert rebuild(runtime, in_process=True) == 8
    one = snapshot(runtime)
    forget_derived(runtime, sessions_too=True)
    assert rebuild(runtime, in_process=False) == 8
    assert snapshot(runtime) == one
    phone_back = {row[1] for row in one["lines"] if row[0] == first_day}
    assert "name:+1 555 0100" in phone_back  # the merge went with its session


def test_a_small_rebuild_keeps_its_rules_in_its_own_process(runtime, played, started):
    assert rebuild(runtime, in_process=False) == 8  # 8 instances, chunks of 200: one chunk
    assert started == []


def test_the_rules_process_reads_only(runtime, played):
    reader = Database(runtime.db.url, pool_size=1, max_overflow=0, read_only=True)
    try:
        with pytest.raises(DBAPIError, match="read-only|readonly"):
            with reader.begin() as s:
                s.execute(delete(AuditEntry))
        with reader.begin() as s:  # reading beside a writer's open transaction (SQLite: no write lock taken)
            with runtime.db.begin() as writer:
                writer.execute(text("UPDATE communities SET name = name"))
                assert s.scalar(select(func.count(Meeting.id))) == 8
    finally:
        reader.dispose()


def test_a_failing_rules_process_fails_the_rebuild_and_writes_nothing(runtime, played, small_chunks, tmp_path):
    forget_derived(runtime, sessions_too=True)
    elsewhere = f"sqlite:///{tmp_path}/empty.db"  # the child's database has no events table
    with pytest.raises(rules_process.RulesProcessFailed, match="OperationalError: .*no such table"):
        with runtime.db.begin() as s:
            meetings_before = s.scalar(select(func.count(Meeting.id)))
            with rules_process.RulesProcess(elsewhere, local=meetings.RebuildRules(s)) as rules:
                meetings.rebuild(s, runtime.settings, runtime.now(), rules=rules)
    assert meetings_before == 0
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count(Meeting.id))) == 0
        assert s.scalar(select(func.count(CreditLine.id))) == 0


def test_the_rules_process_ends_with_the_rebuild(runtime, played):
    with rules_process.RulesProcess(runtime.db.url) as rules:
        events = rules.read([instance(LONE, 0)]).result()
        process = rules._process
        assert process.is_alive()
    assert events[instance(LONE, 0)].meeting_id == LONE
    assert [name for name, _ in events[instance(LONE, 0)].lifecycle] == ["meeting.started", "meeting.ended"]
    assert not process.is_alive() and process.exitcode == 0


def test_only_a_database_another_process_can_open_is_shared():
    assert rules_process.can_share("sqlite:////var/data/zoombot.db")
    assert rules_process.can_share("postgresql://zoombot@db.example.org/zoombot")
    assert not rules_process.can_share("sqlite://")
    assert not rules_process.can_share("sqlite:///:memory:")


def test_requests_and_answers_larger_than_a_pipe_never_deadlock(runtime, played):
    """The rebuild sends while the child may be sending too (a read ahead, a batch's inputs, a batch's
    answer): a pipe holds about 64 KiB, and the two sides must never wait for each other."""
    asked = [instance(z, n) for z in ZOOM_IDS for n in (0, 1)]
    many = [
        recompute.SessionInputs(at, tuple((f"Nobody{at:05d}-{n}==", None) for n in range(20))) for at in range(3000)
    ]  # about 1 MB of inputs, for instances with no events
    outcome: dict[str, object] = {}

    def drive() -> None:
        with rules_process.RulesProcess(runtime.db.url) as rules:
            reads = [rules.read(asked) for _ in range(300)]  # 300 answers of six instances each, not read yet
            computed = rules.compute(many)  # a large request while the child's answers wait
            outcome["reads"] = [sorted(r.result()) for r in reads]
            outcome["computed"] = computed.result()

    worker = threading.Thread(target=drive, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the rebuild and its rules process wait for each other"
    assert outcome["reads"] == [sorted(asked)] * 300
    computed = outcome["computed"]
    assert isinstance(computed, dict) and len(computed) == 3000
    assert all(not done.attendance.people and done.lines is None for done in computed.values())
