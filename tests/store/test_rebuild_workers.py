"""`zoombot attendance rebuild --workers N`: the rebuild split by community over processes (PostgreSQL), each in
its own transaction, gives exactly what live processing gave; SQLite, with its single writer, refuses more
than one process. Three communities meet twice each (the meeting of staff_support.meeting_events: Alice, Bob,
a phone, a guest), and a Zoom meeting of no community once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from tests.helpers.staff import instance, play_year
from zoombot.store import meetings, rebuild_workers, review
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Meeting, Participant

ZOOM_IDS = ["81111111111", "82222222222", "83333333333"]
LONE = "89999999999"  # a Zoom meeting no community uses
STAFF = "staff@example.org"


@pytest.fixture
def played(runtime, post_event):
    play_year(runtime, post_event, ZOOM_IDS, LONE)
    with runtime.db.begin() as s:  # a decision a rebuild must keep
        first = s.scalar(select(CreditLine.id).order_by(CreditLine.id))
        review.approve(s, [first], actor=STAFF, now=runtime.now())


def snapshot(runtime) -> list[tuple]:
    with runtime.db.begin() as s:
        return sorted(
            s.execute(
                select(
                    CreditSession.key,
                    CreditLine.participant_key,
                    CreditLine.attended_seconds,
                    CreditLine.proposed_growth_hours,
                    CreditLine.status,
                    CreditLine.member_id,
                ).join(CreditSession, CreditSession.id == CreditLine.session_id)
            ).all()
        )


def audit_count(runtime) -> int:
    with runtime.db.begin() as s:
        return s.scalar(select(func.count(AuditEntry.id)))


def test_partitions_keep_each_community_whole_and_the_rebuild_order(runtime, played):
    with runtime.db.begin() as s:
        parts = meetings.partitions(s, 2)
    everything = [uuid for part in parts for uuid in part]
    assert sorted(everything) == sorted([instance(z, n) for z in ZOOM_IDS for n in (0, 1)] + [instance(LONE, 0)])
    assert len(parts) == 2 and sorted(len(part) for part in parts) == [3, 4]  # 2+2 | 2+1 (largest first)
    for zoom_id in ZOOM_IDS:
        assert sum(instance(zoom_id, 0) in part and instance(zoom_id, 1) in part for part in parts) == 1
    assert all(part == sorted(part) for part in parts)  # rebuild order: by Zoom meeting id, then time
    with runtime.db.begin() as s:
        assert meetings.partitions(s, 10) != [] and len(meetings.partitions(s, 10)) == 4  # one per community


def test_a_rebuild_split_over_processes_gives_what_live_processing_gave(runtime, played):
    live = snapshot(runtime)
    assert len(live) == 7 * 4 and ("approved" in {row[4] for row in live})
    workers = 1 if runtime.db.is_sqlite else 2
    if runtime.db.is_sqlite:  # one writer: more processes would only queue
        with pytest.raises(rebuild_workers.WorkersRefused, match="SQLite has a single writer"):
            rebuild_workers.rebuild(runtime.db.url, runtime.settings, runtime.now(), 2)

    # over the live data: nothing changes, not even an audit entry
    before = audit_count(runtime)
    assert rebuild_workers.rebuild(runtime.db.url, runtime.settings, runtime.now(), workers) == (7, [])
    assert snapshot(runtime) == live and audit_count(runtime) == before

    # from nothing derived at all: every session, participant and line again, as live processing made them
    with runtime.db.begin() as s:
        for model in (AuditEntry, CreditLine, Participant, Meeting, CreditSession):
            s.execute(delete(model))
    assert rebuild_workers.rebuild(runtime.db.url, runtime.settings, runtime.now(), workers) == (7, [])
    again = snapshot(runtime)
    decided = [row for row in live if row[4] == "approved"]
    assert again == sorted(
        row if row not in decided else (*row[:4], "pending", row[5]) for row in live
    )  # the one decision went with its line; everything else is as it was
    assert {row[3] for row in again} == {Decimal("1.75"), Decimal("1.25"), Decimal("0.00")}


def test_the_command_runs_the_workers_or_says_why_not(runtime, played, zoombot_cli):
    result = zoombot_cli()("attendance", "rebuild", "--workers", "2")
    if runtime.db.is_sqlite:
        assert result.exit_code == 1
        assert "SQLite has a single writer: the rebuild runs in one process there (no --workers)" in result.stderr
    else:
        assert (result.exit_code, result.stdout) == (0, "rebuilt 7 meeting instances from stored events\n")
