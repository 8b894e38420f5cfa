"""Registry submission batches and corrections, end to end through the real webhook endpoint and the real
`zoombot registry` commands (SQLite file or PostgreSQL).

The session (staff_support.meeting_events, 13 October 2026, 18:30-20:30 New York, 120 minutes scheduled):
Alice 22:30:10-00:25 UTC (1:54 -> 1.75 h), Bob 22:45-00:00 (1:15 -> 1.25 h), a phone dial-in 22:31-00:25
(1:54 -> 1.75 h, unmatched), a guest 23:00-23:20 (no credit).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from tests.helpers.staff import add_community, meeting_events, play, session_id
from zoombot.store import registry, review
from zoombot.store.export import export_rows
from zoombot.store.models import AuditEntry, Community, CreditLine, Member, SubmissionBatch

ALICE_KEY, BOB_KEY, PHONE_KEY = "email:alice@example.org", "email:bob@example.org", "name:+1 555 0100"
STAFF = "lead@example.org"
D = Decimal
COLUMNS = (
    "record_id",
    "corrects_record_id",
    "registry_id",
    "participant_name",
    "session_date",
    "start_local",
    "end_local",
    "title",
    "approval_code",
    "kind",
    "hours",
    "trainer_name",
    "trainer_registry_id",
    "sponsor",
    "approver",
    "approval_date",
)
REGISTRY = {
    "name": "Nevada Registry",
    "submission_days": 5,
    "registry_id_pattern": r"R-\d{5}",
    "columns": list(COLUMNS),
    "sponsor": "State PD Network",
}


@pytest.fixture
def cli(zoombot_cli):
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    return zoombot_cli(
        f'[registry]\nname = "Nevada Registry"\nsubmission_days = 5\n'
        f'registry_id_pattern = "R-\\\\d{{5}}"\ncolumns = [{columns}]\nsponsor = "State PD Network"\n'
    )


@pytest.fixture
def held(runtime, post_event, clock, make_settings) -> int:
    runtime.settings = make_settings(registry=REGISTRY)
    cid = add_community(
        runtime,
        "Infant-Toddler CoP",
        "81234567890",
        members=[("Alice Ames", "alice@example.org"), ("Bob Brown", "bob@example.org")],
        facilitators=[("Maria Lopez", "maria@example.org")],
    )
    with runtime.db.begin() as s:
        for email, rid in [
            ("alice@example.org", "R-10442"),
            ("bob@example.org", "R-10443"),
            ("maria@example.org", "R-20017"),
        ]:
            s.execute(update(Member).where(Member.email == email).values(registry_id=rid))
        s.get(Community, cid).approval_code = "CoP-77"
    play(post_event, meeting_events())
    clock.set(datetime(2026, 10, 15, 12, 0, tzinfo=UTC))
    return session_id(runtime)


def lines(runtime, sid) -> list[CreditLine]:
    with runtime.db.begin() as s:
        return list(
            s.scalars(
                select(CreditLine)
                .where(CreditLine.session_id == sid)
                .order_by(CreditLine.participant_key, CreditLine.revision)
            )
        )


def current(runtime, sid) -> dict[str, CreditLine]:
    return {line.participant_key: line for line in lines(runtime, sid)}


def table(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_approve_all_clean_leaves_the_unmatched_dial_in(runtime, held, clock):
    with runtime.db.begin() as s:
        clean, left = review.clean_split(s, held, actor=STAFF, settings=runtime.settings)
        assert [line.participant_key for line in clean] == [ALICE_KEY, BOB_KEY]
        assert [(line.participant_key, why) for line, why in left] == [(PHONE_KEY, "no matched member")]
        assert (
            review.approve_clean(s, held, [c.id for c in clean], actor=STAFF, now=clock(), settings=runtime.settings)
            == 2
        )
    statuses = {key: line.status for key, line in current(runtime, held).items()}
    assert statuses == {
        ALICE_KEY: "approved",
        BOB_KEY: "approved",
        PHONE_KEY: "pending",
        "name:gina guest": "no_credit",
    }
    with pytest.raises(review.ReviewError, match="no longer clean or pending"):  # the page was stale
        with runtime.db.begin() as s:
            review.approve_clean(
                s, held, [current(runtime, held)[PHONE_KEY].id], actor=STAFF, now=clock(), settings=runtime.settings
            )


def test_nobody_decides_their_own_line(runtime, held, clock):
    bob = current(runtime, held)[BOB_KEY].id
    for action in (
        lambda s: review.approve(s, [bob], actor="Bob@Example.org", now=clock()),
        lambda s: review.reject(s, bob, actor="bob@example.org", now=clock(), reason="no"),
        lambda s: review.adjust(
            s, bob, D("2"), D("0"), actor="bob@example.org", now=clock(), reason="x", settings=runtime.settings
        ),
    ):
        with pytest.raises(review.ReviewError, match="about themselves"):
            with runtime.db.begin() as s:
                action(s)
    with runtime.db.begin() as s:
        _, left = review.clean_split(s, held, actor="bob@example.org", settings=runtime.settings)
    assert (BOB_KEY, "your own line: another staff member decides it") in [(ln.participant_key, w) for ln, w in left]
    assert current(runtime, held)[BOB_KEY].status == "pending"


def test_facilitators_propose_but_never_about_themselves(runtime, held, clock):
    bob = current(runtime, held)[BOB_KEY].id
    with pytest.raises(review.ReviewError, match="nobody proposes about their own line"):
        with runtime.db.begin() as s:
            review.propose(s, bob, proposal="confirmed", note="", actor="bob@example.org", now=clock())
    with pytest.raises(review.ReviewError, match="say what is wrong"):
        with runtime.db.begin() as s:
            review.propose(s, bob, proposal="disputed", note=" ", actor="maria@example.org", now=clock())
    with runtime.db.begin() as s:
        review.propose(
            s, bob, proposal="confirmed", note="stayed for the parking lot", actor="maria@example.org", now=clock()
        )
    line = current(runtime, held)[BOB_KEY]
    assert (line.proposal, line.note, line.proposed_by, line.status) == (
        "confirmed",
        "stayed for the parking lot",
        "maria@example.org",
        "pending",
    )  # a proposal, not a decision
    with runtime.db.begin() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "noted"))
        assert (entry.actor, entry.entity_id, entry.from_value, entry.to_value) == (
            "maria@example.org",
            bob,
            None,
            "confirmed attended: stayed for the parking lot",
        )


def test_a_batch_then_nothing_new_then_a_correction_in_the_next_batch(runtime, held, clock, cli, tmp_path):
    first = current(runtime, held)
    alice, bob, phone = first[ALICE_KEY].id, first[BOB_KEY].id, first[PHONE_KEY].id
    with runtime.db.begin() as s:
        review.approve(s, [alice, bob, phone], actor=STAFF, now=clock())
    out = tmp_path / "batch1.csv"
    result = cli("registry", "submit", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"held back line {phone} (+1 555 0100, Infant-Toddler CoP, 2026-10-13): no matched member",
        f"batch 1: 2 lines (2 rows) written to {out} and marked submitted; 1 line held back",
    ]
    sent = table(out.read_bytes())
    assert list(sent[0]) == list(COLUMNS)
    assert sent == [
        {
            "record_id": str(alice),
            "corrects_record_id": "",
            "registry_id": "R-10442",
            "participant_name": "Alice Ames",
            "session_date": "2026-10-13",
            "start_local": "2026-10-13 18:30",
            "end_local": "2026-10-13 20:30",
            "title": "Infant-Toddler CoP",
            "approval_code": "CoP-77",
            "kind": "growth",
            "hours": "1.75",
            "trainer_name": "Maria Lopez",
            "trainer_registry_id": "R-20017",
            "sponsor": "State PD Network",
            "approver": STAFF,
            "approval_date": "2026-10-15",
        },
        {
            "record_id": str(bob),
            "corrects_record_id": "",
            "registry_id": "R-10443",
            "participant_name": "Bob Brown",
            "session_date": "2026-10-13",
            "start_local": "2026-10-13 18:30",
            "end_local": "2026-10-13 20:30",
            "title": "Infant-Toddler CoP",
            "approval_code": "CoP-77",
            "kind": "growth",
            "hours": "1.25",
            "trainer_name": "Maria Lopez",
            "trainer_registry_id": "R-20017",
            "sponsor": "State PD Network",
            "approver": STAFF,
            "approval_date": "2026-10-15",
        },
    ]
    with runtime.db.begin() as s:
        batch = s.get(SubmissionBatch, 1)
        assert (batch.created_by, batch.line_ids, batch.row_count, batch.format, batch.content) == (
            "cli",
            [alice, bob],
            2,
            "csv",
            out.read_bytes(),
        )
        assert batch.held_back == [
            {
                "line_id": phone,
                "who": "+1 555 0100",
                "session": "Infant-Toddler CoP, 2026-10-13",
                "reasons": ["no matched member"],
            }
        ]
        # the command runs on the real clock (the test's clock drives the receiver and the review)
        assert batch.filename == f"nevada-registry-batch-1-{batch.created_at:%Y-%m-%d}.csv"
        marked = {ln.id: (ln.submitted_at, ln.batch_id) for ln in s.scalars(select(CreditLine))}
        assert marked[alice] == marked[bob] == (batch.created_at, 1) and marked[phone] == (None, None)
        assert [
            (e.entity_id, e.action, e.to_value)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "submitted").order_by(AuditEntry.id))
        ] == [(alice, "submitted", f"batch 1 ({batch.filename})"), (bob, "submitted", f"batch 1 ({batch.filename})")]

    again = tmp_path / "batch2.csv"
    result = cli("registry", "submit", "--output", str(again))
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == f"nothing new to submit: wrote an empty file to {again} (1 line held back)"
    assert again.read_bytes() == (",".join(COLUMNS) + "\r\n").encode()

    # a submitted line is final: decisions on it are refused, whoever tries
    with pytest.raises(review.ReviewError, match="submitted to the registry and is final"):
        with runtime.db.begin() as s:
            review.reopen(s, bob, actor=STAFF, now=clock(), reason="look again", settings=runtime.settings)

    # the phone dial-in was Bob: his submitted 1.25 h stays as sent; a correction (22:31-00:25 = 1:54 -> 1.75 h)
    with runtime.db.begin() as s:
        review.merge(s, held, PHONE_KEY, BOB_KEY, actor=STAFF, now=clock(), settings=runtime.settings)
    bob_lines = [ln for ln in lines(runtime, held) if ln.participant_key == BOB_KEY]
    assert [
        (ln.id == bob, ln.revision, ln.corrects_id, ln.status, ln.growth_hours, ln.submitted_at is not None, ln.flagged)
        for ln in bob_lines
    ] == [(True, 0, None, "approved", D("1.25"), True, False), (False, 1, bob, "pending", D("1.75"), False, True)]
    correction = bob_lines[1]
    assert correction.flag_reason == (
        f"correction of submitted line {bob}: submitted approved, 1:15 attended, "
        "1.25 h growth; now 1.75 h growth proposed"
    )
    # more changes follow the (undecided) correction, never the submitted line
    with runtime.db.begin() as s:
        review.save_segment(
            s,
            held,
            start=datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
            end=datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
            title="Safe sleep",
            category="Health, Safety and Nutrition",
            approval_code="NV-114",
            actor=STAFF,
            now=clock(),
            settings=runtime.settings,
        )
    now_bob = [ln for ln in lines(runtime, held) if ln.participant_key == BOB_KEY]
    assert [(ln.revision, ln.growth_hours, ln.training_hours) for ln in now_bob] == [
        (0, D("1.25"), D("0.00")),
        (1, D("1.25"), D("0.50")),
    ]
    assert current(runtime, held)[ALICE_KEY].revision == 1  # Alice's split changed: a correction too
    with runtime.db.begin() as s:
        fixes = [ln.id for ln in s.scalars(select(CreditLine).where(CreditLine.revision == 1).order_by(CreditLine.id))]
        review.approve(s, fixes, actor=STAFF, now=clock())

    result = cli("registry", "submit", "--format", "xlsx", "--output", str(tmp_path / "batch2.xlsx"))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(tmp_path / "batch2.xlsx").active
    got = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert got[0] == list(COLUMNS)
    index = {c: i for i, c in enumerate(COLUMNS)}
    assert sorted(
        (
            r[index["participant_name"]],
            r[index["kind"]],
            r[index["hours"]],
            r[index["corrects_record_id"]],
            r[index["start_local"]],
            r[index["end_local"]],
        )
        for r in got[1:]
    ) == [  # a training row names the training's own time (23:00-23:30 UTC), the growth row the session's
        ("Alice Ames", "growth", 1.25, str(alice), "2026-10-13 18:30", "2026-10-13 20:30"),
        ("Alice Ames", "training", 0.5, str(alice), "2026-10-13 19:00", "2026-10-13 19:30"),
        ("Bob Brown", "growth", 1.25, str(bob), "2026-10-13 18:30", "2026-10-13 20:30"),
        ("Bob Brown", "training", 0.5, str(bob), "2026-10-13 19:00", "2026-10-13 19:30"),
    ]  # hours are numbers a spreadsheet sums (shown as 1.25, 0.50)
    assert {row[index["hours"]].number_format for row in sheet.iter_rows(min_row=2)} == {"0.00"}
    phone_line = next(ln for ln in lines(runtime, held) if ln.id == phone)
    assert (phone_line.status, phone_line.submitted_at) == ("pending", None)  # reopened at zero, never sent

    # the hours export counts each person's credit once: the corrections, not the lines they replace
    with runtime.db.begin() as s:
        exported = export_rows(s, status="approved", settings=runtime.settings)
    assert sorted((r["participant_name"], r["kind"], r["hours"], r["record_id"] in fixes) for r in exported) == [
        ("Alice Ames", "growth", 1.25, True),
        ("Alice Ames", "training", 0.5, True),
        ("Bob Brown", "growth", 1.25, True),
        ("Bob Brown", "training", 0.5, True),
    ]

    listed = cli("registry", "batches")
    assert [line.split()[0] for line in listed.output.splitlines()] == ["2", "1"]
    copy = tmp_path / "copy.xlsx"
    assert cli("registry", "download", "2", "--output", str(copy)).exit_code == 0
    assert copy.read_bytes() == (tmp_path / "batch2.xlsx").read_bytes()


def test_a_correction_nobody_decided_goes_when_the_credit_comes_back(runtime, held, clock):
    bob = current(runtime, held)[BOB_KEY].id
    with runtime.db.begin() as s:
        review.approve(s, [bob], actor=STAFF, now=clock())
        registry.submit(s, runtime.settings, actor=STAFF, now=clock())
        review.merge(s, held, PHONE_KEY, BOB_KEY, actor=STAFF, now=clock(), settings=runtime.settings)
    assert [ln.revision for ln in lines(runtime, held) if ln.participant_key == BOB_KEY] == [0, 1]
    with runtime.db.begin() as s:
        merge_id = s.scalar(select(AuditEntry.entity_id).where(AuditEntry.action == "merged"))
        review.undo_merge(s, merge_id, actor=STAFF, now=clock(), settings=runtime.settings)
    assert [(ln.revision, ln.growth_hours) for ln in lines(runtime, held) if ln.participant_key == BOB_KEY] == [
        (0, D("1.25"))
    ]


def test_a_submitted_adjustment_stands_while_its_attendance_does_not_change(runtime, held, clock):
    """Staff sent Alice's 1.75 h as 2.00 (adjusted by hand, with a reason). Merging the phone into Bob changes
    the session's computation but not Alice's attendance: her submitted line needs no correction (before,
    every later recompute "corrected" her back to the rules' 1.75). Bob's credit did change: his does."""
    alice, bob = current(runtime, held)[ALICE_KEY].id, current(runtime, held)[BOB_KEY].id
    with runtime.db.begin() as s:
        review.adjust(
            s, alice, D("2.00"), D("0"), actor=STAFF, now=clock(), reason="stayed to help", settings=runtime.settings
        )
        review.approve(s, [alice, bob], actor=STAFF, now=clock())
        registry.submit(s, runtime.settings, actor=STAFF, now=clock())
        review.merge(s, held, PHONE_KEY, BOB_KEY, actor=STAFF, now=clock(), settings=runtime.settings)
    by_person = {}
    for ln in lines(runtime, held):
        by_person.setdefault(ln.participant_key, []).append((ln.revision, ln.growth_hours, ln.status))
    assert by_person[ALICE_KEY] == [(0, D("2.00"), "approved")]
    assert by_person[BOB_KEY] == [(0, D("1.25"), "approved"), (1, D("1.75"), "pending")]
    with runtime.db.begin() as s:  # undoing the merge takes Bob's correction away again; Alice's line is untouched
        merge_id = s.scalar(select(AuditEntry.entity_id).where(AuditEntry.action == "merged"))
        review.undo_merge(s, merge_id, actor=STAFF, now=clock(), settings=runtime.settings)
    assert [(ln.participant_key, ln.revision, ln.growth_hours) for ln in lines(runtime, held) if ln.revision] == []


def test_registry_id_pattern_is_checked_on_import(runtime, cli, tmp_path):
    add_community(runtime, "Infant-Toddler CoP", "81234567890")
    roster = tmp_path / "members.csv"
    roster.write_text(
        "name,email,registry_id,community\nAna Ruiz,ana@example.org,R-10442,Infant-Toddler CoP\n"
        "Bea Bo,bea@example.org,10443,Infant-Toddler CoP\n",
        encoding="utf-8",
    )
    result = cli("members", "import", str(roster))
    assert result.exit_code == 1
    assert f"{roster}: line 3: registry_id does not look like the registry's (R-\\d{{5}})" in result.stderr
    with runtime.db.begin() as s:
        assert s.scalars(select(Member.email)).all() == ["ana@example.org"]


def test_hours_export_defaults_to_approved_and_mark_exported_points_to_submit(runtime, held, clock, cli):
    with runtime.db.begin() as s:
        review.approve(s, [current(runtime, held)[ALICE_KEY].id], actor=STAFF, now=clock())
    names = [r["participant_name"] for r in table(cli("hours", "export").stdout.encode())]
    assert names == ["Alice Ames"]
    everything = table(cli("hours", "export", "--status", "any").stdout.encode())
    assert sorted(r["participant_name"] for r in everything) == [
        "'+1 555 0100",
        "Alice Ames",
        "Bob Brown",
        "Gina Guest",
    ]
    refused = cli("hours", "export", "--mark-exported")
    assert refused.exit_code == 1 and "replaced by `zoombot registry submit`" in refused.stderr
