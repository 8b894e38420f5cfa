"""Claims in the database: a member makes, changes or withdraws one on their page; staff accept it (a
match or a merge through `zoombot.store.review`, which audits and recomputes the session) or decline it with a
reason the member reads. Every step is in the audit trail (entity "member_claim"). The rules are in
`zoombot.core.claims`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import claims
from zoombot.core.attention import Reason
from zoombot.core.claims import ClaimError
from zoombot.store import review
from zoombot.store.audit import audit
from zoombot.store.models import CreditLine, CreditSession, Member, MemberClaim, Membership, Participant

MEMBER_ACTOR = "member (personal page)"
SAID = "said: "  # in a claim's description for the audit trail, the member's own words follow this


def _refs(s: Session, session_id: int, secret: str) -> list[tuple[Participant, str]]:
    return [
        (p, claims.participant_ref(secret, session_id, p.identity_key))
        for p in s.scalars(select(Participant).where(Participant.session_id == session_id))
    ]


def _participant(s: Session, session_id: int, secret: str, ref: str) -> Participant | None:
    found = claims.find([(p.identity_key, r) for p, r in _refs(s, session_id, secret)], ref)
    return (
        s.scalar(select(Participant).where(Participant.session_id == session_id, Participant.identity_key == found))
        if found
        else None
    )


def _describe(claim: MemberClaim) -> str:
    parts = []
    if claim.chosen_first_join and claim.chosen_last_leave:
        parts.append(f"chose {claim.chosen_first_join.isoformat()} - {claim.chosen_last_leave.isoformat()}")
    if claim.description:
        parts.append(SAID + claim.description)
    return "; ".join(parts) or "no detail"


def without_words(text: str, placeholder: str) -> str:
    """A claim's description as the audit trail holds it (`_describe`), with the member's own words replaced
    by `placeholder`: retention's step for words that may name people, devices or numbers."""
    head, said, _ = text.partition(SAID)
    return head + said + placeholder if said else text


def submit(
    s: Session, *, member_id: int, session_id: int, ref: str | None, description: str | None, secret: str, now: datetime
) -> MemberClaim:
    """Make (or change, or make again after a decline) the member's claim for a session of their own
    communities; the chosen participant must be one they may claim."""
    held = s.get(CreditSession, session_id)
    if (
        held is None
        or held.community_id is None
        or s.scalar(
            select(Membership.id).where(Membership.member_id == member_id, Membership.community_id == held.community_id)
        )
        is None
    ):
        raise ClaimError("That meeting is not in one of your communities.")
    description = claims.clean_description(description) or None
    chosen = None
    if ref:
        chosen = _participant(s, session_id, secret, ref)
        if chosen is None or chosen.member_id is not None or chosen.is_host:
            raise ClaimError("That entry is no longer in the list: please choose again.")
    claim = s.scalar(
        select(MemberClaim)
        .where(MemberClaim.member_id == member_id, MemberClaim.session_id == session_id)
        .with_for_update()
    )
    claims.check_submission(
        claim.status if claim else None,
        ref=ref if chosen else None,
        description=description or "",
        session_ended=held.status == "ended",
    )
    before = _describe(claim) if claim is not None else None
    if claim is None:
        claim = MemberClaim(member_id=member_id, session_id=session_id, created_at=now)
        s.add(claim)
    claim.participant_ref = ref if chosen else None
    spans = chosen.spans() if chosen else []
    claim.chosen_first_join = min(a for a, _ in spans) if spans else None
    claim.chosen_last_leave = max(b for _, b in spans) if spans else None
    claim.description, claim.status, claim.updated_at = description, claims.OPEN, now
    claim.decided_by = claim.decided_at = claim.decision_reason = claim.resolution = None
    s.flush()
    audit(
        s,
        actor=MEMBER_ACTOR,
        entity="member_claim",
        entity_id=claim.id,
        session_id=session_id,
        action="claimed" if before is None else "claim_changed",
        from_value=before,
        to_value=_describe(claim),
        at=now,
    )
    return claim


def withdraw(s: Session, *, member_id: int, session_id: int, now: datetime) -> None:
    claim = s.scalar(
        select(MemberClaim)
        .where(MemberClaim.member_id == member_id, MemberClaim.session_id == session_id)
        .with_for_update()
    )
    claims.check_withdrawal(claim.status if claim else None)
    assert claim is not None  # check_withdrawal refuses a missing claim
    claim.status, claim.updated_at = claims.WITHDRAWN, now
    audit(
        s,
        actor=MEMBER_ACTOR,
        entity="member_claim",
        entity_id=claim.id,
        session_id=session_id,
        action="claim_withdrawn",
        from_value="open",
        to_value="withdrawn",
        at=now,
    )


# --- staff ------------------------------------------------------------------------------------------


@dataclass
class StaffClaim:
    """A claim as staff see it: the member, and the participant the member's choice resolves to (or the
    session's unmatched participants to pick from)."""

    claim: MemberClaim
    member: Member
    held: CreditSession
    chosen: Participant | None
    candidates: list[Participant]
    member_has_line: bool
    member_key: str | None  # the member's own participant in the session, if any

    @property
    def resolution(self) -> str:
        return claims.resolution(self.member_key is not None)


