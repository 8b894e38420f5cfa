"""The unsubscribe links in every message (public, no account needed): `/unsubscribe/<token>` for member
mail, `/unsubscribe/facilitator/<token>` for facilitator mail.

GET shows a confirmation page with one button, because mail scanners follow links and must not
unsubscribe anyone. POST unsubscribes: the page's button, or a mail client's RFC 8058 one-click request
(`List-Unsubscribe=One-Click`, announced by the `List-Unsubscribe-Post` header). The signed token is the
authority, so this blueprint needs no CSRF token (a mail client has none). Each preference is per
community and has its own link: member mail (invitations, agendas, reminders, follow-ups) and facilitator
mail (agenda preparation, meeting closure), so that a facilitator who leaves the member list still gets
what they need to run the meeting, and can stop that too, separately.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from zoombot.core.member_tokens import read_token
from zoombot.runtime import signing_secret
from zoombot.store.audit import audit
from zoombot.store.models import Community, Membership

bp = Blueprint("unsubscribe", __name__, template_folder="templates")

#: purpose -> (membership column, what the audit entry says)
PREFERENCES = {
    "unsubscribe": ("unsubscribed_at", "unsubscribed"),
    "facilitator_unsubscribe": ("facilitator_mail_unsubscribed_at", "unsubscribed (facilitator)"),
}


def _membership(session, purpose: str, token: str) -> tuple[Membership, Community]:
    runtime = current_app.extensions["zoombot"]
    link = read_token(signing_secret(runtime), purpose, token)
    if link is None:
        abort(404)
    membership = session.scalar(
        select(Membership).where(Membership.member_id == link.member_id, Membership.community_id == link.community_id)
    )
    if membership is None:
        abort(404)
    return membership, session.get(Community, link.community_id)


def _unsubscribe(purpose: str, token: str):
    runtime = current_app.extensions["zoombot"]
    column, action = PREFERENCES[purpose]
    with runtime.db.begin() as session:
        membership, community = _membership(session, purpose, token)
        if request.method == "POST" and getattr(membership, column) is None:
            setattr(membership, column, runtime.now())
            one_click = request.form.get("List-Unsubscribe") == "One-Click"
            audit(
                session,
                actor="member (unsubscribe link)",
                entity="membership",
                entity_id=membership.id,
                action=action,
                from_value="subscribed",
                to_value="unsubscribed",
                reason="one-click from the mail client" if one_click else "unsubscribe page",
                at=runtime.now(),
            )
        done = getattr(membership, column) is not None
        name = community.name
    return render_template(
        "public/unsubscribe.html",
        community=name,
        done=done,
        token=token,
        facilitator_mail=purpose == "facilitator_unsubscribe",
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    return _unsubscribe("unsubscribe", token)


@bp.route("/unsubscribe/facilitator/<token>", methods=["GET", "POST"])
def unsubscribe_facilitator(token: str):
    return _unsubscribe("facilitator_unsubscribe", token)
