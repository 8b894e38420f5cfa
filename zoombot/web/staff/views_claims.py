"""Members' claims ("I attended but am not counted"): the list staff work through, and their decisions.

Staff accept a claim (the claimed participant is matched to the member, or merged into the member's own
attendance, through `zoombot.store.review`, audited) or decline it with a reason the member reads on their page.
Facilitators see the claims of their communities but do not decide them; nobody decides a claim about
themselves (`zoombot.core.claims.check_decision`).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import case, select

from zoombot.core.claims import ClaimError
from zoombot.runtime import signing_secret
from zoombot.store import claims as claim_store
from zoombot.store.models import Community, CreditSession, MemberClaim
from zoombot.web.staff import add_nav_link, bp
from zoombot.web.staff.auth import community_filter, login_required, runtime, signed_in_user, visible_community_ids

DECIDED_SHOWN = 50


@bp.get("/claims")
@login_required
def claims():
    rt = runtime()
    with rt.db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        query = (
            select(MemberClaim, Community)
            .join(CreditSession, CreditSession.id == MemberClaim.session_id)
            .join(Community, Community.id == CreditSession.community_id)
            .where(community_filter(CreditSession.community_id, visible))
        )
        open_first = case((MemberClaim.status == "open", 0), else_=1)
        waiting = s.execute(query.where(MemberClaim.status == "open").order_by(MemberClaim.created_at)).all()
        decided = s.execute(
            query.where(MemberClaim.status != "open")
            .order_by(open_first, MemberClaim.updated_at.desc())
            .limit(DECIDED_SHOWN)
        ).all()
        secret = signing_secret(rt)
        items = [(claim_store.staff_view(s, claim, secret), community) for claim, community in waiting]
        done = [(claim_store.staff_view(s, claim, secret), community) for claim, community in decided]
        return render_template("staff/claims.html", waiting=items, done=done, may_decide=signed_in_user().is_staff)


def _decide(claim_id: int, action) -> object:
    rt = runtime()
    if not signed_in_user().is_staff:
        abort(403)
    try:
        with rt.db.begin() as s:
            claim = s.get(MemberClaim, claim_id)
            if claim is None:
                abort(404)
            action(s, claim)
    except ClaimError as exc:
        flash(str(exc), "error")
    else:
        flash("Claim decided; the member sees the answer on their page.", "ok")
    return redirect(url_for("staff.claims") + f"#claim-{claim_id}")


@bp.post("/claims/<int:claim_id>/accept")
@login_required
def accept_claim(claim_id: int):
    rt = runtime()
    form = request.form
    return _decide(
        claim_id,
        lambda s, claim: claim_store.accept(
            s,
            claim.id,
            identity_key=form.get("identity_key") or None,
            actor=signed_in_user().email,
            now=rt.now(),
            settings=rt.settings,
            secret=signing_secret(rt),
            note=form.get("note"),
        ),
    )


@bp.post("/claims/<int:claim_id>/decline")
@login_required
def decline_claim(claim_id: int):
    rt = runtime()
    return _decide(
        claim_id,
        lambda s, claim: claim_store.decline(
            s, claim.id, reason=request.form.get("reason", ""), actor=signed_in_user().email, now=rt.now()
        ),
    )


add_nav_link("Claims", "staff.claims")
