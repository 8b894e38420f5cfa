"""Credit lines in the database: built when a session ends, kept in step with late events, changed only
by review.

One line per person per session (`zoombot.core.credit` computes it). What a line may do by itself:
- a new line is `pending`, or `no_credit` when its credit is zero with a plain reason (below a minimum):
  visible and overridable, but nothing for staff to do;
- a line nobody decided follows the attendance (its figures and, unless staff adjusted them, its hours);
- a decided line (approved or rejected) never changes silently: when its credit or its member would
  change, it is reopened (pending, flagged) with the before and after in the flag and the audit trail;
  when only its time changes and its credit does not, the new time is recorded and audited;
- a line whose person no longer exists on their own (merged into another) is removed if nobody ever
  decided it, else reopened at zero for staff to settle. Nothing is ever created beside a decided line;
- a line already submitted to the registry is final and never changes: when its credit or member would
  change (or its person vanishes), a *correction* is created instead (the next revision of the same
  participant, `corrects_id` naming the submitted line, pending and flagged with the before and after),
  which then follows the attendance as any undecided line does and goes in the next batch. A submitted
  line whose time changes but whose credit does not stays as it is. A correction nobody decided whose
  credit and member come back to the submitted line's is removed again.
Every change writes an audit entry (who, when, from, to, why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.config import HoursSettings, Settings
from zoombot.core import credit, hours, member_grid, recompute
from zoombot.core.attendance import Attendance
from zoombot.core.ledger import clock
from zoombot.store.audit import SYSTEM, audit, audit_row
from zoombot.store.bulk import insert_rows
from zoombot.store.directory import communities_by_id
from zoombot.store.models import AuditEntry, Community, CreditLine, CreditSession, TrainingSegment, table_of

SYSTEM_STATES = ("pending", "no_credit")  # states a line is in until a person decides it
ZERO = Decimal("0.00")
VANISHED = "no attendance of its own any more (merged or removed)"
# the flag of a decided line the attendance reopened (see _reopen), whose "now ... proposed" follows the line
REOPENED = re.compile(r"^(?P<head>\w+ line reopened: was .*?); now .*? proposed(?P<tail>(; .*)?)$")


def rules_for(settings: HoursSettings, community: Community | None) -> tuple[hours.Policy, credit.TrainingRules]:
    """The hours policy and training rules of a community: its own where set, else the installation's."""

    def pick(name: str, default: Any) -> Any:
        value = getattr(community, name, None) if community is not None else None
        return default if value is None else value

    policy = hours.Policy(
        increment_minutes=settings.increment_minutes,
        rounding=settings.rounding,
        minimum_minutes=pick("minimum_minutes", settings.minimum_minutes),
        cap=settings.cap,
        attendance_percent_minimum=pick("attendance_percent_minimum", settings.attendance_percent_minimum),
    )
    rules = credit.TrainingRules(
        full_attendance=pick("training_full_attendance", settings.training_full_attendance),
        missed_minutes=pick("training_missed_minutes", settings.training_missed_minutes),
        minimum_minutes=pick("training_minimum_minutes", settings.training_minimum_minutes),
    )
    return policy, rules


def superseded(session: Session, session_ids: Sequence[int]) -> set[int]:
    """Lines of these sessions that an approved later revision of the same participant replaces: a member's
    hours count the correction, not the submitted line it corrects (`member_grid.replaced_ids`). The whole
    chain is read, whoever each revision belongs to (a correction may move the credit to another member)."""
    return member_grid.replaced_ids(_chains(session, session_ids))


def uncounted(session: Session, session_ids: Sequence[int]) -> set[int]:
    """`superseded`, and the corrections not approved (yet) of a line that counts (`member_grid.uncounted_ids`):
    what a member's hours leave out."""
    return member_grid.uncounted_ids(_chains(session, session_ids))


def _chains(session: Session, session_ids: Sequence[int]) -> list[member_grid.Revision]:
    wanted = sorted(set(session_ids))
    found: list[member_grid.Revision] = []
    for at in range(0, len(wanted), 1000):  # bounded IN lists (SQLite's limit on bound parameters)
        found += [
            (line_id, sid, key, revision, status, member)
            for line_id, sid, key, revision, status, member in session.execute(
                select(
                    CreditLine.id,
                    CreditLine.session_id,
                    CreditLine.participant_key,
                    CreditLine.revision,
                    CreditLine.status,
                    CreditLine.member_id,
                ).where(CreditLine.session_id.in_(wanted[at : at + 1000]))
            )
        ]
    return found


