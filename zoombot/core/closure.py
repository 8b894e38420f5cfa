"""A meeting's closure: what the group agreed, recorded after the meeting, and what the follow-up says.

The facilitator guidance closes every meeting with next steps and a look at the parking lot. After the
meeting a facilitator or the note-taker records the summary, the agreed next steps (which replace the
ones planned on the agenda), which parked questions were resolved (the others are carried to the next
meeting), questions raised in the meeting, and optionally a link to an evaluation form. The follow-up
carries that; the next agenda opens with those next steps.

Pure: the form's text in, checked values out; no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zoombot.core.agenda import parse_lines, safe_url
from zoombot.core.digits import is_digits

MAX_SUMMARY = 5000


@dataclass(frozen=True)
class ClosureInput:
    """A checked closure form."""

    summary: str
    next_steps: tuple[str, ...]
    evaluation_url: str | None
    resolved_ids: frozenset[int]  # parking-lot items resolved at this meeting (any other shown item is carried)
    raised: tuple[str, ...]  # new parking-lot items raised in the meeting


@dataclass(frozen=True)
class ParkedItem:
    id: int
    text: str
    raised_here: bool  # parked for (or in) this meeting
    resolved_here: bool  # closed at this meeting
    open: bool


@dataclass(frozen=True)
class Outcome:
    """How a meeting closed, as the follow-up and the next preparation mail tell it."""

    recorded: bool  # False: nobody recorded a closure (the follow-up went with the agenda's plan)
    summary: str
    next_steps: tuple[str, ...]
    evaluation_url: str | None
    resolved: tuple[str, ...]  # parking-lot questions resolved at this meeting
    raised: tuple[str, ...]  # raised at this meeting and still open
    carried: tuple[str, ...]  # open from earlier meetings, carried forward


def clean_summary(text: str | None) -> str:
    """Paragraphs kept (line breaks are the note-taker's), trailing spaces and runs of blank lines dropped."""
    raw = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = ["".join(ch for ch in line if ch == "\t" or ch.isprintable()).rstrip() for line in raw]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()[:MAX_SUMMARY].rstrip()


def parse_form(
    *, summary: str, next_steps: str, evaluation_url: str, resolved: Iterable[str], raised: str, shown_ids: set[int]
) -> tuple[ClosureInput | None, list[str]]:
    """(input, []) or (None, errors for the person filling the form). `resolved` holds the ids ticked;
    only items the form showed (`shown_ids`) can be resolved."""
    errors: list[str] = []
    url_text = (evaluation_url or "").strip()
    url = safe_url(url_text) if url_text else None
    if url_text and url is None:
        errors.append("The evaluation link must be a complete web address starting with https:// or http://.")
    ids = set()
    for value in resolved:
        if not is_digits(value) or int(value) not in shown_ids:
            errors.append("A parking-lot item was changed meanwhile: reload the page and try again.")
            break
        ids.add(int(value))
    text = clean_summary(summary)
    steps = parse_lines(next_steps)
    if not text and not steps:
        errors.append("Write a summary or the agreed next steps (or both).")
    if errors:
        return None, errors
    return ClosureInput(
        summary=text, next_steps=steps, evaluation_url=url, resolved_ids=frozenset(ids), raised=parse_lines(raised)
    ), []


def outcome(
    *, recorded: ClosureInput | None, planned_next_steps: Sequence[str], items: Sequence[ParkedItem]
) -> Outcome:
    """What the follow-up says: the recorded closure, or (none recorded) the agenda's planned next steps;
    the parking lot as the meeting left it."""
    return Outcome(
        recorded=recorded is not None,
        summary=recorded.summary if recorded else "",
        next_steps=tuple(recorded.next_steps if recorded else planned_next_steps),
        evaluation_url=recorded.evaluation_url if recorded else None,
        resolved=tuple(item.text for item in items if item.resolved_here),
        raised=tuple(item.text for item in items if item.open and item.raised_here),
        carried=tuple(item.text for item in items if item.open and not item.raised_here),
    )
