"""Members: a searchable list, and one member's hours per year against the yearly requirement."""
from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import exists, func, or_, select

from zoombot.core.member_hours import line_facts, yearly
from zoombot.store.models import Community, CreditLine, CreditSession, Member, Membership
from zoombot.web.staff import bp
from zoombot.web.staff.auth import community_filter, current_user, login_required, runtime, visible_community_ids

PAGE = 200


@bp.route("/members", methods=["GET", "POST"])
@login_required
def members():
    """The search is POSTed so names and addresses never appear in URLs (and so in access logs)."""
    q = request.form.get("q", "").strip() if request.method == "POST" else ""
    with runtime().db.begin() as s:
        visible = visible_community_ids(s, current_user())
        query = select(Member).order_by(func.lower(Member.name), Member.id)
        if visible is not None:
            query = query.where(exists().where(Membership.member_id == Member.id,
                                               Membership.community_id.in_(visible)))
        if q:
            like = f"%{q.lower()}%"
            query = query.where(or_(func.lower(Member.name).like(like), Member.email.like(like),
                                    func.lower(Member.registry_id).like(like)))
        found = s.scalars(query.limit(PAGE + 1)).all()
        communities = dict(s.execute(select(Community.id, Community.name)).all())
        roles = {}
        if found:
            for membership in s.scalars(select(Membership).where(
                    Membership.member_id.in_([m.id for m in found]),
                    community_filter(Membership.community_id, visible))):
                roles.setdefault(membership.member_id, []).append((communities[membership.community_id],
                                                                   membership.role))
    return render_template("staff/members.html", q=q, members=found[:PAGE], more=len(found) > PAGE, roles=roles)


@bp.get("/members/<int:member_id>")
@login_required
def member(member_id: int):
    rt = runtime()
    with rt.db.begin() as s:
        visible = visible_community_ids(s, current_user())
        person = s.get(Member, member_id)
        if person is None:
            abort(404)
        memberships = s.execute(select(Membership, Community).join(Community)
                                .where(Membership.member_id == member_id,
                                       community_filter(Membership.community_id, visible))
                                .order_by(Community.name)).all()
        if visible is not None and not memberships:
            abort(404)
        rows = s.execute(select(CreditLine, CreditSession, Community)
                         .join(CreditSession, CreditSession.id == CreditLine.session_id)
                         .outerjoin(Community, Community.id == CreditSession.community_id)
                         .where(CreditLine.member_id == member_id,
                                community_filter(CreditSession.community_id, visible))
                         .order_by(CreditSession.local_date.desc(), CreditSession.id.desc())).all()
    default_tz = rt.settings.schedule.timezone
    held = [{"line": line, "session": found, "community": community,
             "tz": community.timezone if community else default_tz} for line, found, community in rows]
    facts = [fact for line, found, _ in rows for fact in line_facts(found.local_date.year, line)]
    return render_template("staff/member.html", person=person, memberships=memberships,
                           years=yearly(facts, rt.settings.hours.yearly_requirement_hours), sessions=held)