def segment_of(row: TrainingSegment) -> credit.Segment:
    return credit.Segment(row.start, row.end, row.title, row.category, row.approval_code, row.id)


def credit_inputs(
    credit_session: CreditSession,
    settings: HoursSettings,
    community: Community | None,
    segments: Sequence[TrainingSegment],
) -> recompute.CreditInputs:
    """What the lines of a session depend on besides its attendance (its community and training segments
    read by the caller, for many sessions at once), as plain data for `zoombot.core.recompute`."""
    policy, rules = rules_for(settings, community)
    scheduled = credit_session.scheduled_minutes * 60 if credit_session.scheduled_minutes else None
    return recompute.CreditInputs(policy, rules, scheduled, tuple(segment_of(s) for s in segments))


def credit_inputs_of(
    session: Session, credit_sessions: Sequence[CreditSession], settings: HoursSettings
) -> dict[int, recompute.CreditInputs]:
    """`credit_inputs` of each of these sessions, their communities and training segments read in two
    queries for all of them."""
    if not credit_sessions:
        return {}
    communities = communities_by_id(session, {s.community_id for s in credit_sessions if s.community_id is not None})
    segments: dict[int, list[TrainingSegment]] = {s.id: [] for s in credit_sessions}
    for segment in session.scalars(
        select(TrainingSegment)
        .where(TrainingSegment.session_id.in_(list(segments)))
        .order_by(TrainingSegment.start, TrainingSegment.id)
    ):
        segments[segment.session_id].append(segment)
    return {
        s.id: credit_inputs(
            s, settings, communities.get(s.community_id) if s.community_id is not None else None, segments[s.id]
        )
        for s in credit_sessions
    }


def figures(line: credit.Line) -> dict[str, Any]:
    """The columns of a credit line that follow the attendance."""
    return {
        "attended_seconds": line.attended_seconds,
        "training_attended_seconds": sum(s.attended_seconds for s in line.segments),
        "proposed_growth_hours": line.growth_hours,
        "proposed_training_hours": line.training_hours,
        "no_credit_reason": line.no_credit,
        "segments": [
            {
                "segment_id": s.segment.id,
                "title": s.segment.title,
                "category": s.segment.category,
                "approval_code": s.segment.approval_code,
                "live_seconds": s.live_seconds,
                "attended_seconds": s.attended_seconds,
                "credited_seconds": s.credited_seconds,
                "hours": str(s.hours),
                "refused": s.refused,
            }
            for s in line.segments
        ],
    }


def split_text(growth: Decimal, training: Decimal) -> str:
    """'1.75 h growth + 0.25 h training', '2.00 h growth'."""
    text = f"{Decimal(growth):.2f} h growth"
    return text + f" + {Decimal(training):.2f} h training" if Decimal(training) else text


def describe(line: CreditLine, *, proposed: bool = False) -> str:
    """A line's state in words for the audit trail and flags: status, time, hours by kind."""
    growth, training = (
        (line.proposed_growth_hours, line.proposed_training_hours)
        if proposed
        else (line.growth_hours, line.training_hours)
    )
    text = f"{line.status}, {clock(line.attended_seconds)} attended, {split_text(growth, training)}"
    return text + (
        f" (no credit: {line.no_credit_reason})" if line.status == "no_credit" and line.no_credit_reason else ""
    )


