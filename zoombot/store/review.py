"""Staff review of credit lines and of a session's attendance: the only way decided credit changes.

Each function changes one thing and writes an audit entry per change (who, when, from, to, why).
Decisions about attendance (a match, a merge, an undone Zoom bind, a training segment) are stored in
their own tables and then applied through `zoombot.store.meetings.session_changed`, so a rebuild from the stored
events reaches the same result, and the lines they affect follow `zoombot.store.credit_lines` (undecided lines
follow; decided ones are reopened with the before and after).

Line states: pending -> approved | rejected (approve, reject); approved | rejected -> pending (reopen);
no_credit (zero credit, resolved by itself) -> pending when staff adjust its hours, or rejected.
One decision covers the whole line, its growth and training split included. Approving a flagged line
clears the flag: the reviewer has now seen the before and after.

Separation of duties lives here too, whoever calls: nobody decides (approves, adjusts, rejects, reopens) a
line about themselves, nor matches a participant to themselves (`zoombot.core.permissions`); a line submitted to
the registry is final (a change becomes a correction line, `zoombot.store.credit_lines`). Which *role* may take
which action is checked by the one guard every staff page action passes (`zoombot.web.staff.auth.require`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import credit, hours, permissions
from zoombot.core.ledger import words
from zoombot.core.registry_rows import registry_id_ok
from zoombot.store import meetings
from zoombot.store.audit import audit
from zoombot.store.credit_lines import describe, rules_for, segment_of, settle, split_text
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import (
    Community,
    CreditLine,
    CreditSession,
    Member,
    Participant,
    ParticipantAlias,
    ParticipantMerge,
    TrainingSegment,
)

MAX_HOURS = Decimal("24")


class ReviewError(ValueError):
    """A review action that cannot be done as asked; the message is for the reviewer."""


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("a reason is required")
    return reason


def _line(session: Session, line_id: int, actor: str | None = None) -> CreditLine:
    """The line, locked for the change; with `actor`, refused when it is the actor's own or submitted."""
    line = session.get(CreditLine, line_id, with_for_update=True)
    if line is None:
        raise ReviewError(f"no credit line {line_id}")
    if actor is not None:
        member = session.get(Member, line.member_id) if line.member_id else None
        try:
            permissions.check_not_own(actor, member.email if member else None)
        except permissions.NotAllowed as exc:
            raise ReviewError(str(exc)) from None
        if line.submitted_at is not None:
            raise ReviewError(
                f"line {line.id} was submitted to the registry and is final: "
                "a change to the attendance makes a correction line"
            )
    return line


def _session(session: Session, session_id: int) -> CreditSession:
    found = session.get(CreditSession, session_id)
    if found is None:
        raise ReviewError(f"no session {session_id}")
    return found


def parse_hours(value: object) -> Decimal:
    """Hours as typed by a reviewer ('1.5', '1,5') -> Decimal with two places, 0..24."""
    try:
        parsed = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ReviewError("hours must be a number, e.g. 1.5") from None
    if not parsed.is_finite() or parsed < 0 or parsed > MAX_HOURS:
        raise ReviewError("hours must be between 0 and 24")
    return parsed.quantize(Decimal("0.01"))


def _decide(
    session: Session, line: CreditLine, status: str, *, actor: str, now: datetime, action: str, reason: str | None
) -> None:
    audit(
        session,
        actor=actor,
        entity="credit_line",
        entity_id=line.id,
        action=action,
        session_id=line.session_id,
        from_value=describe(line),
        to_value=f"{status}, {split_text(line.growth_hours, line.training_hours)}",
        reason=reason,
        at=now,
    )
    line.status, line.updated_at = status, now
    if status != "pending":  # reopening keeps who decided last: the line was decided once (credit_lines)
        line.decided_by, line.decided_at = actor, now


def approve(session: Session, line_ids: Iterable[int], *, actor: str, now: datetime, reason: str | None = None) -> int:
    """Approve pending lines (clearing their flags); any line not pending is refused."""
    lines = [_line(session, line_id, actor) for line_id in dict.fromkeys(line_ids)]
    for line in lines:
        if line.status != "pending":
            raise ReviewError(f"line {line.id} is {words(line.status)}, not pending")
    for line in lines:
        seen = f"flag cleared: {line.flag_reason}" if line.flagged else None
        _decide(
            session,
            line,
            "approved",
            actor=actor,
            now=now,
            action="approved",
            reason="; ".join(part for part in (reason, seen) if part) or None,
        )
        line.flagged, line.flag_reason = False, None
    for session_id in {line.session_id for line in lines}:
        settle(session, _session(session, session_id))
    return len(lines)