def staff_view(s: Session, claim: MemberClaim, secret: str) -> StaffClaim:
    refs = _refs(s, claim.session_id, secret)
    chosen = next((p for p, r in refs if claim.participant_ref and r == claim.participant_ref), None)
    own = next((p for p, _ in refs if p.member_id == claim.member_id), None)
    has_line = (
        s.scalar(
            select(CreditLine.id)
            .where(CreditLine.session_id == claim.session_id, CreditLine.member_id == claim.member_id)
            .limit(1)
        )
        is not None
    )
    candidates = sorted(
        (p for p, _ in refs if p.member_id is None and not p.is_host),
        key=lambda p: (p.first_join or claim.created_at, p.identity_key),
    )
    return StaffClaim(
        claim=claim,
        member=claim.member,
        held=claim.session,
        chosen=chosen,
        candidates=candidates,
        member_has_line=has_line,
        member_key=own.identity_key if own else None,
    )


def _open_claim(s: Session, claim_id: int, actor: str) -> MemberClaim:
    claim = s.get(MemberClaim, claim_id, with_for_update=True)
    if claim is None:
        raise ClaimError("no such claim")
    claims.check_decision(claim.status, decider_email=actor, member_email=claim.member.email)
    return claim


def accept(
    s: Session,
    claim_id: int,
    *,
    identity_key: str | None,
    actor: str,
    now: datetime,
    settings: Settings,
    secret: str,
    note: str | None = None,
) -> str:
    """Count the claimed participant as the member: matched to them, or merged into their own attendance
    in the session (`identity_key`: the participant staff picked, else the member's choice). Without any
    participant, a claim is accepted as resolved only once the member has a line in the session (staff
    fixed it on the session page). Returns the resolution."""
    claim = _open_claim(s, claim_id, actor)
    view = staff_view(s, claim, secret)
    key = identity_key or (view.chosen.identity_key if view.chosen else None)
    if key:
        participant = next((p for p in view.candidates if p.identity_key == key), None)
        if participant is None:
            raise ClaimError("that participant is no longer unmatched in this session")
        how = view.resolution
        try:
            if how == "merge":
                assert view.member_key is not None  # "merge" only when the member has a participant of their own
                review.merge(s, claim.session_id, key, view.member_key, actor=actor, now=now, settings=settings)
            else:
                review.match(s, claim.session_id, key, claim.member_id, actor=actor, now=now, settings=settings)
        except review.ReviewError as exc:
            raise ClaimError(str(exc)) from None
    elif view.member_has_line:
        how = "resolved"
    else:
        raise ClaimError("choose the participant who was this member (or match them on the session page first)")
    claim.status, claim.resolution, claim.decided_by, claim.decided_at = claims.ACCEPTED, how, actor, now
    claim.decision_reason = (note or "").strip() or None
    claim.updated_at = now
    audit(
        s,
        actor=actor,
        entity="member_claim",
        entity_id=claim.id,
        session_id=claim.session_id,
        action="claim_accepted",
        from_value=_describe(claim),
        to_value=how,
        reason=claim.decision_reason,
        at=now,
    )
    return how


def decline(s: Session, claim_id: int, *, reason: str, actor: str, now: datetime) -> None:
    """Decline with a reason (required): the member reads it on their page."""
    reason = " ".join((reason or "").split())[:1000]
    if not reason:
        raise ClaimError("give the member a reason")
    claim = _open_claim(s, claim_id, actor)
    claim.status, claim.decision_reason, claim.decided_by, claim.decided_at = claims.DECLINED, reason, actor, now
    claim.resolution, claim.updated_at = None, now
    audit(
        s,
        actor=actor,
        entity="member_claim",
        entity_id=claim.id,
        session_id=claim.session_id,
        action="claim_declined",
        from_value=_describe(claim),
        to_value="declined",
        reason=reason,
        at=now,
    )


# --- the needs-attention queue --------------------------------------------------------------------------


def attention_reasons(s: Session, session_ids: list[int], secret: str) -> dict[int, list[Reason]]:
    """Open claims as a source of the needs-attention queue (`attention.gather(..., more=...)`): a reason on
    the line of the participant the member chose and on the member's own line, by line id. (A claim that
    only describes how the member joined reaches no line: the claims page lists every open claim.)"""
    out: dict[int, list[Reason]] = {}
    wanted = sorted(set(session_ids))
    if not wanted:
        return out
    for claim in s.scalars(
        select(MemberClaim).where(MemberClaim.session_id.in_(wanted), MemberClaim.status == claims.OPEN)
    ):
        view = staff_view(s, claim, secret)
        texts = {}
        if view.chosen is not None:
            texts[view.chosen.identity_key] = f"{view.member.name} claims this attendance as theirs"
        if view.member_key is not None:
            texts[view.member_key] = f"{view.member.name} says they are not fully counted"
        found = s.execute(
            select(CreditLine.id, CreditLine.participant_key).where(
                CreditLine.session_id == claim.session_id, CreditLine.participant_key.in_(list(texts))
            )
        ).all()
        for line_id, key in found:
            out.setdefault(line_id, []).append(Reason("claim", texts[key]))
    return out


def open_count(s: Session, visible: set[int] | None) -> int:
    """Open claims in the communities a user may see (None: all)."""
    query = (
        select(func.count())
        .select_from(MemberClaim)
        .join(CreditSession, CreditSession.id == MemberClaim.session_id)
        .where(MemberClaim.status == claims.OPEN)
    )
    if visible is not None:
        query = query.where(CreditSession.community_id.in_(sorted(visible)))
    return s.scalar(query) or 0
