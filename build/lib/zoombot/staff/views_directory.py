"""Communities (list and one community: members, facilitators, meetings) and the audit trail."""
from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import func, select

from zoombot.models import AuditEntry, Community, HoursRecord, Meeting, Member, Membership, Occurrence
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
        meetings = s.execute(select(Meeting, func.count(HoursRecord.id),
                                    func.count(HoursRecord.id).filter(HoursRecord.status == "pending"))
                             .outerjoin(HoursRecord, HoursRecord.meeting_id == Meeting.id)
                             .where(Meeting.community_id == community_id)
                             .group_by(Meeting.id).order_by(Meeting.started_at.desc()).limit(24)).all()
    facilitators = [(m, ms) for m, ms in people if ms.role == "facilitator"]
    return render_template("staff/community.html", community=group, people=people, facilitators=facilitators,
                           upcoming=upcoming, meetings=meetings, tz=group.timezone)


@bp.get("/audit")
@login_required
def audit():
    meeting_id = request.args.get("meeting", type=int)
    record_id = request.args.get("record", type=int)
    before = request.args.get("before", type=int)
    rt = runtime()
    with rt.db.begin() as s:
        visible = visible_community_ids(s, current_user())
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        meeting, tz = None, rt.settings.schedule.timezone
        if meeting_id is not None:
            meeting = s.get(Meeting, meeting_id)
            if meeting is None:
                abort(404)
            group = require_community(s, meeting.community_id)
            tz = group.timezone if group else tz
            query = query.where(AuditEntry.meeting_id == meeting_id)
        if record_id is not None:
            query = query.where(AuditEntry.entity == "hours_record", AuditEntry.entity_id == record_id)
        if visible is not None:
            query = query.where(AuditEntry.meeting_id.in_(
                select(Meeting.id).where(Meeting.community_id.in_(visible))))
        if before is not None:
            query = query.where(AuditEntry.id < before)
        trail = s.scalars(query.limit(AUDIT_PAGE + 1)).all()
    more = len(trail) > AUDIT_PAGE
    trail = trail[:AUDIT_PAGE]
    return render_template("staff/audit.html", trail=trail, more=more, meeting=meeting, record_id=record_id,
                           tz=tz,
                           older={"meeting": meeting_id, "record": record_id,
                                  "before": trail[-1].id if trail else None})
