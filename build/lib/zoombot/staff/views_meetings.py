"""Review pages: the dashboard, one meeting with its participants, records and timeline, and the
review actions (each a POST that calls `zoombot.review` and comes back to the meeting)."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from zoombot import records as records_module
from zoombot import review, timeline
from zoombot.models import (AuditEntry, Community, HoursRecord, Meeting, Member, Membership, Occurrence,
                            Participant)
from zoombot.participant_flags import participant_flags
from zoombot.attendance import parse_time
from zoombot.staff import bp
from zoombot.staff.auth import (community_filter, current_user, login_required, require_community, runtime,
                                visible_community_ids)

KIND_ORDER = {"growth": 0, "training": 1}


def zone_of(community: Community | None) -> str:
    return community.timezone if community else runtime().settings.schedule.timezone


@bp.get("/")
@login_required
def dashboard():
    rt = runtime()
    now = rt.now()
    with rt.db.begin() as s:
        visible = visible_community_ids(s, current_user())
        pending = func.sum(case((HoursRecord.status == "pending", 1), else_=0))
        flagged = func.sum(case((HoursRecord.flagged.is_(True), 1), else_=0))
        counts = (select(HoursRecord.meeting_id, func.count().label("total"), pending.label("pending"),
                         flagged.label("flagged"))
                  .group_by(HoursRecord.meeting_id).subquery())
        base = (select(Meeting, Community, counts.c.total, counts.c.pending, counts.c.flagged)
                .outerjoin(Community, Community.id == Meeting.community_id)
                .join(counts, counts.c.meeting_id == Meeting.id)
                .where(Meeting.status == "ended", community_filter(Meeting.community_id, visible)))
        awaiting = s.execute(base.where((counts.c.pending > 0) | (counts.c.flagged > 0))
                             .order_by(Meeting.started_at.desc())).all()
        reviewed = s.execute(base.where(counts.c.pending == 0, counts.c.flagged == 0)
                             .order_by(Meeting.started_at.desc()).limit(10)).all()
        live = s.execute(select(Meeting, Community).outerjoin(Community, Community.id == Meeting.community_id)
                         .where(Meeting.status == "live", community_filter(Meeting.community_id, visible))
                         .order_by(Meeting.started_at)).all()
        upcoming = s.execute(select(Occurrence, Community).join(Community, Community.id == Occurrence.community_id)
                             .where(Occurrence.start >= now, Occurrence.status == "scheduled",
                                    community_filter(Occurrence.community_id, visible))
                             .order_by(Occurrence.start).limit(10)).all()
    return render_template("staff/dashboard.html", awaiting=awaiting, reviewed=reviewed, live=live,
                           upcoming=upcoming, zone_of=zone_of,
                           totals={"meetings": len(awaiting), "pending": sum(r.pending for r in awaiting),
                                   "flagged": sum(r.flagged for r in awaiting)})


def _intervals(participant: Participant) -> list[tuple[datetime, datetime, str]]:
    return [(parse_time(a), parse_time(b), src) for a, b, src in participant.intervals]


def meeting_view(s: Session, meeting_id: int) -> dict:
    """Everything the meeting page shows, in a fixed, small number of queries."""
    rt = runtime()
    meeting = s.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    community = require_community(s, meeting.community_id)
    tz = zone_of(community)
    now = rt.now()
    participants = s.scalars(select(Participant).where(Participant.meeting_id == meeting.id)
                             .order_by(func.lower(Participant.name), Participant.identity_key)).all()
    records = s.scalars(select(HoursRecord).where(HoursRecord.meeting_id == meeting.id)).all()
    member_ids = {p.member_id for p in participants if p.member_id} | {r.member_id for r in records if r.member_id}
    members = {m.id: m for m in s.scalars(select(Member).where(Member.id.in_(member_ids)))} if member_ids else {}
    by_key: dict[str, list[HoursRecord]] = {}
    for record in sorted(records, key=lambda r: KIND_ORDER.get(r.kind, 9)):
        by_key.setdefault(record.participant_key, []).append(record)
    live_start = meeting.started_at
    live_end = meeting.ended_at if meeting.status == "ended" else (now if meeting.status == "live" else None)
    minimum = rt.settings.hours.minimum_minutes * 60
    rows = []
    for p in participants:
        intervals = _intervals(p)
        rows.append({"participant": p, "key": p.identity_key, "member": members.get(p.member_id),
                     "intervals": intervals, "records": by_key.pop(p.identity_key, []),
                     "flags": participant_flags(matched=p.member_id is not None, attended_seconds=p.attended_seconds,
                                                devices=p.devices, is_host=p.is_host, incomplete=p.incomplete,
                                                intervals=intervals,
                                                live_start=live_start, live_end=live_end, minimum_seconds=minimum)})
    orphans = [{"key": key, "records": recs, "member": members.get(recs[0].member_id)} for key, recs in by_key.items()]
    live = [(live_start, live_end)] if live_start and live_end and live_end > live_start else []
    training = records_module.training_window(meeting)
    svg = timeline.render([timeline.Row(r["participant"].name or r["key"], r["intervals"]) for r in rows],
                          live=live, tz=tz, training=training,
                          title=f"Attendance timeline of {meeting.topic or 'the meeting'}")
    community_members = []
    if community is not None:
        community_members = s.execute(select(Member.name, Member.email).join(Membership)
                                      .where(Membership.community_id == community.id)
                                      .order_by(func.lower(Member.name))).all()
    trail = s.scalars(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)
                      .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(200)).all()
    counts = {status: sum(1 for r in records if r.status == status) for status in ("pending", "approved", "rejected")}
    counts["flagged"] = sum(1 for r in records if r.flagged)
    return {"meeting": meeting, "community": community, "tz": tz, "rows": rows, "orphans": orphans,
            "svg": Markup(svg), "community_members": community_members, "trail": trail, "counts": counts,
            "live_start": live_start, "live_end": live_end, "training": training,
            "minimum_minutes": rt.settings.hours.minimum_minutes}


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    with runtime().db.begin() as s:
        view = meeting_view(s, meeting_id)
        return render_template("staff/meeting.html", **view)


# --- actions ----------------------------------------------------------------------------------------

def _back(meeting_id: int):
    return redirect(url_for("staff.meeting", meeting_id=meeting_id) + "#participants")


def _meeting_action(meeting_id: int, action, done: str):
    """Run `action(session, meeting)` for a meeting the user may see; ReviewError -> a message."""
    rt = runtime()
    try:
        with rt.db.begin() as s:
            meeting = s.get(Meeting, meeting_id)
            if meeting is None:
                abort(404)
            require_community(s, meeting.community_id)
            result = action(s, meeting)
    except review.ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(done.format(result=result), "ok")
    return _back(meeting_id)


def _record_action(record_id: int, action, done: str):
    rt = runtime()
    with rt.db.begin() as s:
        record = s.get(HoursRecord, record_id)
        if record is None:
            abort(404)
        meeting = s.get(Meeting, record.meeting_id)
        require_community(s, meeting.community_id)
        meeting_id = meeting.id
    try:
        with rt.db.begin() as s:
            action(s)
    except review.ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "ok")
    return _back(meeting_id)


def _actor() -> str:
    return current_user().email


@bp.post("/meetings/<int:meeting_id>/approve-all")
@login_required
def approve_all(meeting_id: int):
    rt = runtime()
    return _meeting_action(meeting_id, lambda s, m: review.approve_meeting(s, m.id, actor=_actor(), now=rt.now()),
                           "Approved {result} pending record(s).")


@bp.post("/records/<int:record_id>/approve")
@login_required
def approve_record(record_id: int):
    rt = runtime()
    return _record_action(record_id, lambda s: review.approve(s, [record_id], actor=_actor(), now=rt.now()),
                          "Record approved.")


@bp.post("/records/<int:record_id>/adjust")
@login_required
def adjust_record(record_id: int):
    rt = runtime()
    form = request.form
    return _record_action(record_id, lambda s: review.adjust(
        s, record_id, review.parse_hours(form.get("hours", "")), actor=_actor(), now=rt.now(),
        reason=form.get("reason", "")), "Hours adjusted.")


@bp.post("/records/<int:record_id>/reject")
@login_required
def reject_record(record_id: int):
    rt = runtime()
    return _record_action(record_id, lambda s: review.reject(
        s, record_id, actor=_actor(), now=rt.now(), reason=request.form.get("reason", "")), "Record rejected.")


@bp.post("/records/<int:record_id>/reopen")
@login_required
def reopen_record(record_id: int):
    rt = runtime()
    return _record_action(record_id, lambda s: review.reopen(
        s, record_id, actor=_actor(), now=rt.now(), reason=request.form.get("reason", ""),
        settings=rt.settings.hours), "Record reopened.")


@bp.post("/records/<int:record_id>/acknowledge")
@login_required
def acknowledge_record(record_id: int):
    rt = runtime()
    hours = request.form.get("hours", "").strip()
    return _record_action(record_id, lambda s: review.acknowledge(
        s, record_id, actor=_actor(), now=rt.now(), settings=rt.settings.hours,
        hours=review.parse_hours(hours) if hours else None, reason=request.form.get("reason", "").strip() or None),
        "New attendance figures acknowledged.")


EMAIL_IN_TEXT = re.compile(r"<([^<>\s]+@[^<>\s]+)>\s*$|^\s*([^<>\s]+@[^<>\s]+)\s*$")


def find_member(s: Session, text: str) -> int:
    """A member picked as 'Name <email>' (the suggestion list) or typed as an e-mail address, among
    those the signed-in user may see."""
    found = EMAIL_IN_TEXT.search(text or "")
    if not found:
        raise review.ReviewError("choose a member from the list or type their email address")
    email = (found.group(1) or found.group(2)).lower()
    visible = visible_community_ids(s, current_user())
    query = select(Member.id).where(Member.email == email)
    if visible is not None:
        query = query.join(Membership).where(Membership.community_id.in_(visible))
    member_id = s.scalar(query.limit(1))
    if member_id is None:
        raise review.ReviewError("no member with that email address")
    return member_id


@bp.post("/meetings/<int:meeting_id>/match")
@login_required
def match_participant(meeting_id: int):
    rt = runtime()
    form = request.form
    return _meeting_action(meeting_id, lambda s, m: review.match(
        s, m.id, form.get("identity_key", ""), find_member(s, form.get("member", "")), actor=_actor(),
        now=rt.now(), settings=rt.settings.hours), "Participant matched; later meetings will match them too.")


@bp.post("/meetings/<int:meeting_id>/merge")
@login_required
def merge_participants(meeting_id: int):
    rt = runtime()
    form = request.form
    return _meeting_action(meeting_id, lambda s, m: review.merge(
        s, m.id, form.get("source", ""), form.get("target", ""), actor=_actor(), now=rt.now(),
        settings=rt.settings.hours), "Participants merged.")


def local_instant(meeting: Meeting, tz: str, value: str, *, not_before: datetime) -> datetime:
    """'19:05' on the meeting's local day -> UTC; the next day when that would lie more than 12 hours
    before `not_before` (a meeting running past local midnight)."""
    try:
        clock = time.fromisoformat(value.strip())
    except ValueError:
        raise review.ReviewError("times must look like 19:05") from None
    zone = ZoneInfo(tz)
    day = meeting.started_at.astimezone(zone).date()
    when = datetime.combine(day, clock, tzinfo=zone)
    if when < not_before - timedelta(hours=12):
        when = datetime.combine(day + timedelta(days=1), clock, tzinfo=zone)
    return when.astimezone(meeting.started_at.tzinfo)


@bp.post("/meetings/<int:meeting_id>/training")
@login_required
def training_window(meeting_id: int):
    rt = runtime()
    form = request.form

    def apply(s: Session, meeting: Meeting):
        if form.get("clear"):
            return review.set_training_window(s, meeting.id, None, None, actor=_actor(), now=rt.now(),
                                              settings=rt.settings.hours)
        if meeting.started_at is None:
            raise review.ReviewError("the meeting has not started")
        tz = zone_of(s.get(Community, meeting.community_id) if meeting.community_id else None)
        start = local_instant(meeting, tz, form.get("start", ""), not_before=meeting.started_at)
        end = local_instant(meeting, tz, form.get("end", ""), not_before=start)
        return review.set_training_window(s, meeting.id, start, end, actor=_actor(), now=rt.now(),
                                          settings=rt.settings.hours)
    return _meeting_action(meeting_id, apply, "Training window saved; hours were split again.")
