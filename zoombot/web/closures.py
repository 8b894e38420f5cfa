"""Recording how a meeting closed: `/closure/<token>` (the signed link in the closure mail, for the
facilitators and the note-taker, no account needed) and `/staff/agendas/<id>/closure` (staff and
facilitator logins). Both show the same form and store through `zoombot.store.closure_store`.

A closure can be recorded once the meeting has started, and corrected afterwards (the follow-up carries
what was recorded when it went). The link's token names the member and the meeting; whether that member
may still record it (a facilitator, a co-facilitator or the note-taker) is checked on every use.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from zoombot.core import closure
from zoombot.core.digits import is_digits
from zoombot.core.member_tokens import read_token
from zoombot.runtime import signing_secret
from zoombot.store import closure_store
from zoombot.store.models import Community, Member, Occurrence, OutboxMessage
from zoombot.web.staff.csrf import protect

bp = Blueprint("closure", __name__, template_folder="templates")
protect(bp)


def closure_page(session, occurrence: Occurrence, community: Community, *, actor: str, layout: str, action: str, now):
    """GET: the form; POST: record it (redirect) or show what is wrong (400)."""
    items = closure_store.parked_items(session, occurrence)
    row = closure_store.stored(session, occurrence.id)
    started = occurrence.start <= now
    errors: list[str] = []
    if request.method == "POST":
        if not started or occurrence.status != "scheduled":
            abort(409)
        given, errors = closure.parse_form(
            summary=request.form.get("summary", ""),
            next_steps=request.form.get("next_steps", ""),
            evaluation_url=request.form.get("evaluation_url", ""),
            resolved=request.form.getlist("resolved"),
            raised=request.form.get("raised", ""),
            shown_ids={item.id for item in items},
        )
        if given is not None:
            done = closure_store.record(session, occurrence, given, actor=actor, now=now)
            flash(f"The closure is {done}. The follow-up to members will carry it.", "ok")
            return redirect(action)
    outcome = closure_store.outcome(session, occurrence)
    followup_sent = (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.occurrence_id == occurrence.id,
                OutboxMessage.kind == "followup",
                OutboxMessage.status == "sent",
            )
            .limit(1)
        )
        is not None
    )
    form = {
        "summary": request.form.get("summary", outcome.summary),
        "next_steps": request.form.get("next_steps", "\n".join(outcome.next_steps)),
        "evaluation_url": request.form.get("evaluation_url", outcome.evaluation_url or ""),
        "raised": request.form.get("raised", ""),
        "resolved": (
            {int(v) for v in request.form.getlist("resolved") if is_digits(v)}
            if errors
            else {item.id for item in items if item.resolved_here}
        ),
    }
    page = render_template(
        "closure/page.html",
        layout=layout,
        action=action,
        community=community.name,
        timezone=community.timezone,
        start=occurrence.start,
        cancelled=occurrence.status != "scheduled",
        started=started,
        recorded=row,
        items=items,
        form=form,
        errors=errors,
        followup_sent=followup_sent,
    )
    return page, 400 if errors else 200


@bp.route("/closure/<token>", methods=["GET", "POST"])
def by_link(token: str):
    runtime = current_app.extensions["zoombot"]
    link = read_token(signing_secret(runtime), "closure", token)
    if link is None:
        abort(404)
    with runtime.db.begin() as session:
        occurrence = session.get(Occurrence, link.occurrence_id)
        member = session.get(Member, link.member_id)
        if (
            occurrence is None
            or member is None
            or occurrence.community_id != link.community_id
            or not closure_store.may_close(session, occurrence, member.id)
        ):
            abort(404)
        return closure_page(
            session,
            occurrence,
            session.get(Community, occurrence.community_id),
            actor=f"{member.email} (closure link)",
            layout="public/base.html",
            action=url_for("closure.by_link", token=token),
            now=runtime.now(),
        )