def clean_split(
    session: Session, session_id: int, *, actor: str, settings: Settings
) -> tuple[list[CreditLine], list[tuple[CreditLine, str]]]:
    """The session's pending lines "approve all clean" would approve (a matched member with a registry id
    that looks like the registry's, no flag, not the actor's own), and the others with why they are left."""
    found = _session(session, session_id)
    if found.status != "ended":
        raise ReviewError("the session has not ended yet")
    clean: list[CreditLine] = []
    left: list[tuple[CreditLine, str]] = []
    pending = session.scalars(
        select(CreditLine)
        .where(CreditLine.session_id == session_id, CreditLine.status == "pending")
        .order_by(CreditLine.id)
    )
    for line in pending:
        why = leave_reason(line, line.member, actor=actor, pattern=settings.registry.registry_id_pattern)
        if why is None:
            clean.append(line)
        else:
            left.append((line, why))
    return clean, left


def leave_reason(line: CreditLine, member: Member | None, *, actor: str, pattern: str) -> str | None:
    """Why "approve all clean" leaves a pending line for a person to look at (None: it is clean)."""
    if member is None:
        return "no matched member"
    if not member.registry_id:
        return "the member has no registry id"
    if not registry_id_ok(pattern, member.registry_id):
        return f"registry id {member.registry_id} does not look like the registry's"
    if line.flagged:
        return f"flagged: {line.flag_reason}" if line.flag_reason else "flagged"
    if permissions.is_own(actor, member.email):
        return "your own line: another staff member decides it"
    return None


def approve_clean(
    session: Session, session_id: int, line_ids: Iterable[int], *, actor: str, now: datetime, settings: Settings
) -> int:
    """Approve exactly the lines the reviewer confirmed, each still clean now (a line that changed since the
    confirmation page was shown is refused, and nothing is approved)."""
    chosen = list(dict.fromkeys(line_ids))
    if not chosen:
        raise ReviewError("no clean line to approve")
    clean, _ = clean_split(session, session_id, actor=actor, settings=settings)
    still = {line.id for line in clean}
    changed = [line_id for line_id in chosen if line_id not in still]
    if changed:
        raise ReviewError(f"line {changed[0]} is no longer clean or pending: look at the session again")
    return approve(session, chosen, actor=actor, now=now, reason="approve all clean")


def approve_session(session: Session, session_id: int, *, actor: str, now: datetime) -> int:
    """Approve every pending line of an ended session; returns how many (for scripts and tests: people use
    `approve_clean`, which leaves lines that need a look)."""
    found = _session(session, session_id)
    if found.status != "ended":
        raise ReviewError("the session has not ended yet")
    ids = session.scalars(
        select(CreditLine.id)
        .where(CreditLine.session_id == session_id, CreditLine.status == "pending")
        .order_by(CreditLine.id)
    ).all()
    return approve(session, ids, actor=actor, now=now)


def cap_hours(session: Session, line: CreditLine, settings: Settings) -> Decimal | None:
    """The most hours the session allows anyone (its cap), or None when the policy sets none."""
    found = _session(session, line.session_id)
    community = session.get(Community, found.community_id) if found.community_id else None
    policy, _ = rules_for(settings.hours, community)
    live = [(m.started_at, m.ended_at) for m in found.meetings if m.started_at and m.ended_at]
    meeting_seconds = sum(int((b - a).total_seconds()) for a, b in live) if live else None
    limit = hours.cap_limit(policy, found.scheduled_minutes * 60 if found.scheduled_minutes else None, meeting_seconds)
    return None if limit is None else hours.seconds_to_hours(limit)


def adjust(
    session: Session,
    line_id: int,
    growth: Decimal,
    training: Decimal,
    *,
    actor: str,
    now: datetime,
    reason: str,
    settings: Settings,
    override: str | None = None,
) -> None:
    """Set a line's growth and training hours by hand (0..24 each, reason required). Above what the session
    allows (its cap) needs an explicit override reason, which stays on the line and in exports."""
    reason = _reason(reason)
    growth, training = parse_hours(growth), parse_hours(training)
    line = _line(session, line_id, actor)
    if line.status == "rejected":
        raise ReviewError("reopen a rejected line before changing its hours")
    if (Decimal(line.growth_hours), Decimal(line.training_hours)) == (growth, training):
        raise ReviewError(f"the line already has {split_text(growth, training)}")
    limit = cap_hours(session, line, settings)
    override = (override or "").strip() or None
    if limit is not None and growth + training > limit and override is None:
        raise ReviewError(
            f"{growth + training} h is more than the {limit} h this session allows: "
            "give an override reason to credit it anyway"
        )
    before = describe(line)
    line.growth_hours, line.training_hours = growth, training
    line.adjusted = (growth, training) != (Decimal(line.proposed_growth_hours), Decimal(line.proposed_training_hours))
    line.override_reason = override if limit is not None and growth + training > limit else None
    if line.status == "no_credit":
        line.status = "pending"
    line.updated_at = now
    audit(
        session,
        actor=actor,
        entity="credit_line",
        entity_id=line.id,
        action="adjusted",
        session_id=line.session_id,
        from_value=before,
        to_value=describe(line),
        reason=reason + (f" (over the session's cap: {override})" if line.override_reason else ""),
        at=now,
    )


