"""Pure: a session's attendance and its people's credit lines from plain inputs, the rules' whole path.

What the database knows of a session (its instances, where each one's open presence ends, staff merges and
undone binds, the community's hours policy and training rules, the scheduled length, the training
segments) goes in as plain, picklable data; the attendance (`zoombot.core.attendance`) and each person's
line (`zoombot.core.credit`) come out. The store computes a session through here, and a statewide rebuild
runs it in a process of its own (`zoombot.store.rules_process`) while it writes the sessions before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from zoombot.core import attendance, credit, hours
from zoombot.core.attendance import Attendance, Signal


@dataclass(frozen=True)
class CreditInputs:
    """What every person's line of one session depends on, besides the attendance."""

    policy: hours.Policy
    rules: credit.TrainingRules
    scheduled_seconds: int | None
    segments: tuple[credit.Segment, ...] = ()


@dataclass(frozen=True)
class SessionInputs:
    """One session to recompute: its instances (uuid, where open presence ends: the instance's end, or now
    while it is live), staff decisions, and, when its lines are due, what they depend on."""

    session_id: int
    instances: tuple[tuple[str, datetime | None], ...]
    merges: Mapping[str, str] = field(default_factory=dict)
    unbinds: frozenset[frozenset[str]] = frozenset()
    credit: CreditInputs | None = None


class Recomputed(NamedTuple):
    attendance: Attendance
    lines: dict[str, credit.Line] | None  # None when the session's lines were not asked for


def session_lines(result: Attendance, inputs: CreditInputs) -> dict[str, credit.Line]:
    """Each person's line of a session: the policy applied once to their session total."""
    facts = credit.Session(tuple(result.live), inputs.scheduled_seconds, inputs.segments)
    return {
        key: credit.line(person.spans(), inputs.policy, facts, inputs.rules) for key, person in result.people.items()
    }


def recompute(inputs: SessionInputs, signals: Mapping[str, Sequence[Signal]]) -> Recomputed:
    """A session's attendance from its instances' signals (an instance with none adds nothing), and its
    lines when asked for."""
    result = attendance.compute_session(
        {uuid: attendance.Instance(signals.get(uuid, ()), until) for uuid, until in inputs.instances},
        merges=inputs.merges,
        unbinds=inputs.unbinds,
    )
    return Recomputed(result, session_lines(result, inputs.credit) if inputs.credit is not None else None)
