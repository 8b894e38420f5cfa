"""The pure rules of review and registry submission: who may do what, deadlines, licensing-year arithmetic,
the members grid, submission rows and their validation, the attention queue and the audit ledger's text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.config import RegistrySettings
from zoombot.core import attention, deadlines, ledger, member_grid, permissions, registry_rows
from zoombot.core.licensing_year import LicensingYear, year_of

D = Decimal


# --- permissions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["approve", "adjust", "reject", "reopen", "match", "merge", "export", "submit", "status", "registry"]
)
def test_facilitators_never_decide_export_or_submit(action):
    assert permissions.may("staff", action)
    assert not permissions.may("facilitator", action)
    with pytest.raises(permissions.NotAllowed, match="facilitators cannot"):
        permissions.check("facilitator", action)


@pytest.mark.parametrize("action", ["segment", "note"])
def test_facilitators_mark_training_and_propose(action):
    assert permissions.may("facilitator", action) and permissions.may("staff", action)


def test_unknown_actions_and_roles_are_refused():
    assert not permissions.may("staff", "delete everything")
    assert not permissions.may("member", "approve")


def test_nobody_decides_their_own_line():
    assert permissions.is_own("Maria@Example.org ", "maria@example.org")
    assert not permissions.is_own("maria@example.org", "ana@example.org")
    assert not permissions.is_own("maria@example.org", None)
    with pytest.raises(permissions.NotAllowed, match="about themselves"):
        permissions.check_not_own("maria@example.org", "MARIA@example.org")


# --- deadlines ------------------------------------------------------------------------------------------


def test_due_date_counts_calendar_days_from_the_local_date():
    assert deadlines.due_date(date(2026, 10, 13), 5) == date(2026, 10, 18)
    assert deadlines.due_date(date(2026, 12, 29), 7) == date(2027, 1, 5)
    assert deadlines.due_date(date(2026, 10, 13), 0) is None


@pytest.mark.parametrize(
    "today, label, tone",
    [
        (date(2026, 10, 14), "due in 6 days", ""),
        (date(2026, 10, 18), "due in 2 days", "warn"),
        (date(2026, 10, 19), "due in 1 day", "warn"),
        (date(2026, 10, 20), "due today", "warn"),
        (date(2026, 10, 21), "overdue by 1 day", "bad"),
        (date(2026, 10, 25), "overdue by 5 days", "bad"),
    ],
)
def test_due_labels(today, label, tone):
    seen = deadlines.due(date(2026, 10, 13), 7, today)
    assert (seen.date, seen.label, seen.tone) == (date(2026, 10, 20), label, tone)


def test_the_digest_takes_sessions_due_soon_or_overdue():
    assert not deadlines.near(date(2026, 10, 13), 7, date(2026, 10, 17), 2)  # due in 3 days
    assert deadlines.near(date(2026, 10, 13), 7, date(2026, 10, 18), 2)  # due in 2
    assert deadlines.near(date(2026, 10, 13), 7, date(2026, 11, 30), 2)  # long overdue
    assert not deadlines.near(date(2026, 10, 13), 0, date(2026, 11, 30), 2)  # off


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    st.integers(1, 60),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
)
def test_days_left_plus_today_is_the_due_date(local, days, today):
    seen = deadlines.due(local, days, today)
    assert date.fromordinal(today.toordinal() + seen.days_left) == seen.date
    assert seen.overdue == (today > seen.date)


# --- licensing years and the grid -----------------------------------------------------------------------


def test_licensing_year_from_july():
    assert year_of(date(2026, 7, 1), 7).start_year == 2026
    assert year_of(date(2027, 6, 30), 7).start_year == 2026
    july = LicensingYear(2026, 7)
    assert july.month_index(date(2026, 7, 15)) == 0
    assert july.month_index(date(2027, 6, 15)) == 11
    assert july.months[5:7] == [date(2026, 12, 1), date(2027, 1, 1)]
    assert (july.first_day, july.last_day) == (date(2026, 7, 1), date(2027, 6, 30))
    assert (LicensingYear(2026, 1).first_day, LicensingYear(2026, 1).last_day) == (date(2026, 1, 1), date(2026, 12, 31))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(1, 12))
def test_every_day_falls_in_its_year_and_month(day, start):
    year = year_of(day, start)
    assert year.first_day <= day <= year.last_day
    month = year.months[year.month_index(day)]
    assert (month.year, month.month) == (day.year, day.month)


def fact(member, day, status, growth, training="0", replaced=False):
    return member_grid.Fact(member, day, status, D(growth), D(training), replaced)


def test_grid_counts_approved_and_pending_apart_and_nothing_else():
    facts = [
        fact(1, date(2026, 7, 14), "approved", "1.75", "0.25"),
        fact(1, date(2026, 8, 11), "pending", "2"),
        fact(1, date(2026, 8, 12), "rejected", "2"),
        fact(1, date(2026, 9, 8), "no_credit", "0"),
        fact(1, date(2026, 6, 9), "approved", "2"),  # the year before (July start)
        fact(1, date(2026, 9, 8), "approved", "1.00", replaced=True),  # replaced by a correction
        fact(2, date(2027, 6, 30), "approved", "1.5", "0.5"),
    ]
    rows = member_grid.grid(facts, [1, 2, 3], 2026, 7, 15)
    one, two, three = rows
    assert one.months[0].approved == {"growth": D("1.75"), "training": D("0.25")}
    assert one.months[1].pending == {"growth": D("2"), "training": D("0")}
    assert one.months[2].empty
    assert (one.total.approved_total, one.total.pending_total, one.remaining, one.percent) == (
        D("2.00"),
        D("2"),
        D("13.00"),
        13,
    )
    assert two.months[11].approved_total == D("2.0") and two.below
    assert three.total.empty and three.remaining == D("15") and three.percent == 0
    bottom = member_grid.totals(rows)
    assert bottom.total.approved_total == D("4.00") and bottom.total.pending_total == D("2")
    assert bottom.months[0].approved["training"] == D("0.25")
    years = member_grid.member_years(facts, 7, 15)
    assert [(y.member_id, y.year, y.total.approved_total) for y in years] == [
        (1, 2026, D("2.00")),
        (2, 2026, D("2.0")),
        (1, 2025, D("2")),
    ]


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
            st.sampled_from(["approved", "pending", "rejected"]),
            st.decimals(0, 4, places=2),
            st.decimals(0, 2, places=2),
        ),
        max_size=40,
    ),
    st.integers(1, 12),
)
def test_grid_totals_equal_each_members_year(raw, start):
    facts = [fact(*r) for r in raw]
    for year in (2024, 2025, 2026, 2027):
        rows = member_grid.grid(facts, [1, 2, 3, 4], year, start, 15)
        per_member = {y.member_id: y for y in member_grid.member_years(facts, start, 15) if y.year == year}
        for row in rows:
            own = per_member.get(row.member_id)
            assert row.total.of == (own.total.of if own else member_grid.Hours().of)
            assert sum((m.approved_total for m in row.months), D(0)) == row.total.approved_total
        assert member_grid.totals(rows).total.approved_total == sum((r.total.approved_total for r in rows), D(0))


# --- submission rows ------------------------------------------------------------------------------------

PROFILE = RegistrySettings(registry_id_pattern=r"R-\d{5}", required_columns=("registry_id", "hours", "approval_code"))
START = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)


def facts(**changes) -> registry_rows.LineFacts:
    base = dict(
        line_id=7,
        status="approved",
        flagged=False,
        flag_reason=None,
        member_name="Ana Ruiz",
        registry_id="R-10442",
        growth=D("1.50"),
        training=D("0.25"),
        session_id=3,
        local_date=date(2026, 10, 13),
        timezone="America/New_York",
        start=START,
        end=registry_rows.scheduled_end(START, 120, None),
        community="Infant-Toddler CoP",
        title="Infant-Toddler CoP",
        category="Professionalism and Leadership",
        approval_code="CoP-77",
        trainer_name="Maria Lopez",
        trainer_registry_id="R-20017",
        segments=(registry_rows.Segment("Safe sleep", "Health, Safety and Nutrition", "NV-114"),),
        approver="lead@example.org",
        approved_at=datetime(2026, 10, 15, 3, 0, tzinfo=UTC),
        extra={"sponsor": "State PD Network", "delivery_format": "Virtual"},
    )
    base.update(changes)
    return registry_rows.LineFacts(**base)


def test_a_line_is_a_growth_row_and_a_training_row():
    growth, training = registry_rows.rows(facts(), PROFILE)
    assert growth == {
        "record_id": "7",
        "corrects_record_id": "",
        "registry_id": "R-10442",
        "participant_name": "Ana Ruiz",
        "session_date": "2026-10-13",
        "start_local": "2026-10-13 18:30",
        "end_local": "2026-10-13 20:30",
        "title": "Infant-Toddler CoP",
        "category": "Professionalism and Leadership",
        "approval_code": "CoP-77",
        "kind": "growth",
        "hours": "1.50",
        "trainer_name": "Maria Lopez",
        "trainer_registry_id": "R-20017",
        "sponsor": "State PD Network",
        "delivery_format": "Virtual",
        "approver": "lead@example.org",
        "approval_date": "2026-10-14",
        "community": "Infant-Toddler CoP",
        "session_id": "3",
        "override_reason": "",
    }
    assert (
        training["kind"],
        training["hours"],
        training["title"],
        training["category"],
        training["approval_code"],
        training["trainer_registry_id"],
    ) == ("training", "0.25", "Safe sleep", "Health, Safety and Nutrition", "NV-114", "R-20017")
    assert registry_rows.problems(facts(), [growth, training], PROFILE) == []


def test_a_training_row_names_its_segments_time_and_the_growth_row_the_sessions():
    first = registry_rows.Segment(
        "Safe sleep",
        "Health",
        "NV-114",
        start=datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
        end=datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
    )
    second = registry_rows.Segment(
        "Feeding",
        "Health",
        "NV-115",
        start=datetime(2026, 10, 14, 0, 0, tzinfo=UTC),
        end=datetime(2026, 10, 14, 0, 15, tzinfo=UTC),
    )
    growth, training = registry_rows.rows(facts(segments=(second, first)), PROFILE)
    assert (growth["start_local"], growth["end_local"]) == ("2026-10-13 18:30", "2026-10-13 20:30")
    # New York is UTC-4 in October: the first segment's start to the last one's end
    assert (training["start_local"], training["end_local"]) == ("2026-10-13 19:00", "2026-10-13 20:15")
    # a segment deleted since (no times known) leaves the row with the session's times
    _, kept = registry_rows.rows(facts(segments=(first, registry_rows.Segment("Gone", "Health", "NV-9"))), PROFILE)
    assert (kept["start_local"], kept["end_local"]) == ("2026-10-13 18:30", "2026-10-13 20:30")


def test_hours_over_the_cap_carry_their_override_reason():
    rows = registry_rows.rows(facts(growth=D("3.00"), override_reason="stayed for the whole workshop"), PROFILE)
    assert {row["override_reason"] for row in rows} == {"stayed for the whole workshop"}


def test_a_zero_kind_has_no_row_unless_a_correction_takes_it_back():
    assert [r["kind"] for r in registry_rows.rows(facts(training=D("0")), PROFILE)] == ["growth"]
    fixed = registry_rows.rows(
        facts(line_id=9, corrects_id=7, growth=D("1.75"), training=D("0"), corrected_training=D("0.25")), PROFILE
    )
    assert [(r["kind"], r["hours"], r["corrects_record_id"]) for r in fixed] == [
        ("growth", "1.75", "7"),
        ("training", "0.00", "7"),
    ]


@pytest.mark.parametrize(
    "changes, reasons",
    [
        ({"member_name": None, "registry_id": None}, ["no matched member"]),
        ({"registry_id": None}, ["no registry id"]),
        ({"registry_id": "10442"}, [r"registry id 10442 does not look like the registry's (R-\d{5})"]),
        ({"flagged": True, "flag_reason": "approved line reopened"}, ["flagged: approved line reopened"]),
        ({"status": "pending"}, ["not approved (pending)"]),
        ({"approval_code": ""}, ["no approval code (growth row)"]),
        ({"growth": D("0"), "training": D("0")}, ["no hours to submit"]),
        # the facilitator, the community's trainer, attends and earns training hours for her own training
        (
            {"registry_id": "R-20017"},
            [
                "R-20017 is this training's own trainer: no training hours for training one gives "
                "(adjust them to growth hours, or to none)"
            ],
        ),
        (  # a segment's own trainer, among several segments' ("R-30001; R-10442")
            {
                "segments": (
                    registry_rows.Segment("Safe sleep", "Health", "NV-114", trainer_registry_id="R-30001"),
                    registry_rows.Segment("Feeding", "Health", "NV-115", trainer_registry_id="r-10442"),
                )
            },
            [
                "R-10442 is this training's own trainer: no training hours for training one gives "
                "(adjust them to growth hours, or to none)"
            ],
        ),
        ({"registry_id": "R-20017", "training": D("0")}, []),  # her growth hours are hers: no training row
    ],
)
def test_problems_say_why_a_line_is_held_back(changes, reasons):
    line = facts(**changes)
    assert registry_rows.problems(line, registry_rows.rows(line, PROFILE), PROFILE) == reasons


def test_registry_id_pattern_matches_the_whole_id():
    assert registry_rows.registry_id_ok(r"R-\d{5}", "R-10442")
    assert not registry_rows.registry_id_ok(r"R-\d{5}", "R-104420")
    assert registry_rows.registry_id_ok("", "anything")
    assert not registry_rows.registry_id_ok("", "")


# --- attention ------------------------------------------------------------------------------------------


def line_facts(line_id, session_id=1, **changes):
    base = dict(
        line_id=line_id,
        session_id=session_id,
        status="pending",
        submitted=False,
        member_id=1,
        registry_id="R-10442",
        flagged=False,
        flag_reason=None,
        override_reason=None,
        proposal=None,
        note=None,
        corrects_id=None,
    )
    base.update(changes)
    return attention.LineFacts(**base)


def test_reasons_of_every_source_and_only_for_open_lines():
    lines = [
        line_facts(1),
        line_facts(2, member_id=None, registry_id=None),
        line_facts(3, registry_id=None, flagged=True, flag_reason="reopened"),
        line_facts(4, override_reason="stayed to clean up", status="approved"),
        line_facts(5, proposal="disputed", note="left at 19:00"),
        line_facts(6, corrects_id=1),
        line_facts(7, member_id=None, status="no_credit"),
        line_facts(8, flagged=True, submitted=True, status="approved"),
        line_facts(9, proposal="confirmed"),
    ]
    found = attention.gather(
        lines,
        more={9: [attention.Reason("claim", "member claims 2 h")], 7: [attention.Reason("claim", "ignored: not open")]},
    )
    assert {k: [(r.kind, r.text) for r in v] for k, v in found.items()} == {
        2: [("unmatched", "no member matched")],
        3: [("flagged", "reopened"), ("no_registry_id", "the member has no registry id")],
        4: [("overridden", "over the session's cap: stayed to clean up")],
        5: [("disputed", "facilitator disputes it: left at 19:00")],
        6: [("correction", "correction of submitted line 1")],
        9: [("claim", "member claims 2 h")],
    }


def test_queue_puts_the_soonest_due_first():
    found = {
        1: [attention.Reason("unmatched", "x")],
        2: [attention.Reason("flagged", "y")],
        3: [attention.Reason("flagged", "z")],
    }
    items = attention.queue(
        {10: date(2026, 10, 20), 11: date(2026, 10, 6)},
        found,
        {1: 10, 2: 11, 3: 10},
        submission_days=7,
        today=date(2026, 10, 14),
    )
    assert [(i.session_id, i.due.label, [line for line, _ in i.lines]) for i in items] == [
        (11, "overdue by 1 day", [2]),
        (10, "due in 13 days", [1, 3]),
    ]


# --- ledger ---------------------------------------------------------------------------------------------


def test_ledger_text_is_local_time_and_hours_minutes():
    text = "2026-10-13T23:00:00+00:00 - 2026-10-13T23:30:00Z, Safe sleep; 7200 s -> 5580 s"
    assert ledger.humanize(text, "America/New_York") == (
        "2026-10-13 19:00 EDT - 2026-10-13 19:30 EDT, Safe sleep; 2:00 h:mm -> 1:33 h:mm"
    )
    assert ledger.humanize(None, "UTC") == ""
    assert ledger.action_text("segment_added") == "training marked"
    assert ledger.action_text("claim_declined") == "claim declined"  # an action with no wording of its own


def test_ledger_text_says_line_statuses_in_words():
    stored = "no_credit, 0:20 attended, 0.00 h growth (no credit: below the 30-minute minimum)"
    assert ledger.humanize(stored, "UTC") == (
        "no credit, 0:20 attended, 0.00 h growth (no credit: below the 30-minute minimum)"
    )
    assert ledger.humanize("my_no_credit_note stays", "UTC") == "my_no_credit_note stays"  # whole words only
    assert [ledger.words(s) for s in ("pending", "no_credit")] == ["pending", "no credit"]
    assert [ledger.clock(s) for s in (None, 59, 7440, 36000)] == ["0:00", "0:00", "2:04", "10:00"]


def test_what_a_members_hours_leave_out_of_a_chain_of_revisions():
    """(id, session, participant, revision, status, member). Session 1: sent and approved (10), its correction
    waiting (11): the sent line counts, the correction not yet. Session 2: sent (20), corrected and approved
    (21), corrected again and waiting (22): 21 counts. Session 3: a correction staff rejected (31) after 30:
    30 counts. Session 4: a lone pending line counts (as pending). Session 5: revision 0 rejected, 1 pending
    (a rejected first line is no credit to protect): 51 counts as pending. Session 6: the correction (71)
    moves the credit from member 7 to member 8: it is member 8's pending credit, not beside her own."""
    chains = [
        (10, 1, "a", 0, "approved", 7),
        (11, 1, "a", 1, "pending", 7),
        (20, 2, "a", 0, "approved", 7),
        (21, 2, "a", 1, "approved", 7),
        (22, 2, "a", 2, "pending", 7),
        (30, 3, "a", 0, "approved", 7),
        (31, 3, "a", 1, "rejected", 7),
        (40, 4, "a", 0, "pending", 7),
        (50, 5, "a", 0, "rejected", 7),
        (51, 5, "a", 1, "pending", 7),
        (60, 1, "b", 0, "approved", None),  # another participant of session 1: a chain of its own
        (70, 6, "a", 0, "approved", 7),
        (71, 6, "a", 1, "pending", 8),
    ]
    assert member_grid.replaced_ids(chains) == {20}  # only an approved correction replaces
    assert member_grid.uncounted_ids(chains) == {11, 20, 22, 31}