def reject(session: Session, line_id: int, *, actor: str, now: datetime, reason: str) -> None:
    """Reject a line (reason required); clears its flag."""
    reason = _reason(reason)
    line = _line(session, line_id, actor)
    if line.status == "rejected":
        raise ReviewError("the line is already rejected")
    _decide(session, line, "rejected", actor=actor, now=now, action="rejected", reason=reason)
    line.flagged, line.flag_reason = False, None
    settle(session, _session(session, line.session_id))


def reopen(session: Session, line_id: int, *, actor: str, now: datetime, reason: str, settings: Settings) -> None:
    """Back to pending (reason required); the line then follows the attendance again, so it is brought in
    step at once."""
    reason = _reason(reason)
    line = _line(session, line_id, actor)
    if line.status in ("pending", "no_credit"):
        raise ReviewError("the line is not decided")
    _decide(session, line, "pending", actor=actor, now=now, action="reopened", reason=reason)
    _recompute(session, line.session_id, settings, now, "line reopened by staff")


PROPOSALS = {"confirmed": "confirmed attended", "disputed": "disputed"}


def propose(session: Session, line_id: int, *, proposal: str | None, note: str, actor: str, now: datetime) -> None:
    """A facilitator's (or staff member's) word on a line, never a decision: "confirmed" (attended),
    "disputed" (something is wrong: the note says what) or a note alone. Staff see it on the line and in the
    needs-attention queue. Nobody proposes about their own line."""
    note = " ".join((note or "").split())[:1000]
    if proposal not in (None, *PROPOSALS):
        raise ReviewError("choose confirm attended or dispute")
    if proposal == "disputed" and not note:
        raise ReviewError("say what is wrong in the note")
    if proposal is None and not note:
        raise ReviewError("write a note, or confirm or dispute the attendance")
    line = session.get(CreditLine, line_id, with_for_update=True)
    if line is None:
        raise ReviewError(f"no credit line {line_id}")
    member = session.get(Member, line.member_id) if line.member_id else None
    if permissions.is_own(actor, member.email if member else None):
        raise ReviewError("nobody proposes about their own line")
    before = ": ".join(filter(None, [PROPOSALS.get(line.proposal or ""), line.note])) or None
    line.proposal, line.note, line.proposed_by, line.proposed_at = proposal, note or None, actor, now
    audit(
        session,
        actor=actor,
        entity="credit_line",
        entity_id=line.id,
        action="noted",
        session_id=line.session_id,
        from_value=before,
        to_value=": ".join(filter(None, [PROPOSALS.get(proposal or ""), note])),
        at=now,
    )


def _recompute(session: Session, session_id: int, settings: Settings, now: datetime, reason: str) -> None:
    meetings.session_changed(session, [_session(session, session_id)], settings, now, reason=reason)


def _participant(session: Session, session_id: int, identity_key: str) -> Participant:
    participant = session.scalar(
        select(Participant).where(Participant.session_id == session_id, Participant.identity_key == identity_key)
    )
    if participant is None:
        raise ReviewError("no such participant in this session")
    return participant


def _member_name(session: Session, member_id: int | None) -> str:
    if member_id is None:
        return "unmatched"
    member = session.get(Member, member_id)
    return member.name if member else "unmatched"


