"""zoombot.store.review: each staff decision changes exactly what it says and leaves exact audit entries.

The session is played through the real webhook endpoint (see staff_support.meeting_events):
Alice 22:30:10-00:25 (1.75 h), Bob 22:45-00:00 (1.25 h), a phone dial-in 22:31-00:25 (1.75 h),
a guest 23:00-23:20 (under the 30-minute minimum: no credit); live 22:30-00:30 UTC (18:30-20:30 New York),
scheduled 120 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers.staff import BOB, add_community, meeting_events, member_id, play, session_id
from tests.helpers.zoom_events import zoom_event
from zoombot.store import review
from zoombot.store.models import (
    AuditEntry,
    CreditLine,
    CreditSession,
    Participant,
    ParticipantAlias,
    ParticipantMerge,
    TrainingSegment,
)

ALICE_KEY, BOB_KEY = "email:alice@example.org", "email:bob@example.org"
PHONE_KEY, GUEST_KEY = "name:+1 555 0100", "name:gina guest"
ACTOR = "reviewer@example.org"
D = Decimal


def utc(hour: int, minute: int, day: int = 13) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def held(runtime, post_event, clock) -> int:
    add_community(
        runtime,
        "Infant-Toddler CoP",
        "81234567890",
        members=[
            ("Alice Ames", "alice@example.org"),
            ("Bob Brown", "bob@example.org"),
            ("Gina Guest", "gina@example.org"),
        ],
    )
    play(post_event, meeting_events())
    clock.set(datetime(2026, 10, 15, 12, 0, tzinfo=UTC))
    return session_id(runtime)


def lines(runtime, sid) -> dict[str, CreditLine]:
    with runtime.db.begin() as s:
        return {r.participant_key: r for r in s.scalars(select(CreditLine).where(CreditLine.session_id == sid))}


def line_id(runtime, sid, key) -> int:
    return lines(runtime, sid)[key].id


def staff_audit(runtime) -> list[tuple]:
    with runtime.db.begin() as s:
        return [
            (e.actor, e.entity, e.entity_id, e.session_id, e.action, e.from_value, e.to_value, e.reason, e.at)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == ACTOR).order_by(AuditEntry.id))
        ]


def figures(line: CreditLine) -> tuple:
    return (line.attended_seconds, line.growth_hours, line.training_hours, line.status)


def test_the_played_session_has_one_line_per_person(runtime, held):
    found = {key: (*figures(r), r.member_id is not None) for key, r in lines(runtime, held).items()}
    assert found == {
        ALICE_KEY: (6890, D("1.75"), D("0.00"), "pending", True),
        BOB_KEY: (4500, D("1.25"), D("0.00"), "pending", True),
        PHONE_KEY: (6840, D("1.75"), D("0.00"), "pending", False),
        GUEST_KEY: (1200, D("0.00"), D("0.00"), "no_credit", False),
    }
    guest = lines(runtime, held)[GUEST_KEY]
    assert guest.no_credit_reason == "attended 20 min, under the 30 minutes minimum"
    with runtime.db.begin() as s:  # a no-credit line asks nothing of staff
        assert s.get(CreditSession, held).needs_review is False


def test_approve_writes_one_entry_per_line(runtime, held, clock):
    ids = [line_id(runtime, held, ALICE_KEY), line_id(runtime, held, BOB_KEY)]
    with runtime.db.begin() as s:
        assert review.approve(s, ids, actor=ACTOR, now=clock()) == 2
    assert staff_audit(runtime) == [
        (
            ACTOR,
            "credit_line",
            ids[0],
            held,
            "approved",
            "pending, 1:54 attended, 1.75 h growth",
            "approved, 1.75 h growth",
            None,
            clock(),
        ),
        (
            ACTOR,
            "credit_line",
            ids[1],
            held,
            "approved",
            "pending, 1:15 attended, 1.25 h growth",
            "approved, 1.25 h growth",
            None,
            clock(),
        ),
    ]
    alice = lines(runtime, held)[ALICE_KEY]
    assert (alice.status, alice.decided_by, alice.decided_at) == ("approved", ACTOR, clock())
    assert lines(runtime, held)[PHONE_KEY].status == "pending"


def test_approving_a_line_that_is_not_pending_is_refused_and_changes_nothing(runtime, held, clock):
    alice, bob, guest = (line_id(runtime, held, k) for k in (ALICE_KEY, BOB_KEY, GUEST_KEY))
    with runtime.db.begin() as s:
        review.reject(s, alice, actor=ACTOR, now=clock(), reason="not a member")
    before = staff_audit(runtime)
    for refused, message in [(alice, "rejected, not pending"), (guest, "no credit, not pending")]:
        with pytest.raises(review.ReviewError, match=message):
            with runtime.db.begin() as s:
                review.approve(s, [bob, refused], actor=ACTOR, now=clock())
    assert staff_audit(runtime) == before
    assert lines(runtime, held)[BOB_KEY].status == "pending"


def test_approve_session_approves_every_pending_line_and_leaves_no_credit_alone(runtime, held, clock):
    with runtime.db.begin() as s:
        review.reject(s, line_id(runtime, held, PHONE_KEY), actor=ACTOR, now=clock(), reason="unknown caller")
        assert review.approve_session(s, held, actor=ACTOR, now=clock()) == 2
    statuses = {key: r.status for key, r in lines(runtime, held).items()}
    assert statuses == {ALICE_KEY: "approved", BOB_KEY: "approved", PHONE_KEY: "rejected", GUEST_KEY: "no_credit"}
    assert [entry[4] for entry in staff_audit(runtime)] == ["rejected", "approved", "approved"]


def test_adjust_needs_a_reason_stays_within_a_day_and_the_cap_needs_an_override(runtime, held, clock):
    lid = line_id(runtime, held, BOB_KEY)
    for growth, reason, message in [
        (D("2"), "  ", "reason is required"),
        (D("24.01"), "typo", "between 0 and 24"),
        (D("-1"), "typo", "between 0 and 24"),
        (D("2.25"), "typo", "more than the 2.00 h this session allows"),
    ]:
        with pytest.raises(review.ReviewError, match=message):
            with runtime.db.begin() as s:
                review.adjust(
                    s, lid, growth, D("0"), actor=ACTOR, now=clock(), reason=reason, settings=runtime.settings
                )
    with runtime.db.begin() as s:
        review.adjust(
            s,
            lid,
            D("1.5"),
            D("0.5"),
            actor=ACTOR,
            now=clock(),
            reason="stayed on after the host left",
            settings=runtime.settings,
        )
    line = lines(runtime, held)[BOB_KEY]
    assert (
        line.growth_hours,
        line.training_hours,
        line.proposed_growth_hours,
        line.adjusted,
        line.status,
        line.override_reason,
    ) == (D("1.50"), D("0.50"), D("1.25"), True, "pending", None)
    with runtime.db.begin() as s:
        review.adjust(
            s,
            lid,
            D("24"),
            D("0"),
            actor=ACTOR,
            now=clock(),
            reason="typo",
            settings=runtime.settings,
            override="the registry allows a full day for this training",
        )
    line = lines(runtime, held)[BOB_KEY]
    assert (line.growth_hours, line.override_reason) == (D("24.00"), "the registry allows a full day for this training")
    assert staff_audit(runtime) == [
        (
            ACTOR,
            "credit_line",
            lid,
            held,
            "adjusted",
            "pending, 1:15 attended, 1.25 h growth",
            "pending, 1:15 attended, 1.50 h growth + 0.50 h training",
            "stayed on after the host left",
            clock(),
        ),
        (
            ACTOR,
            "credit_line",
            lid,
            held,
            "adjusted",
            "pending, 1:15 attended, 1.50 h growth + 0.50 h training",
            "pending, 1:15 attended, 24.00 h growth",
            "typo (over the session's cap: the registry allows a full day for this training)",
            clock(),
        ),
    ]


def test_a_no_credit_line_can_be_overridden(runtime, held, clock):
    lid = line_id(runtime, held, GUEST_KEY)
    with runtime.db.begin() as s:
        review.adjust(
            s, lid, D("0.25"), D("0"), actor=ACTOR, now=clock(), reason="joined by phone too", settings=runtime.settings
        )
    assert figures(lines(runtime, held)[GUEST_KEY]) == (1200, D("0.25"), D("0.00"), "pending")


def test_reject_then_reopen(runtime, held, clock):
    lid = line_id(runtime, held, PHONE_KEY)
    with runtime.db.begin() as s:
        review.reject(s, lid, actor=ACTOR, now=clock(), reason="unknown caller")
    with pytest.raises(review.ReviewError, match="reopen a rejected line"):
        with runtime.db.begin() as s:
            review.adjust(s, lid, D("1"), D("0"), actor=ACTOR, now=clock(), reason="x", settings=runtime.settings)
    later = clock() + timedelta(minutes=5)
    with runtime.db.begin() as s:
        review.reopen(s, lid, actor=ACTOR, now=later, reason="caller identified", settings=runtime.settings)
    assert lines(runtime, held)[PHONE_KEY].status == "pending"
    assert staff_audit(runtime) == [
        (
            ACTOR,
            "credit_line",
            lid,
            held,
            "rejected",
            "pending, 1:54 attended, 1.75 h growth",
            "rejected, 1.75 h growth",
            "unknown caller",
            clock(),
        ),
        (
            ACTOR,
            "credit_line",
            lid,
            held,
            "reopened",
            "rejected, 1:54 attended, 1.75 h growth",
            "pending, 1.75 h growth",
            "caller identified",
            later,
        ),
    ]


def test_late_events_reopen_an_approved_line_and_approving_it_again_clears_the_flag(runtime, held, clock, post_event):
    lid = line_id(runtime, held, BOB_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [lid], actor=ACTOR, now=clock())
    common = {"meeting_uuid": "4444AAAiAAAAAiAiAiiAii==", "meeting_id": "81234567890"}
    play(
        post_event,
        [
            zoom_event("participant_joined", join_time="2026-10-14T00:05:00Z", **BOB, **common),
            zoom_event("participant_left", leave_time="2026-10-14T00:20:00Z", **BOB, **common),
        ],
    )
    line = lines(runtime, held)[BOB_KEY]
    assert figures(line) == (5400, D("1.50"), D("0.00"), "pending")
    assert line.flagged and line.flag_reason == (
        "approved line reopened: was approved, 1:15 attended, 1.25 h growth; now 1.50 h growth proposed"
    )
    with runtime.db.begin() as s:
        assert s.get(CreditSession, held).needs_review
        review.approve(s, [lid], actor=ACTOR, now=clock(), reason="came back after a dropped connection")
    line = lines(runtime, held)[BOB_KEY]
    assert (line.status, line.flagged, line.flag_reason) == ("approved", False, None)
    assert staff_audit(runtime)[1][7] == (
        "came back after a dropped connection; flag cleared: approved line "
        "reopened: was approved, 1:15 attended, 1.25 h growth; now 1.50 h "
        "growth proposed"
    )
    with runtime.db.begin() as s:
        assert not s.get(CreditSession, held).needs_review
        assert len(s.scalars(select(CreditLine).where(CreditLine.session_id == held)).all()) == 4  # nothing beside


def test_match_is_remembered_for_later_sessions_and_reopens_a_decided_line(runtime, held, clock, post_event):
    gina = member_id(runtime, "gina@example.org")
    lid = line_id(runtime, held, GUEST_KEY)
    with runtime.db.begin() as s:
        review.reject(s, lid, actor=ACTOR, now=clock(), reason="unknown guest")
        review.match(s, held, GUEST_KEY, gina, actor=ACTOR, now=clock(), settings=runtime.settings)
    with runtime.db.begin() as s:
        alias = s.scalars(select(ParticipantAlias)).one()
        assert (alias.identity_key, alias.member_id, alias.created_by) == (GUEST_KEY, gina, ACTOR)
        participant = s.scalar(select(Participant).where(Participant.identity_key == GUEST_KEY))
        assert (participant.member_id, participant.match_method) == (gina, "staff")
    guest = lines(runtime, held)[GUEST_KEY]
    assert (guest.member_id, guest.status, guest.flagged) == (gina, "pending", True)  # reopened: new member
    assert staff_audit(runtime)[1] == (
        ACTOR,
        "participant_alias",
        alias.id,
        held,
        "matched",
        "Gina Guest: unmatched",
        "Gina Guest: Gina Guest",
        None,
        clock(),
    )
    play(post_event, meeting_events(uuid="NEXTmonth0000000000000==", days_later=28))
    assert lines(runtime, session_id(runtime, "NEXTmonth0000000000000=="))[GUEST_KEY].member_id == gina
    with runtime.db.begin() as s:
        review.unmatch(s, held, GUEST_KEY, actor=ACTOR, now=clock(), settings=runtime.settings)
        assert s.scalars(select(ParticipantAlias)).all() == []
    assert lines(runtime, held)[GUEST_KEY].member_id is None


def test_a_match_whose_alias_is_undone_at_that_moment_is_refused_plainly(runtime, held, clock, monkeypatch):
    """The alias insert met one already there (a conflict), which an unmatch committed in between then
    deleted before it was read (PostgreSQL, read committed): a ReviewError to retry, not an AttributeError."""
    gina = member_id(runtime, "gina@example.org")
    monkeypatch.setattr(review, "insert_ignoring_conflict", lambda *args, **kwargs: None)  # a conflict, row gone
    with pytest.raises(review.ReviewError, match="changed at the same moment"), runtime.db.begin() as s:
        review.match(s, held, GUEST_KEY, gina, actor=ACTOR, now=clock(), settings=runtime.settings)
    with runtime.db.begin() as s:
        assert s.scalars(select(ParticipantAlias)).all() == []


def test_merge_counts_a_dial_in_once_and_undo_brings_it_back(runtime, held, clock):
    phone = line_id(runtime, held, PHONE_KEY)
    with runtime.db.begin() as s:
        review.merge(s, held, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings)
    after = lines(runtime, held)
    assert PHONE_KEY not in after
    assert after[ALICE_KEY].attended_seconds == 6890  # 22:30:10-00:25, the phone added nothing new
    with runtime.db.begin() as s:
        merge = s.scalars(select(ParticipantMerge)).one()
        removed = s.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == phone, AuditEntry.action == "removed")
        ).one()
        assert removed.reason == "participants merged by staff"
    assert staff_audit(runtime) == [
        (ACTOR, "participant_merge", merge.id, held, "merged", "+1 555 0100", "Alice Ames", None, clock())
    ]
    with pytest.raises(review.ReviewError, match="no such participant"):  # merged away: it is Alice now
        with runtime.db.begin() as s:
            review.merge(s, held, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings)
    with runtime.db.begin() as s:
        assert review.undo_merge(s, merge.id, actor=ACTOR, now=clock(), settings=runtime.settings) == held
    assert figures(lines(runtime, held)[PHONE_KEY]) == (6840, D("1.75"), D("0.00"), "pending")
    assert staff_audit(runtime)[-1][4:7] == ("unmerged", f"{PHONE_KEY} = {ALICE_KEY}", "two participants")


def test_merging_an_approved_line_reopens_it_at_zero(runtime, held, clock):
    phone = line_id(runtime, held, PHONE_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [phone], actor=ACTOR, now=clock())
        review.merge(s, held, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings)
    line = lines(runtime, held)[PHONE_KEY]
    assert figures(line) == (0, D("0.00"), D("0.00"), "pending") and line.flagged
    assert line.flag_reason == (
        "approved line reopened: was approved, 1:54 attended, 1.75 h growth; now 0.00 h growth proposed"
    )


def test_training_segments_split_lines_and_never_change_totals(runtime, held, clock):
    with pytest.raises(review.ReviewError, match="within the time the session was live"):
        with runtime.db.begin() as s:
            review.save_segment(
                s,
                held,
                start=utc(22, 0),
                end=utc(23, 30),
                title="Safe sleep",
                category="",
                approval_code="",
                actor=ACTOR,
                now=clock(),
                settings=runtime.settings,
            )
    with pytest.raises(review.ReviewError, match="choose a category"):
        with runtime.db.begin() as s:
            review.save_segment(
                s,
                held,
                start=utc(23, 0),
                end=utc(23, 30),
                title="Safe sleep",
                category="Knitting",
                approval_code="",
                actor=ACTOR,
                now=clock(),
                settings=runtime.settings,
            )
    with runtime.db.begin() as s:
        segment = review.save_segment(
            s,
            held,
            start=utc(23, 0),
            end=utc(23, 30),
            title="Safe sleep",
            category="Health, Safety and Nutrition",
            approval_code="NV-2026-114",
            actor=ACTOR,
            now=clock(),
            settings=runtime.settings,
        ).id
    split = lines(runtime, held)
    # Alice: 1.75 in all, 30 minutes of training; Bob (22:45-00:00): 1.25 in all, 30 of training;
    # the guest (23:00-23:20) stays at no credit: training never makes a total
    assert {k: figures(line) for k, line in split.items()} == {
        ALICE_KEY: (6890, D("1.25"), D("0.50"), "pending"),
        BOB_KEY: (4500, D("0.75"), D("0.50"), "pending"),
        PHONE_KEY: (6840, D("1.25"), D("0.50"), "pending"),
        GUEST_KEY: (1200, D("0.00"), D("0.00"), "no_credit"),
    }
    assert split[ALICE_KEY].segments[0]["approval_code"] == "NV-2026-114"
    assert staff_audit(runtime) == [
        (
            ACTOR,
            "training_segment",
            segment,
            held,
            "segment_added",
            None,
            "2026-10-13T23:00:00+00:00 - 2026-10-13T23:30:00+00:00, Safe sleep, "
            "Health, Safety and Nutrition, approval NV-2026-114",
            None,
            clock(),
        )
    ]
    with pytest.raises(review.ReviewError, match="must not overlap"):
        with runtime.db.begin() as s:
            review.save_segment(
                s,
                held,
                start=utc(23, 20),
                end=utc(23, 50),
                title="Second",
                category="",
                approval_code="",
                actor=ACTOR,
                now=clock(),
                settings=runtime.settings,
            )
    with runtime.db.begin() as s:
        review.delete_segment(s, held, segment, actor=ACTOR, now=clock(), settings=runtime.settings)
        assert s.scalars(select(TrainingSegment)).all() == []
    assert figures(lines(runtime, held)[ALICE_KEY]) == (6890, D("1.75"), D("0.00"), "pending")


def test_a_segment_marked_after_approval_reopens_the_line_and_creates_nothing_beside_it(runtime, held, clock):
    lid = line_id(runtime, held, ALICE_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [lid], actor=ACTOR, now=clock())
        review.save_segment(
            s,
            held,
            start=utc(23, 0),
            end=utc(23, 30),
            title="Safe sleep",
            category="",
            approval_code="",
            actor=ACTOR,
            now=clock(),
            settings=runtime.settings,
        )
    alice = lines(runtime, held)[ALICE_KEY]
    assert (alice.id, alice.total_hours) == (lid, D("1.75"))  # the same line, the same total: only the split
    assert figures(alice) == (6890, D("1.25"), D("0.50"), "pending") and alice.flagged
    assert alice.flag_reason == (
        "approved line reopened: was approved, 1:54 attended, 1.75 h growth; "
        "now 1.25 h growth + 0.50 h training proposed"
    )
    with runtime.db.begin() as s:
        assert (
            s.scalar(
                select(CreditLine.id).where(CreditLine.session_id == held, CreditLine.participant_key == ALICE_KEY)
            )
            == lid
        )


def test_undoing_the_merge_brings_a_reopened_lines_flag_up_to_date(runtime, held, clock):
    """The approved phone line, reopened at zero by the merge, gets its hours back when the merge is undone:
    it stays flagged (the approval was undone), and the flag says what it proposes now, not 0.00 h."""
    phone = line_id(runtime, held, PHONE_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [phone], actor=ACTOR, now=clock())
        review.merge(s, held, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings)
        merge = s.scalars(select(ParticipantMerge)).one()
        review.undo_merge(s, merge.id, actor=ACTOR, now=clock(), settings=runtime.settings)
    line = lines(runtime, held)[PHONE_KEY]
    assert figures(line) == (6840, D("1.75"), D("0.00"), "pending") and line.flagged
    assert line.flag_reason == (
        "approved line reopened: was approved, 1:54 attended, 1.75 h growth; now 1.75 h growth proposed"
    )


def test_undoing_the_merge_of_a_line_once_decided_says_its_attendance_is_back(runtime, held, clock):
    """A line staff approved and then reopened is kept (not removed) when merged away, flagged for having no
    attendance of its own; the merge undone, the flag says it has some again, and what it proposes."""
    phone = line_id(runtime, held, PHONE_KEY)
    with runtime.db.begin() as s:
        review.approve(s, [phone], actor=ACTOR, now=clock())
        review.reopen(s, phone, actor=ACTOR, now=clock(), reason="check the dial-in", settings=runtime.settings)
        review.merge(s, held, PHONE_KEY, ALICE_KEY, actor=ACTOR, now=clock(), settings=runtime.settings)
    line = lines(runtime, held)[PHONE_KEY]
    assert (line.attended_seconds, line.flagged, line.flag_reason) == (
        0,
        True,
        "no attendance of its own any more (merged or removed)",
    )
    with runtime.db.begin() as s:
        merge = s.scalars(select(ParticipantMerge)).one()
        review.undo_merge(s, merge.id, actor=ACTOR, now=clock(), settings=runtime.settings)
    line = lines(runtime, held)[PHONE_KEY]
    assert figures(line) == (6840, D("1.75"), D("0.00"), "pending") and line.flagged
    assert line.flag_reason == "attendance of its own again after it had none: now 1.75 h growth proposed"
