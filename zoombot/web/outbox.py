"""The outbox page of the staff UI (`/staff/outbox`): messages waiting, sent, skipped or given up, with a
retry for those still worth sending. On the agendas blueprint (its links and permissions)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from zoombot.store import outbox
from zoombot.store.models import Community, Occurrence, OutboxMessage
from zoombot.web.agendas import bp
from zoombot.web.staff.auth import login_required, require_community, runtime, signed_in_user, visible_community_ids


@bp.get("/outbox")
@login_required
def outbox_page():
    rt = runtime()
    show = request.args.get("status", "problems")
    statuses = {
        "problems": ("failed",),
        "pending": ("pending", "sending"),
        "sent": ("sent",),
        "skipped": ("skipped",),
    }.get(show, ("failed",))
    with rt.db.begin() as session:
        visible = visible_community_ids(session, signed_in_user())
        # a member's own mail (a link they asked for) is about no meeting: staff see it, facilitators do not
        query = (
            select(OutboxMessage, Occurrence, Community)
            .outerjoin(Occurrence, Occurrence.id == OutboxMessage.occurrence_id)
            .outerjoin(Community, Community.id == Occurrence.community_id)
            .where(OutboxMessage.status.in_(statuses))
            .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc())
            .limit(500)
        )
        if visible is not None:
            query = query.where(Occurrence.community_id.in_(visible))
        rows = [
            {
                "id": m.id,
                "kind": m.kind,
                "recipient": m.recipient,
                "status": m.status,
                "due_at": m.due_at,
                "expires_at": m.expires_at,
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at,
                "sent_at": m.sent_at,
                "last_error": m.last_error,
                "community": c.name if c else None,
                "timezone": c.timezone if c else rt.settings.schedule.timezone,
                "meeting": occ.start if occ else None,
                "retryable": m.status in ("failed", "pending") and m.expires_at > rt.now(),
            }
            for m, occ, c in session.execute(query)
        ]
    return render_template("agendas/outbox.html", rows=rows, show=show)


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def retry_message(message_id: int):
    rt = runtime()
    with rt.db.begin() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            abort(404)
        occurrence = session.get(Occurrence, message.occurrence_id) if message.occurrence_id else None
        require_community(session, occurrence.community_id if occurrence else None)
        if outbox.retry(session, message_id, rt.now(), actor=signed_in_user().email):
            flash("The message will be sent on the next run of the sender.")
        else:
            flash("This message can no longer be sent (already sent, or its meeting has started).", "error")
    return redirect(url_for("agendas.outbox_page", status=request.form.get("show", "problems")))
