"""zoombot.review: each staff decision changes exactly what it says and leaves exact audit entries.

The meeting is played through the real webhook endpoint (see staff_support.meeting_events):
Alice 22:30:10-00:25 (1.75 h), Bob 22:45-00:00 (1.25 h), a phone dial-in 22:31-00:25 (1.75 h),
a guest 23:00-23:20 (below the minimum: 0 h); live 22:30-00:30 UTC.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import zoom_event
from staff_support import BOB, add_community, meeting_events, meeting_id, member_id, play
from zoombot import review
from zoombot.models import AuditEntry, HoursRecord, Meeting, Participant, ParticipantAlias, ParticipantMerge

ALICE_KEY, BOB_KEY = "email:alice@example.org", "email:bob@example.org"
PHONE_KEY, GUEST_KEY = "name:+1 555 0100", "name:gina guest"
ACTOR = "reviewer@example.org"


@pytest.fixture
def meeting(runtime, post_event, clock) -> int:
    add_community(runtime, "Infant-Toddler CoP", "81234567890",
                  members=[("Alice Ames", "alice@example.org"), ("Bob Brown", "bob@example.org"),
                           ("Gina Guest", "gina@example.org")])
    play(post_event, meeting_events())
    clock.set(datetime(2026, 10, 15, 12, 0, tzinfo=timezone.utc))
    return meeting_id(runtime)


def records(runtime, mid) -> dict[tuple[str, str], HoursRecord]:
    with runtime.db.begin() as s:
        return {(r.participant_key, r.kind): r for r in s.scalars(select(HoursRecord).where(HoursRecord.meeting_id == mid))}


def record_id(runtime, mid, key, kind="growth") -> int:
    return records(runtime, mid)[(key, kind)].id


def staff_audit(runtime) -> list[tuple]:
    with runtime.db.begin() as s:
        return [(e.actor, e.entity, e.entity_id, e.meeting_id, e.action, e.from_value, e.to_value, e.reason, e.at)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == ACTOR).order_by(AuditEntry.id))]


def test_the_played_meeting_has_the_expected_pending_records(runtime, meeting):
    found = {key: (r.attended_seconds, r.hours, r.status, r.member_id is not None)
             for (key, _), r in records(runtime, meeting).items()}
    assert found == {ALICE_KEY: (6890, Decimal("1.75"), "pending", True),
                     BOB_KEY: (4500, Decimal("1.25"), "pending", True),
                     PHONE_KEY: (6840, Decimal("1.75"), "pending", False),
                     GUEST_KEY: (1200, Decimal("0.00"), "pending", False)}


def test_approve_writes_one_entry_per_record(runtime, meeting, clock):
    ids = [record_id(runtime, meeting, ALICE_KEY), record_id(runtime, meeting, BOB_KEY)]
    with runtime.db.begin() as s:
        assert review.approve(s, ids, actor=ACTOR, now=clock()) == 2
    assert staff_audit(runtime) == [
        (ACTOR, "hours_record", ids[0], meeting, "approved", "pending", "approved", None, clock()),
        (ACTOR, "hours_record", ids[1], meeting, "approved", "pending", "approved", None, clock()),
    ]
    assert records(runtime, meeting)[(PHONE_KEY, "growth")].status == "pending"


def test_approving_a_record_that_is_not_pending_is_refused_and_changes_nothing(runtime, meeting, clock):
    alice, bob = record_id(runtime, meeting, ALICE_KEY), record_id(runtime, meeting, BOB_KEY)
    with runtime.db.begin() as s:
        review.reject(s, alice, actor=ACTOR, now=clock(), reason="not a member")
    before = staff_audit(runtime)
    with pytest.raises(review.ReviewError, match="rejected, not pending"):
        with runtime.db.begin() as s:
            review.approve(s, [bob, alice], actor=ACTOR, now=clock())
    assert staff_audit(runtime) == before
    assert records(runtime, meeting)[(BOB_KEY, "growth")].status == "pending"


def test_approve_meeting_approves_every_pending_record(runtime, meeting, clock):
    with runtime.db.begin() as s:
        review.reject(s, record_id(runtime, meeting, GUEST_KEY), actor=ACTOR, now=clock(), reason="guest")
        assert review.approve_meeting(s, meeting, actor=ACTOR, now=clock()) == 3
    statuses = {key: r.status for (key, _), r in records(runtime, meeting).items()}
    assert statuses == {ALICE_KEY: "approved", BOB_KEY: "approved", PHONE_KEY: "approved", GUEST_KEY: "rejected"}
    assert [entry[4] for entry in staff_audit(runtime)] == ["rejected", "approved", "approved", "approved"]


def test_adjust_needs_a_reason_and_stays_within_a_day(runtime, meeting, clock):
    rid = record_id(runtime, meeting, BOB_KEY)
    for hours, reason, message in [(Decimal("2"), "  ", "reason is required"),
                                   (Decimal("24.01"), "typo", "between 0 and 24"),
                                   (Decimal("-1"), "typo", "between 0 and 24")]:
        with pytest.raises(review.ReviewError, match=message):
            with runtime.db.begin() as s:
                review.adjust(s, rid, hours, actor=ACTOR, now=clock(), reason=reason)
    with runtime.db.begin() as s:
        review.adjust(s, rid, Decimal("2"), actor=ACTOR, now=clock(), reason="stayed on after the host left")
    record = records(runtime, meeting)[(BOB_KEY, "growth")]
    assert (record.hours, record.proposed_hours, record.status) == (Decimal("2.00"), Decimal("1.25"), "pending")
    assert staff_audit(runtime) == [(ACTOR, "hours_record", rid, meeting, "adjusted", "1.25 h", "2.00 h",
                                     "stayed on after the host left", clock())]


def test_reject_then_reopen(runtime, meeting, clock):
    rid = record_id(runtime, meeting, PHONE_KEY)
    with runtime.db.begin() as s:
        review.reject(s, rid, actor=ACTOR, now=clock(), reason="unknown caller")
    with pytest.raises(review.ReviewError, match="reopen a rejected record"):
        with runtime.db.begin() as s:
            review.adjust(s, rid, Decimal("1"), actor=ACTOR, now=clock(), reason="x")
    later = clock() + timedelta(minutes=5)
    with runtime.db.begin() as s:
        review.reopen(s, rid, actor=ACTOR, now=later, reason="caller identified", settings=runtime.settings.hours)
    assert records(runtime, meeting)[(PHONE_KEY, "growth")].status == "pending"
    assert staff_audit(runtime) == [
        (ACTOR, "hours_record", rid, meeting, "rejected", "pending", "rejected", "unknown caller", clock()),
        (ACTOR, "hours_record", rid, meeting, "reopened", "rejected", "pending", "caller identified", later),
    ]


def test_late_events_flag_an_approved_record_and_acknowledge_takes_the_new_figures(runtime, meeting, clock,
                                                                                  post_event):
    rid = record_id(runtime, meeting, BOB_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [rid], actor=ACTOR, now=clock())
    common = {"meeting_uuid": "4444AAAiAAAAAiAiAiiAii==", "meeting_id": "81234567890"}
    play(post_event, [zoom_event("participant_joined", join_time="2026-10-14T00:05:00Z", **BOB, **common),
                      zoom_event("participant_left", leave_time="2026-10-14T00:20:00Z", **BOB, **common)])
    record = records(runtime, meeting)[(BOB_KEY, "growth")]
    assert (record.status, record.flagged, record.attended_seconds, record.hours) == ("approved", True, 4500,
                                                                                     Decimal("1.25"))
    with runtime.db.begin() as s:
        assert s.get(Meeting, meeting).needs_review
        review.acknowledge(s, rid, actor=ACTOR, now=clock(), settings=runtime.settings.hours,
                           hours=Decimal("1.5"), reason="came back after a dropped connection")
    record = records(runtime, meeting)[(BOB_KEY, "growth")]
    assert (record.status, record.flagged, record.flag_reason, record.attended_seconds, record.proposed_hours,
            record.hours) == ("approved", False, None, 5400, Decimal("1.50"), Decimal("1.50"))
    assert staff_audit(runtime)[1:] == [
        (ACTOR, "hours_record", rid, meeting, "acknowledged", "4500 s / 1.25 h", "5400 s / 1.50 h",
         "came back after a dropped connection", clock()),
        (ACTOR, "hours_record", rid, meeting, "adjusted", "1.25 h", "1.50 h",
         "came back after a dropped connection", clock()),
    ]
    with runtime.db.begin() as s:
        assert not s.get(Meeting, meeting).needs_review
    with pytest.raises(review.ReviewError, match="not flagged"):
        with runtime.db.begin() as s:
            review.acknowledge(s, rid, actor=ACTOR, now=clock(), settings=runtime.settings.hours)


def test_match_is_remembered_for_later_meetings(runtime, meeting, clock, post_event):
    gina = member_id(runtime, "gina@example.org")
    rid = record_id(runtime, meeting, GUEST_KEY)
    with runtime.db.begin() as s:
        review.reject(s, rid, actor=ACTOR, now=clock(), reason="unknown guest")
        review.match(s, meeting, GUEST_KEY, gina, actor=ACTOR, now=clock(), settings=runtime.settings.hours)
    with runtime.db.begin() as s:
        alias = s.scalars(select(ParticipantAlias)).one()
        assert (alias.identity_key, alias.member_id, alias.created_by) == (GUEST_KEY, gina, ACTOR)
        participant = s.scalar(select(Participant).where(Participant.identity_key == GUEST_KEY))
        assert (participant.member_id, participant.match_method) == (gina, "staff")
    assert records(runtime, meeting)[(GUEST_KEY, "growth")].member_id == gina  # a reviewed record too
    assert staff_audit(runtime)[1:] == [
        (ACTOR, "participant_alias", alias.id, meeting, "matched", "unmatched", f"member {gina}", None, clock()),
        (ACTOR, "hours_record", rid, meeting, "matched", "unmatched", f"member {gina}", None, clock()),
    ]
    play(post_event, meeting_events(uuid="NEXTmonth0000000000000=="))
    next_meeting = meeting_id(runtime, "NEXTmonth0000000000000==")
    assert records(runtime, next_meeting)[(GUEST_KEY, "growth")].member_id == gina


def test_merge_counts_a_dial_in_once_and_removes_its_pending_record(runtime, meeting, clock):
    phone = record_id(runtime, meeting, PHONE_KEY)
    with runtime.db.begin() as s:
        review.merge(s, meeting, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings.hours)
    after = records(runtime, meeting)
    assert (PHONE_KEY, "growth") not in after
    assert after[(ALICE_KEY, "growth")].attended_seconds == 6890  # 22:30:10-00:25, the phone added nothing new
    with runtime.db.begin() as s:
        merge = s.scalars(select(ParticipantMerge)).one()
        removed = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == phone, AuditEntry.action == "removed")).one()
        assert removed.reason == "participants merged by staff"
    assert staff_audit(runtime) == [(ACTOR, "participant_merge", merge.id, meeting, "merged", PHONE_KEY, ALICE_KEY,
                                     None, clock())]
    with pytest.raises(review.ReviewError):
        with runtime.db.begin() as s:
            review.merge(s, meeting, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings.hours)


def test_merge_keeps_a_reviewed_record_and_flags_it(runtime, meeting, clock):
    phone = record_id(runtime, meeting, PHONE_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [phone], actor=ACTOR, now=clock())
        review.merge(s, meeting, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings.hours)
    record = records(runtime, meeting)[(PHONE_KEY, "growth")]
    assert (record.status, record.flagged) == ("approved", True)


def test_training_window_splits_the_records_and_must_lie_in_the_live_time(runtime, meeting, clock):
    start, end = datetime(2026, 10, 13, 23, 0, tzinfo=timezone.utc), datetime(2026, 10, 13, 23, 30, tzinfo=timezone.utc)
    with pytest.raises(review.ReviewError, match="within the time the meeting was live"):
        with runtime.db.begin() as s:
            review.set_training_window(s, meeting, start - timedelta(hours=1), end, actor=ACTOR, now=clock(),
                                       settings=runtime.settings.hours)
    with runtime.db.begin() as s:
        review.set_training_window(s, meeting, start, end, actor=ACTOR, now=clock(), settings=runtime.settings.hours)
    split = records(runtime, meeting)
    assert (split[(ALICE_KEY, "growth")].attended_seconds, split[(ALICE_KEY, "training")].attended_seconds) == (5090, 1800)
    assert split[(ALICE_KEY, "training")].hours == Decimal("0.50")
    assert staff_audit(runtime) == [(ACTOR, "meeting", meeting, meeting, "training_window", "none",
                                     f"{start.isoformat()} - {end.isoformat()}", None, clock())]
    with runtime.db.begin() as s:
        review.set_training_window(s, meeting, None, None, actor=ACTOR, now=clock(), settings=runtime.settings.hours)
    assert (ALICE_KEY, "training") not in records(runtime, meeting)