def match(
    session: Session,
    session_id: int,
    identity_key: str,
    member_id: int,
    *,
    actor: str,
    now: datetime,
    settings: Settings,
) -> None:
    """This participant is this member, here and in later sessions (a `participant_aliases` row).

    A match is always remembered: participant rows are re-derived from events and aliases, so an alias is
    the one durable place a match lives. The session is then recomputed: an undecided line takes the
    member, a decided one is reopened for a second look.
    """
    participant = _participant(session, session_id, identity_key)
    chosen = session.get(Member, member_id)
    if chosen is None:
        raise ReviewError("no such member")
    if permissions.is_own(actor, chosen.email):
        raise ReviewError("nobody matches a participant to themselves: another staff member must")
    before = participant.member_id
    alias_id = insert_ignoring_conflict(
        session,
        ParticipantAlias,
        {"identity_key": identity_key, "member_id": member_id, "created_by": actor, "created_at": now},
        ["identity_key"],
    )
    if alias_id is None:
        alias = session.scalar(select(ParticipantAlias).where(ParticipantAlias.identity_key == identity_key))
        if alias is None:  # there a moment ago, when the insert met it: undone meanwhile by someone else
            raise ReviewError("this participant's match changed at the same moment: look again and retry")
        alias.member_id, alias.created_by, alias.created_at = member_id, actor, now
        alias_id = alias.id
    audit(
        session,
        actor=actor,
        entity="participant_alias",
        entity_id=alias_id,
        action="matched",
        session_id=session_id,
        from_value=f"{participant.name or identity_key}: {_member_name(session, before)}",
        to_value=f"{participant.name or identity_key}: {_member_name(session, member_id)}",
        at=now,
    )
    _recompute(session, session_id, settings, now, "participant matched by staff")


def unmatch(
    session: Session, session_id: int, identity_key: str, *, actor: str, now: datetime, settings: Settings
) -> None:
    """Undo a match staff made: the participant is matched by e-mail again, or not at all."""
    participant = _participant(session, session_id, identity_key)
    alias = session.scalar(select(ParticipantAlias).where(ParticipantAlias.identity_key == identity_key))
    if alias is None:
        raise ReviewError("this participant was not matched by staff")
    audit(
        session,
        actor=actor,
        entity="participant_alias",
        entity_id=alias.id,
        action="unmatched",
        session_id=session_id,
        from_value=f"{participant.name or identity_key}: {_member_name(session, alias.member_id)}",
        to_value=f"{participant.name or identity_key}: match removed",
        at=now,
    )
    session.delete(alias)
    session.flush()
    _recompute(session, session_id, settings, now, "staff match undone")


def merge(
    session: Session,
    session_id: int,
    source_key: str,
    target_key: str,
    *,
    actor: str,
    now: datetime,
    settings: Settings,
) -> None:
    """In this session, `source_key` (e.g. a phone dial-in) is the same person as `target_key`.

    Their presence becomes one union; the merged person keeps the strongest identifier of the two (a
    registrant id or e-mail beats a display name), and the lines follow `zoombot.store.credit_lines`.
    """
    if source_key == target_key:
        raise ReviewError("pick two different participants")
    source = _participant(session, session_id, source_key)
    target = _participant(session, session_id, target_key)
    merge_id = insert_ignoring_conflict(
        session,
        ParticipantMerge,
        {
            "session_id": session_id,
            "kind": "merge",
            "source_key": source_key,
            "target_key": target_key,
            "created_by": actor,
            "created_at": now,
        },
        ["session_id", "kind", "source_key"],
    )
    if merge_id is None:
        raise ReviewError("that participant is already merged into another")
    audit(
        session,
        actor=actor,
        entity="participant_merge",
        entity_id=merge_id,
        action="merged",
        session_id=session_id,
        from_value=source.name or source_key,
        to_value=target.name or target_key,
        at=now,
    )
    _recompute(session, session_id, settings, now, "participants merged by staff")


def undo_merge(session: Session, merge_id: int, *, actor: str, now: datetime, settings: Settings) -> int:
    """Take back a staff merge or an undone bind (the decision row goes; the audit entry says so).
    Returns the session's id."""
    row = session.get(ParticipantMerge, merge_id)
    if row is None:
        raise ReviewError("no such merge")
    action = "unmerged" if row.kind == "merge" else "rebound"
    audit(
        session,
        actor=actor,
        entity="participant_merge",
        entity_id=row.id,
        action=action,
        session_id=row.session_id,
        from_value=f"{row.source_key} = {row.target_key}",
        to_value="two participants" if row.kind == "merge" else "Zoom's bind applies again",
        at=now,
    )
    session_id = row.session_id
    session.delete(row)
    session.flush()
    _recompute(
        session,
        session_id,
        settings,
        now,
        "staff merge undone" if row.kind == "merge" else "Zoom's bind restored by staff",
    )
    return session_id


