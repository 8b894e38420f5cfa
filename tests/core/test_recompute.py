"""A session recomputed from plain inputs (zoombot.core.recompute), by hand, and what crosses a process boundary."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from zoombot.core import credit, hours
from zoombot.core.attendance import Signal, Who
from zoombot.core.recompute import CreditInputs, SessionInputs, recompute

T0 = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
ALICE = Who(email="alice@example.org", name="Alice Ames")
BOB = Who(email="bob@example.org", name="Bob Brown")
PHONE = Who(name="+1 617-555-0142")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def visit(who: Who, device: str, a: float, b: float) -> list[Signal]:
    return [Signal("join", at(a), who, device), Signal("leave", at(b), who, device)]


# the host ended by mistake at 60 and started again at 70; the second instance ran until 130
FIRST = (
    [Signal("start", at(0)), Signal("end", at(0), until=at(60))] + visit(ALICE, "a1", 0, 60) + visit(BOB, "b1", 20, 60)
)
SECOND = (
    [Signal("start", at(70)), Signal("end", at(70), until=at(130))]
    + visit(ALICE, "a2", 70, 130)
    + visit(BOB, "b2", 71, 90)
    + visit(PHONE, "p1", 75, 125)
)
SIGNALS = {"First==": FIRST, "Second==": SECOND}
RULES = CreditInputs(
    hours.Policy(increment_minutes=15, rounding="down", minimum_minutes=30, cap="scheduled"),
    credit.TrainingRules(),
    scheduled_seconds=120 * 60,
    segments=(credit.Segment(at(70), at(100), "Responsive caregiving", "CG", "T-1", 5),),
)


def test_a_session_of_two_instances_is_one_union_per_person_with_its_lines():
    done = recompute(SessionInputs(7, (("First==", None), ("Second==", None)), credit=RULES), SIGNALS)
    people = done.attendance.people
    assert {key: p.attended_seconds for key, p in people.items()} == {
        "email:alice@example.org": 120 * 60,  # 0-60 and 70-130
        "email:bob@example.org": 59 * 60,  # 20-60 and 71-90
        "name:+1 617-555-0142": 50 * 60,
    }
    assert done.attendance.live == [(at(0), at(60)), (at(70), at(130))]
    assert done.lines is not None
    alice, bob = done.lines["email:alice@example.org"], done.lines["email:bob@example.org"]
    # Alice: 120 min credited, 30 of them inside the training segment (70-100): 1.50 growth + 0.50 training
    assert (alice.growth_hours, alice.training_hours) == (Decimal("1.50"), Decimal("0.50"))
    # Bob: 59 min -> 45 in quarter hours; inside the segment 71-90, 19 min -> 15: 0.50 growth + 0.25 training
    assert (bob.total_hours, bob.growth_hours, bob.training_hours) == (
        Decimal("0.75"),
        Decimal("0.50"),
        Decimal("0.25"),
    )


def test_staff_merges_and_missing_instances():
    merged = recompute(
        SessionInputs(
            7,
            (("First==", None), ("Second==", None), ("Silent==", None)),
            {"name:+1 617-555-0142": "email:bob@example.org"},
        ),
        SIGNALS,
    )
    # the phone (75-125) joins Bob's union: 20-60, 71-125 -> 94 minutes; an instance with no signals adds nothing
    assert merged.attendance.people["email:bob@example.org"].attended_seconds == 94 * 60
    assert "name:+1 617-555-0142" not in merged.attendance.people
    assert merged.lines is None  # lines not asked for


def test_an_instance_still_live_is_open_until_its_given_end():
    open_first = [Signal("start", at(0))] + [Signal("join", at(10), ALICE, "a1")]
    done = recompute(SessionInputs(1, (("Live==", at(45)),)), {"Live==": open_first})
    assert done.attendance.people["email:alice@example.org"].attended_seconds == 35 * 60


def test_inputs_and_results_survive_a_process_boundary():
    inputs = SessionInputs(
        7, (("First==", None), ("Second==", at(200))), {"a": "b"}, frozenset({frozenset({"x", "y"})}), RULES
    )
    assert pickle.loads(pickle.dumps(inputs)) == inputs
    done = recompute(SessionInputs(7, (("First==", None), ("Second==", None)), credit=RULES), SIGNALS)
    again = pickle.loads(pickle.dumps(done))
    assert again.lines == done.lines and again.attendance.people == done.attendance.people