def sync_lines(
    session: Session,
    items: Sequence[tuple[CreditSession, Attendance, Mapping[str, int | None]]],
    settings: Settings,
    now: datetime,
    *,
    reason: str,
    proposed: Mapping[int, Mapping[str, credit.Line]] | None = None,
) -> None:
    """Create or update these sessions' lines from their attendance and their participants' matched members
    (as `meetings.refresh` wrote them): existing lines are read in one query, new ones written in two
    statements (see the module docstring for what a line may do by itself). `proposed`: what the rules
    give each person of some of these sessions, already computed (the rebuild's rules process); the others
    are computed here."""
    if not items:
        return
    existing: dict[int, dict[str, CreditLine]] = {s.id: {} for s, _, _ in items}
    for stored in session.scalars(
        select(CreditLine).where(CreditLine.session_id.in_(list(existing))).order_by(CreditLine.revision)
    ):
        existing[stored.session_id][stored.participant_key] = stored  # the current (latest) revision wins
    proposed = proposed or {}
    inputs = credit_inputs_of(session, [s for s, _, _ in items if s.id not in proposed], settings.hours)
    created: list[dict[str, Any]] = []
    for credit_session, result, members in items:
        lines = proposed.get(credit_session.id)
        if lines is None:
            lines = recompute.session_lines(result, inputs[credit_session.id])
        mine = existing[credit_session.id]
        for key, computed in lines.items():
            line = mine.get(key)
            if line is None:
                status = "no_credit" if computed.credited_seconds == 0 else "pending"
                follows = figures(computed)  # the proposal is also the line's hours until someone decides it
                created.append(
                    {
                        "session_id": credit_session.id,
                        "participant_key": key,
                        "member_id": members.get(key),
                        **follows,
                        "growth_hours": follows["proposed_growth_hours"],
                        "training_hours": follows["proposed_training_hours"],
                        "adjusted": False,
                        "status": status,
                        "flagged": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            else:
                _follow(session, line, figures(computed), members.get(key), now, reason)
        for key, line in mine.items():
            if key not in lines:
                _vanished(session, line, now, reason)
        if credit_session.lines_built_at is None:
            credit_session.lines_built_at = now
    _create(session, created, now, reason)
    settle_many(session, [s for s, _, _ in items])


def settle(session: Session, credit_session: CreditSession) -> None:
    """A session asks for review while any of its lines is flagged."""
    settle_many(session, [credit_session])


def settle_many(session: Session, credit_sessions: Sequence[CreditSession]) -> None:
    """`settle` for many sessions, in one query."""
    session.flush()
    ids = [s.id for s in credit_sessions]
    flagged = set(
        session.scalars(
            select(CreditLine.session_id).where(CreditLine.session_id.in_(ids), CreditLine.flagged.is_(True)).distinct()
        )
    )
    for credit_session in credit_sessions:
        credit_session.needs_review = credit_session.id in flagged


def _create(session: Session, rows: list[dict[str, Any]], now: datetime, reason: str) -> None:
    """New lines and their "created" audit entries, each table in one bulk write (`store.bulk`). A new line is
    the first of its participant in its session (sync_lines creates none beside an existing one), so the
    lines' ids are read back by session and participant."""
    if not rows:
        return
    insert_rows(session, table_of(CreditLine), rows)
    wanted = {(row["session_id"], row["participant_key"]) for row in rows}
    ids = {
        (sid, key): line_id
        for line_id, sid, key in session.execute(
            select(CreditLine.id, CreditLine.session_id, CreditLine.participant_key).where(
                CreditLine.session_id.in_({sid for sid, _ in wanted})
            )
        )
        if (sid, key) in wanted
    }
    insert_rows(
        session,
        table_of(AuditEntry),
        [
            audit_row(
                actor=SYSTEM,
                entity="credit_line",
                action="created",
                session_id=row["session_id"],
                entity_id=ids[row["session_id"], row["participant_key"]],
                to_value=f"{row['status']}, {clock(row['attended_seconds'])} attended, "
                f"{split_text(row['growth_hours'], row['training_hours'])}"
                + (f" (no credit: {row['no_credit_reason']})" if row["status"] == "no_credit" else ""),
                reason=reason,
                at=now,
            )
            for row in rows
        ],
    )


def _proposal(line: CreditLine) -> tuple[Decimal, Decimal]:
    return Decimal(line.proposed_growth_hours), Decimal(line.proposed_training_hours)


def _follow(
    session: Session, line: CreditLine, new: dict[str, Any], member_id: int | None, now: datetime, reason: str
) -> None:
    """Bring an existing line in step with what the rules give now."""
    if line.submitted_at is not None:
        _correct_submitted(session, line, new, member_id, now, reason)
        return
    if line.corrects_id is not None and line.decided_at is None and _back_to_submitted(session, line, new, member_id):
        audit(
            session,
            actor=SYSTEM,
            entity="credit_line",
            entity_id=line.id,
            action="removed",
            session_id=line.session_id,
            from_value=describe(line),
            reason=f"{reason}; the credit is the submitted line's again: no correction needed",
            at=now,
        )
        session.delete(line)
        return
    old_proposal = _proposal(line)
    new_proposal = (Decimal(new["proposed_growth_hours"]), Decimal(new["proposed_training_hours"]))
    time_changed = any(
        getattr(line, k) != v for k, v in new.items() if k not in ("proposed_growth_hours", "proposed_training_hours")
    )
    credit_changed = old_proposal != new_proposal
    member_changed = line.member_id != member_id
    if not (time_changed or credit_changed or member_changed):
        return
    before, seconds_before = describe(line, proposed=True), line.attended_seconds
    if line.status in SYSTEM_STATES:
        for k, v in new.items():
            setattr(line, k, v)
        line.member_id = member_id
        if line.flagged:
            line.flag_reason = _flag_now(line.flag_reason, new_proposal, line.attended_seconds)
        if line.adjusted:
            if credit_changed:  # staff set the hours by hand: keep them, but ask for a second look
                line.flagged = True
                line.flag_reason = (
                    f"attendance changed after a manual adjustment: proposed "
                    f"{split_text(*old_proposal)} -> {split_text(*new_proposal)}"
                )
        else:
            line.growth_hours, line.training_hours = new_proposal
            # a correction to zero still goes to the registry: it never settles as "no credit" by itself
            zero = sum(new_proposal) == 0 and new["no_credit_reason"] and line.corrects_id is None
            line.status = "no_credit" if zero else "pending"
        line.updated_at = now
        audit(
            session,
            actor=SYSTEM,
            entity="credit_line",
            entity_id=line.id,
            action="recomputed",
            session_id=line.session_id,
            from_value=before,
            to_value=(after := describe(line, proposed=True)),
            reason=reason
            + ("; the participant's member changed" if member_changed else "")
            + _unseen(before, after, seconds_before, line.attended_seconds),
            at=now,
        )
        return
    if credit_changed or member_changed:
        _reopen(session, line, new, member_id, now, reason)
        return
    for k, v in new.items():  # a decided line whose credit stays: the new time is recorded, openly
        setattr(line, k, v)
    line.updated_at = now
    audit(
        session,
        actor=SYSTEM,
        entity="credit_line",
        entity_id=line.id,
        action="recomputed",
        session_id=line.session_id,
        from_value=before,
        to_value=(after := describe(line, proposed=True)),
        reason=f"{reason}; credit unchanged, decision kept"
        + _unseen(before, after, seconds_before, line.attended_seconds),
        at=now,
    )


def _flag_now(reason: str | None, proposal: tuple[Decimal, Decimal], attended_seconds: int) -> str | None:
    """A system flag that states what a line has, brought up to date when the line changes again (a merge
    undone gives a reopened line its hours back): the flag stays, for the decision it undid, but never
    tells staff something the line no longer says."""
    if reason == VANISHED and attended_seconds > 0:
        return f"attendance of its own again after it had none: now {split_text(*proposal)} proposed"
    found = REOPENED.match(reason or "")
    if found is None:
        return reason
    return f"{found['head']}; now {split_text(*proposal)} proposed{found['tail']}"


def _unseen(before: str, after: str, seconds_before: int, seconds_after: int) -> str:
    """What changed when a line's description reads the same before and after (h:mm drops the seconds), so
    the audit trail never shows a change from X to X without saying why."""
    if before != after or seconds_before == seconds_after:
        return ""
    change = seconds_after - seconds_before
    return f"; attended time changed within the minute ({change:+d} seconds)"


def _reopen(
    session: Session, line: CreditLine, new: dict[str, Any], member_id: int | None, now: datetime, reason: str
) -> None:
    """A decided line whose credit (or member) would change: back to pending, flagged, before -> after."""
    before = describe(line)
    decided = line.status
    old_member = line.member_id
    for k, v in new.items():
        setattr(line, k, v)
    line.member_id = member_id
    if not line.adjusted:
        line.growth_hours, line.training_hours = _proposal(line)
    line.status = "pending"
    change = f"was {before}; now {split_text(line.growth_hours, line.training_hours)} proposed"
    if old_member != member_id:
        change += "; the participant's member changed"
    line.flagged, line.flag_reason, line.updated_at = True, f"{decided} line reopened: {change}", now
    audit(
        session,
        actor=SYSTEM,
        entity="credit_line",
        entity_id=line.id,
        action="reopened",
        session_id=line.session_id,
        from_value=before,
        to_value=describe(line),
        reason=reason,
        at=now,
    )


def _correct_submitted(
    session: Session, line: CreditLine, new: dict[str, Any], member_id: int | None, now: datetime, reason: str
) -> None:
    """A submitted line is final: a change to its credit or member becomes a correction line instead."""
    new_proposal = (Decimal(new["proposed_growth_hours"]), Decimal(new["proposed_training_hours"]))
    if _still_holds(line, new_proposal, member_id):
        return  # what was submitted still holds (the time behind it may differ): nothing to correct
    status = "pending"
    correction = CreditLine(
        session_id=line.session_id,
        participant_key=line.participant_key,
        revision=line.revision + 1,
        corrects_id=line.id,
        member_id=member_id,
        **new,
        growth_hours=new_proposal[0],
        training_hours=new_proposal[1],
        adjusted=False,
        status=status,
        flagged=True,
        created_at=now,
        updated_at=now,
    )
    change = f"submitted {describe(line)}; now {split_text(*new_proposal)} proposed"
    if member_id != line.member_id:
        change += "; the participant's member changed"
    correction.flag_reason = f"correction of submitted line {line.id}: {change}"
    session.add(correction)
    session.flush()
    audit(
        session,
        actor=SYSTEM,
        entity="credit_line",
        entity_id=correction.id,
        action="corrected",
        session_id=line.session_id,
        from_value=f"line {line.id}: {describe(line)}",
        to_value=describe(correction),
        reason=f"{reason}; line {line.id} was submitted to the registry and stays as sent",
        at=now,
    )


def _still_holds(submitted: CreditLine, proposal: tuple[Decimal, Decimal], member_id: int | None) -> bool:
    """Whether what a submitted line said still stands for the rules' `proposal` and `member_id`: the same
    member, and either the hours it was sent with or, when staff had set those by hand, the same proposal
    they adjusted (their adjustment then still answers it: a recompute that leaves the person's credit as it
    was must not "correct" staff's decision back to the rules')."""
    if member_id != submitted.member_id:
        return False
    sent = (Decimal(submitted.growth_hours), Decimal(submitted.training_hours))
    return proposal == sent or (submitted.adjusted and proposal == _proposal(submitted))


def _back_to_submitted(session: Session, line: CreditLine, new: dict[str, Any], member_id: int | None) -> bool:
    """Whether an undecided correction's credit and member are again those of the line it corrects."""
    original = session.get(CreditLine, line.corrects_id)
    if original is None or line.adjusted:
        return False
    return _still_holds(
        original, (Decimal(new["proposed_growth_hours"]), Decimal(new["proposed_training_hours"])), member_id
    )


def _vanished(session: Session, line: CreditLine, now: datetime, reason: str) -> None:
    """The person no longer exists on their own (merged into another, or their events changed)."""
    if (
        line.status in SYSTEM_STATES
        and line.decided_at is None
        and line.exported_at is None
        and line.corrects_id is None
    ):  # a correction stays: it takes the submitted credit back
        audit(
            session,
            actor=SYSTEM,
            entity="credit_line",
            entity_id=line.id,
            action="removed",
            session_id=line.session_id,
            from_value=describe(line),
            reason=reason,
            at=now,
        )
        session.delete(line)
        return
    gone = {
        "attended_seconds": 0,
        "training_attended_seconds": 0,
        "proposed_growth_hours": ZERO,
        "proposed_training_hours": ZERO,
        "no_credit_reason": VANISHED,
        "segments": [],
    }
    if line.submitted_at is not None:
        _correct_submitted(session, line, gone, line.member_id, now, reason)
        return
    if line.status in SYSTEM_STATES:
        growth, training = _proposal(line)
        if line.attended_seconds or growth + training:
            _follow(session, line, gone, line.member_id, now, reason)
            line.flagged, line.flag_reason = True, VANISHED
        return
    _reopen(session, line, gone, line.member_id, now, reason)
