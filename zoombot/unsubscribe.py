"""The unsubscribe link in every message: `/unsubscribe/<token>` (public, no account needed).

GET shows a confirmation page with one button, because mail scanners follow links and must not
unsubscribe anyone. POST unsubscribes: the page's button, or a mail client's RFC 8058 one-click request
(`List-Unsubscribe=One-Click`, announced by the `List-Unsubscribe-Post` header). The signed token is the
authority, so this blueprint needs no CSRF token (a mail client has none). Unsubscribing is per
community and stops every further message of that community, facilitator mail included.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from zoombot.member_tokens import read_token, signing_secret
from zoombot.models import Community, Membership
from zoombot.audit import audit

bp = Blueprint("unsubscribe", __name__, template_folder="templates")


def _membership(session, token: str) -> tuple[Membership, Community]:
    runtime = current_app.extensions["zoombot"]
    link = read_token(signing_secret(runtime), "unsubscribe", token)
    if link is None:
        abort(404)
    membership = session.scalar(select(Membership).where(Membership.member_id == link.member_id,
                                                         Membership.community_id == link.community_id))
    if membership is None:
        abort(404)
    return membership, session.get(Community, link.community_id)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    runtime = current_app.extensions["zoombot"]
    with runtime.db.begin() as session:
        membership, community = _membership(session, token)
        if request.method == "POST" and membership.unsubscribed_at is None:
            membership.unsubscribed_at = runtime.now()
            one_click = request.form.get("List-Unsubscribe") == "One-Click"
            audit(session, actor="member (unsubscribe link)", entity="membership", entity_id=membership.id,
                  action="unsubscribed", from_value="subscribed", to_value="unsubscribed",
                  reason="one-click from the mail client" if one_click else "unsubscribe page", at=runtime.now())
        done = membership.unsubscribed_at is not None
        name = community.name
    return render_template("public/unsubscribe.html", community=name, done=done, token=token)
