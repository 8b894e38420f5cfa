"""Members send resources for the next meeting: `/resources/<token>` (a signed link in each invite).

A title and, optionally, an http(s) link. The submission is stored in `resource_submissions` for the
community's next meeting and shows up on that meeting's draft agenda for the facilitator. The signed
token says who sends (no account needed); a member may send at most `DAILY_LIMIT` a day.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select

from zoombot.core import agenda
from zoombot.core.member_tokens import read_token
from zoombot.runtime import signing_secret
from zoombot.store import agenda_store
from zoombot.store.models import Community, Membership, Occurrence, ResourceSubmission
from zoombot.web.staff.csrf import protect

bp = Blueprint("submissions", __name__, template_folder="templates")
protect(bp)

DAILY_LIMIT = 20
MAX_TITLE = 500


def _link(token: str):
    link = read_token(signing_secret(current_app.extensions["zoombot"]), "resources", token)
    if link is None:
        abort(404)
    return link


def next_occurrence(session, community_id: int, now) -> Occurrence | None:
    return session.scalar(
        select(Occurrence)
        .where(Occurrence.community_id == community_id, Occurrence.status == "scheduled", Occurrence.start > now)
        .order_by(Occurrence.start)
        .limit(1)
    )


@bp.route("/resources/<token>", methods=["GET", "POST"])
def send_resource(token: str):
    runtime = current_app.extensions["zoombot"]
    link = _link(token)
    now = runtime.now()
    errors: list[str] = []
    form = {"title": "", "url": ""}
    with runtime.db.begin() as session:
        membership = session.scalar(
            select(Membership).where(
                Membership.member_id == link.member_id, Membership.community_id == link.community_id
            )
        )
        if membership is None:
            abort(404)
        community = session.get(Community, link.community_id)
        upcoming = next_occurrence(session, community.id, now)
        if request.method == "POST":
            form = {"title": request.form.get("title", ""), "url": request.form.get("url", "")}
            title = " ".join(form["title"].split())[:MAX_TITLE]
            url = agenda.safe_url(form["url"]) if form["url"].strip() else None
            if not title:
                errors.append("Give the resource a title.")
            if form["url"].strip() and url is None:
                errors.append(
                    "The link must be a complete web address starting with https:// or http://, "
                    "with no user name or password in it."
                )
            sent_today = session.scalar(
                select(func.count())
                .select_from(ResourceSubmission)
                .where(
                    ResourceSubmission.member_id == link.member_id,
                    ResourceSubmission.created_at > now - timedelta(days=1),
                )
            )
            if sent_today >= DAILY_LIMIT:
                errors.append("You have sent many resources today already: please try again tomorrow.")
            if not errors:
                session.add(
                    ResourceSubmission(
                        community_id=community.id,
                        member_id=link.member_id,
                        title=title,
                        url=url,
                        occurrence_id=upcoming.id if upcoming else None,
                        created_at=now,
                    )
                )
                if upcoming is not None:
                    agenda_store.add_submission_to_draft(
                        session,
                        upcoming,
                        agenda.Resource(title=title, url=url, submitted_by=membership.member.name),
                        now,
                    )
                return redirect(url_for("submissions.send_resource", token=token, sent=1))
        mine = list(
            session.execute(
                select(ResourceSubmission.title, ResourceSubmission.url)
                .where(
                    ResourceSubmission.member_id == link.member_id,
                    ResourceSubmission.community_id == community.id,
                    ResourceSubmission.occurrence_id == (upcoming.id if upcoming else None),
                )
                .order_by(ResourceSubmission.created_at)
            )
        )
        page = {
            "community": community.name,
            "timezone": community.timezone,
            "upcoming": upcoming.start if upcoming else None,
        }
    status = 400 if errors else 200
    return render_template(
        "public/resources.html",
        token=token,
        errors=errors,
        form=form,
        mine=mine,
        sent=request.args.get("sent") == "1",
        **page,
    ), status
