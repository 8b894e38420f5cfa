"""Communities (list and one community: members, facilitators, sessions, credit rules) and the audit trail."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from zoombot import directory
from zoombot.credit_lines import rules_for
from zoombot.models import AuditEntry, Community, CreditLine, CreditSession, Member, Membership, Occurrence
from zoombot.staff import bp
from zoombot.staff.auth import (community_filter, current_user, login_required, require_community, runtime,
                                visible_community_ids)

AUDIT_PAGE = 100


@bp.get("/communities")
@login_required
def communities():
    with runtime().db.begin() as s:
        visible = visible_community_ids(s, current_user())
        counts = (select(Membership.community_id, func.count().label("members"))
                  .group_by(Membership.community_id).subquery())
        rows = s.execute(select(Community, func.coalesce(counts.c.members, 0))
                         .outerjoin(counts, counts.c.community_id == Community.id)
                         .where(community_filter(Community.id, visible)).order_by(Community.name)).all()
        nxt = dict(s.execute(select(Occurrence.community_id, func.min(Occurrence.start))
                             .where(Occurrence.start >= runtime().now(), Occurrence.status == "scheduled")
                             .group_by(Occurrence.community_id)).all())
    return render_template("staff/communities.html", rows=rows, next_start=nxt)


@bp.get("/communities/<int:community_id>")
@login_required
def community(community_id: int):
    rt = runtime()
    with rt.db.begin() as s:
        group = require_community(s, community_id)
        people = s.execute(select(Member, Membership).join(Membership)
                           .where(Membership.community_id == community_id)
                           .order_by(Membership.role.desc(), func.lower(Member.name))).all()
        upcoming = s.scalars(select(Occurrence).where(Occurrence.community_id == community_id,
                                                      Occurrence.start >= rt.now())
                             .order_by(Occurrence.start).limit(12)).all()
        held = s.execute(select(CreditSession, func.count(CreditLine.id),
                                func.count(CreditLine.id).filter(CreditLine.status == "pending"))
                         .outerjoin(CreditLine, CreditLine.session_id == CreditSession.id)
                         .where(CreditSession.community_id == community_id)
                         .group_by(CreditSession.id).order_by(CreditSession.local_date.desc()).limit(24)).all()
        policy, rules = rules_for(rt.settings.hours, group)
    facilitators = [(m, ms) for m, ms in people if ms.role == "facilitator"]
    return render_template("staff/community.html", community=group, people=people, facilitators=facilitators,
                           upcoming=upcoming, sessions=held, tz=group.timezone, policy=policy, rules=rules,
                           defaults=rt.settings.hours)


@bp.post("/communities/<int:community_id>/rules")
@login_required
def community_rules(community_id: int):
    """The registry's credit rules for one community (blank: the installation's default). Staff only."""
    rt = runtime()
    user = current_user()
    if not user.is_staff:
        abort(403)
    try:
        with rt.db.begin() as s:
            group = require_community(s, community_id)
            changed = directory.set_credit_rules(s, group, request.form, actor=user.email, now=rt.now())
    except directory.DirectoryError as exc:
        flash(str(exc), "error")
    else:
        flash("Credit rules saved; they apply to sessions whose lines are computed from now on "
              "(`zoombot attendance rebuild` applies them to past ones)." if changed else "Nothing changed.", "ok")
    return redirect(url_for("staff.community", community_id=community_id) + "#rules")


@bp.get("/audit")
@login_required
def audit():
    session_id = request.args.get("session", type=int)
    line_id = request.args.get("line", type=int) or request.args.get("record", type=int)
    before = request.args.get("before", type=int)
    rt = runtime()
    with rt.db.begin() as s:
        visible = visible_community_ids(s, current_user())
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        held, tz = None, rt.settings.schedule.timezone
        if session_id is not None:
            held = s.get(CreditSession, session_id)
            if held is None:
                abort(404)
            group = require_community(s, held.community_id)
            tz = group.timezone if group else tz
            query = query.where(AuditEntry.session_id == session_id)
        if line_id is not None:
            query = query.where(AuditEntry.entity == "credit_line", AuditEntry.entity_id == line_id)
        if visible is not None:
            query = query.where(AuditEntry.session_id.in_(
                select(CreditSession.id).where(CreditSession.community_id.in_(visible))))
        if before is not None:
            query = query.where(AuditEntry.id < before)
        trail = s.scalars(query.limit(AUDIT_PAGE + 1)).all()
    more = len(trail) > AUDIT_PAGE
    trail = trail[:AUDIT_PAGE]
    return render_template("staff/audit.html", trail=trail, more=more, held=held, line_id=line_id, tz=tz,
                           older={"session": session_id, "line": line_id,
                                  "before": trail[-1].id if trail else None})