def unbind(
    session: Session, session_id: int, phone_key: str, bound_key: str, *, actor: str, now: datetime, settings: Settings
) -> None:
    """Zoom bound a phone caller to a computer participant, and staff say it is not so."""
    merge_id = insert_ignoring_conflict(
        session,
        ParticipantMerge,
        {
            "session_id": session_id,
            "kind": "unbind",
            "source_key": phone_key,
            "target_key": bound_key,
            "created_by": actor,
            "created_at": now,
        },
        ["session_id", "kind", "source_key"],
    )
    if merge_id is None:
        raise ReviewError("that bind is already undone")
    audit(
        session,
        actor=actor,
        entity="participant_merge",
        entity_id=merge_id,
        action="unbound",
        session_id=session_id,
        from_value=f"{phone_key} = {bound_key} (Zoom's bind)",
        to_value="two participants",
        at=now,
    )
    _recompute(session, session_id, settings, now, "Zoom's bind undone by staff")


# --- training segments ------------------------------------------------------------------------------------


def _segment_text(row: TrainingSegment) -> str:
    parts = [f"{row.start.isoformat()} - {row.end.isoformat()}", row.title or "untitled"]
    if row.category:
        parts.append(row.category)
    if row.approval_code:
        parts.append(f"approval {row.approval_code}")
    if row.trainer_registry_id:
        parts.append(f"trainer {row.trainer_registry_id}")
    return ", ".join(parts)


def save_segment(
    session: Session,
    session_id: int,
    *,
    start: datetime,
    end: datetime,
    title: str,
    category: str,
    approval_code: str,
    actor: str,
    now: datetime,
    settings: Settings,
    segment_id: int | None = None,
    trainer_registry_id: str = "",
) -> TrainingSegment:
    """Mark (or, with `segment_id`, change) an elective-training segment of a session. It must lie within
    the time the session was live and overlap no other segment; lines split again, totals stay."""
    found = _session(session, session_id)
    title, category, approval_code = title.strip()[:300], category.strip()[:200], approval_code.strip()[:100]
    trainer_registry_id = (trainer_registry_id or "").strip()
    if trainer_registry_id and not registry_id_ok(settings.registry.registry_id_pattern, trainer_registry_id):
        raise ReviewError("the trainer's registry id does not look like the registry's")
    if len(trainer_registry_id) > 64:
        raise ReviewError("the trainer's registry id is longer than 64 characters")
    if not title:
        raise ReviewError("give the training a title (the registry needs one)")
    if category and category not in settings.registry.categories:
        raise ReviewError("choose a category from the list")
    if end <= start:
        raise ReviewError("the training segment must end after it starts")
    live_start, live_end = found.started_at, found.ended_at if found.status == "ended" else now
    if live_start is None or live_end is None or start < live_start or end > live_end:
        raise ReviewError("the training segment must lie within the time the session was live")
    row = None
    if segment_id is not None:
        row = session.get(TrainingSegment, segment_id)
        if row is None or row.session_id != session_id:
            raise ReviewError("no such training segment")
    others = [segment_of(s) for s in found.segments if s is not row]
    try:
        credit.check_segments([*others, credit.Segment(start, end)])
    except ValueError as exc:
        raise ReviewError(str(exc)) from None
    before = _segment_text(row) if row is not None else None
    if row is None:
        row = TrainingSegment(
            session_id=session_id,
            start=start,
            end=end,
            title=title,
            category=category,
            approval_code=approval_code,
            trainer_registry_id=trainer_registry_id,
            created_by=actor,
            created_at=now,
        )
        session.add(row)
        found.segments.append(row)
    else:
        row.start, row.end, row.title, row.category, row.approval_code = start, end, title, category, approval_code
        row.trainer_registry_id = trainer_registry_id
    session.flush()
    if before == _segment_text(row):
        raise ReviewError("the training segment is already set that way")
    audit(
        session,
        actor=actor,
        entity="training_segment",
        entity_id=row.id,
        action="segment_changed" if before else "segment_added",
        session_id=session_id,
        from_value=before,
        to_value=_segment_text(row),
        at=now,
    )
    _recompute(session, session_id, settings, now, "training segment changed by staff")
    return row


def delete_segment(
    session: Session, session_id: int, segment_id: int, *, actor: str, now: datetime, settings: Settings
) -> None:
    """Clear a training segment: its time counts as growth again."""
    found = _session(session, session_id)
    row = session.get(TrainingSegment, segment_id)
    if row is None or row.session_id != session_id:
        raise ReviewError("no such training segment")
    audit(
        session,
        actor=actor,
        entity="training_segment",
        entity_id=row.id,
        action="segment_removed",
        session_id=session_id,
        from_value=_segment_text(row),
        to_value="none",
        at=now,
    )
    found.segments.remove(row)
    session.delete(row)
    session.flush()
    _recompute(session, session_id, settings, now, "training segment removed by staff")
