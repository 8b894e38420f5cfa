"""The "needs attention" queue: every open line that needs a person, across sessions, soonest due first.

The reasons come from `zoombot.core.attention` (pure); this view reads the open lines of the sessions the user
may see and hands them over. Another source of reasons (members' claims, say) joins by passing its
reasons by line id to `attention.gather(..., more=...)` here, as members' open claims do.
"""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from zoombot.core import attention
from zoombot.runtime import signing_secret
from zoombot.store import claims as claim_store
from zoombot.store.models import Community, CreditLine, CreditSession, Member, Participant
from zoombot.web.staff import bp
from zoombot.web.staff.auth import community_filter, login_required, runtime, signed_in_user, visible_community_ids
from zoombot.web.staff.views_sessions import _today


def open_lines(s, visible) -> list[tuple]:
    """(line, member registry id, member name, participant name, session, community) of every open line."""
    return s.execute(
        select(CreditLine, Member.registry_id, Member.name, Participant.name, CreditSession, Community)
        .join(CreditSession, CreditSession.id == CreditLine.session_id)
        .outerjoin(Community, Community.id == CreditSession.community_id)
        .outerjoin(Member, Member.id == CreditLine.member_id)
        .outerjoin(
            Participant,
            (Participant.session_id == CreditLine.session_id)
            & (Participant.identity_key == CreditLine.participant_key),
        )
        .where(
            CreditSession.status == "ended",
            CreditLine.status.in_(attention.OPEN),
            CreditLine.submitted_at.is_(None),
            community_filter(CreditSession.community_id, visible),
        )
    ).all()


@bp.get("/attention")
@login_required
def attention_page():
    rt = runtime()
    kind = request.args.get("reason") or None
    with rt.db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        found = open_lines(s, visible)
        claimed = claim_store.attention_reasons(s, [row[4].id for row in found], signing_secret(rt))
        open_claims = claim_store.open_count(s, visible)
    facts = [
        attention.LineFacts(
            line_id=line.id,
            session_id=line.session_id,
            status=line.status,
            submitted=False,
            member_id=line.member_id,
            registry_id=registry_id,
            flagged=line.flagged,
            flag_reason=line.flag_reason,
            override_reason=line.override_reason,
            proposal=line.proposal,
            note=line.note,
            corrects_id=line.corrects_id,
        )
        for line, registry_id, *_ in found
    ]
    reasons = attention.gather(facts, pattern=rt.settings.registry.registry_id_pattern, more=claimed)
    if kind:
        reasons = {k: v for k, v in reasons.items() if any(r.kind == kind for r in v)}
    by_line = {row[0].id: row for row in found}
    sessions = {row[4].id: row[4].local_date for row in found}
    items = attention.queue(
        sessions,
        reasons,
        {k: by_line[k][0].session_id for k in reasons},
        submission_days=rt.settings.registry.submission_days,
        today=_today(rt.settings.schedule.timezone, rt.now()),
    )
    held = {row[4].id: (row[4], row[5]) for row in found}
    return render_template(
        "staff/attention.html",
        items=items,
        by_line=by_line,
        held=held,
        kind=kind,
        kinds=attention.KINDS,
        count=len(reasons),
        open_claims=open_claims,
    )
