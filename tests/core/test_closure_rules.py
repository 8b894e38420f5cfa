"""zoombot.core.closure: the closure form checked, and what the follow-up says with and without a closure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.closure import MAX_SUMMARY, ClosureInput, ParkedItem, clean_summary, outcome, parse_form


def form(**fields):
    values = dict(summary="", next_steps="", evaluation_url="", resolved=[], raised="", shown_ids={1, 2})
    values.update(fields)
    return parse_form(**values)


def test_a_good_form():
    given_, errors = form(
        summary="  We met.\r\n\r\n\r\nWe agreed.  ",
        next_steps="- Read\n\n2. Try",
        evaluation_url=" https://forms.example.org/x ",
        resolved=["2"],
        raised="* Naps?\n",
    )
    assert errors == []
    assert given_ == ClosureInput(
        summary="We met.\n\nWe agreed.",
        next_steps=("Read", "Try"),
        evaluation_url="https://forms.example.org/x",
        resolved_ids=frozenset({2}),
        raised=("Naps?",),
    )


def test_control_characters_never_make_extra_blank_lines():
    assert clean_summary("a\n\n\x0b\nb\x00c\t \n") == "a\n\nbc"


def test_what_is_refused():
    assert form() == (None, ["Write a summary or the agreed next steps (or both)."])
    assert form(summary="x", evaluation_url="javascript:alert(1)")[1] == [
        "The evaluation link must be a complete web address starting with https:// or http://."
    ]
    assert form(summary="x", resolved=["3"])[1] == [
        "A parking-lot item was changed meanwhile: reload the page and try again."
    ]
    assert form(summary="x", resolved=["1; drop"])[0] is None


ITEMS = [
    ParkedItem(1, "Biting?", raised_here=False, resolved_here=True, open=False),
    ParkedItem(2, "Winter play", raised_here=False, resolved_here=False, open=True),
    ParkedItem(3, "Naps?", raised_here=True, resolved_here=False, open=True),
]


def test_outcome_with_and_without_a_closure():
    recorded = ClosureInput("Good.", ("Read",), "https://e.org/f", frozenset({1}), ())
    told = outcome(recorded=recorded, planned_next_steps=("Planned",), items=ITEMS)
    assert (told.recorded, told.summary, told.next_steps, told.evaluation_url) == (
        True,
        "Good.",
        ("Read",),
        "https://e.org/f",
    )
    assert (told.resolved, told.raised, told.carried) == (("Biting?",), ("Naps?",), ("Winter play",))
    plan = outcome(recorded=None, planned_next_steps=("Planned",), items=ITEMS)
    assert (plan.recorded, plan.summary, plan.next_steps, plan.evaluation_url) == (False, "", ("Planned",), None)


@given(st.text(max_size=6000))
def test_summaries_are_bounded_printable_and_stable(text):
    cleaned = clean_summary(text)
    assert len(cleaned) <= MAX_SUMMARY and cleaned == cleaned.strip() and "\r" not in cleaned
    assert "\n\n\n" not in cleaned
    assert all(ch in "\n\t" or ch.isprintable() for ch in cleaned)
    assert clean_summary(cleaned) == cleaned
