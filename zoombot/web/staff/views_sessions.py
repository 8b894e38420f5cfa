"""Review pages: the dashboard, one session (all its Zoom instances) with its participants, credit lines and
timeline, and the review actions (each a POST that calls `zoombot.store.review` and comes back to the session)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import Row, case, exists, func, select
from sqlalchemy.orm import Session

from zoombot.core import deadlines, ledger, timeline
from zoombot.core.digits import is_digits
from zoombot.core.participant_flags import participant_flags
from zoombot.core.plurals import plural
from zoombot.core.times import parse_time
from zoombot.store import meetings, review
from zoombot.store.credit_lines import rules_for
from zoombot.store.models import (
    AuditEntry,
    Community,
    CreditLine,
    CreditSession,
    Meeting,
    Member,
    Membership,
    Occurrence,
    Participant,
    ParticipantMerge,
    ZoomEvent,
)
from zoombot.web.staff import bp
from zoombot.web.staff.auth import (
    community_filter,
    login_required,
    require,
    require_community,
    runtime,
    signed_in_user,
    visible_community_ids,
)


def zone_of(community: Community | None) -> str:
    return community.timezone if community else runtime().settings.schedule.timezone


@bp.get("/")
@login_required
def dashboard():
    """Open sessions (lines pending, flagged, or approved and not yet submitted), the soonest due first."""
    rt = runtime()
    now = rt.now()
    days = rt.settings.registry.submission_days
    with rt.db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        pending = func.sum(case((CreditLine.status == "pending", 1), else_=0))
        flagged = func.sum(case((CreditLine.flagged.is_(True), 1), else_=0))
        unsent = func.sum(case(((CreditLine.status == "approved") & CreditLine.submitted_at.is_(None), 1), else_=0))
        counts = (
            select(
                CreditLine.session_id,
                func.count().label("total"),
                pending.label("pending"),
                flagged.label("flagged"),
                unsent.label("unsent"),
            )
            .group_by(CreditLine.session_id)
            .subquery()
        )
        base = (
            select(CreditSession, Community, counts.c.total, counts.c.pending, counts.c.flagged, counts.c.unsent)
            .outerjoin(Community, Community.id == CreditSession.community_id)
            .join(counts, counts.c.session_id == CreditSession.id)
            .where(CreditSession.status == "ended", community_filter(CreditSession.community_id, visible))
        )
        awaiting = s.execute(
            base.where((counts.c.pending > 0) | (counts.c.flagged > 0) | (counts.c.unsent > 0)).order_by(
                CreditSession.local_date, CreditSession.id
            )
        ).all()
        reviewed = s.execute(
            base.where(counts.c.pending == 0, counts.c.flagged == 0, counts.c.unsent == 0)
            .order_by(CreditSession.started_at.desc())
            .limit(10)
        ).all()
        live = s.execute(
            select(CreditSession, Community)
            .outerjoin(Community, Community.id == CreditSession.community_id)
            .where(CreditSession.status == "live", community_filter(CreditSession.community_id, visible))
            .order_by(CreditSession.started_at)
        ).all()
        upcoming = s.execute(
            select(Occurrence, Community)
            .join(Community, Community.id == Occurrence.community_id)
            .where(
                Occurrence.start >= now,
                Occurrence.status == "scheduled",
                community_filter(Occurrence.community_id, visible),
            )
            .order_by(Occurrence.start)
            .limit(10)
        ).all()
    today = _today(rt.settings.schedule.timezone, now)
    dues = {row[0].id: deadlines.due(row[0].local_date, days, today) for row in awaiting}
    return render_template(
        "staff/dashboard.html",
        awaiting=awaiting,
        reviewed=reviewed,
        live=live,
        upcoming=upcoming,
        zone_of=zone_of,
        dues=dues,
        totals={
            "sessions": len(awaiting),
            "pending": sum(r.pending for r in awaiting),
            "flagged": sum(r.flagged for r in awaiting),
            "unsent": sum(r.unsent for r in awaiting),
            "overdue": sum(1 for d in dues.values() if d and d.overdue),
        },
    )


def _intervals(raw: list[list[str]]) -> list[tuple[datetime, datetime, str]]:
    """A participant's stored intervals (written by zoombot itself, so always readable times)."""
    out = []
    for a, b, src in raw:
        start, end = parse_time(a), parse_time(b)
        if start is None or end is None:
            raise ValueError(f"unreadable stored interval {a!r} - {b!r}")
        out.append((start, end, src))
    return out


def session_view(s: Session, session_id: int) -> dict[str, Any]:
    """Everything the session page shows, in a small, fixed number of queries (plus the attendance computed
    from events while the session is live, or when Zoom bound a phone caller)."""
    rt = runtime()
    held = s.get(CreditSession, session_id)
    if held is None:
        abort(404)
    community = require_community(s, held.community_id)
    tz = zone_of(community)
    now = rt.now()
    instances = list(held.meetings)
    has_binds = bool(instances) and bool(
        s.scalar(
            select(
                exists().where(
                    ZoomEvent.meeting_uuid.in_([m.uuid for m in instances]),
                    ZoomEvent.event == "meeting.participant_bind",
                )
            )
        )
    )
    result = meetings.compute(s, held, now) if held.status == "live" or has_binds else None
    if held.status == "live" and result is not None:  # nothing is written while live: show it as it stands
        participants = meetings.participant_rows(s, {held.id: result})[held.id]
    else:
        participants = [_as_row(p) for p in s.scalars(select(Participant).where(Participant.session_id == held.id))]
    participants.sort(key=lambda p: ((p["name"] or "").casefold(), p["identity_key"]))
    lines: dict[str, CreditLine] = {}
    earlier: dict[str, list[CreditLine]] = {}  # lines a correction replaced, kept as they were submitted
    for line in s.scalars(select(CreditLine).where(CreditLine.session_id == held.id).order_by(CreditLine.revision)):
        if line.participant_key in lines:
            earlier.setdefault(line.participant_key, []).append(lines[line.participant_key])
        lines[line.participant_key] = line
    member_ids = (
        {p["member_id"] for p in participants if p["member_id"]}
        | {line.member_id for line in lines.values() if line.member_id}
        | {line.member_id for old in earlier.values() for line in old if line.member_id}
    )
    members = {m.id: m for m in s.scalars(select(Member).where(Member.id.in_(member_ids)))} if member_ids else {}
    live_windows = (
        result.live
        if result is not None
        else sorted((m.started_at, m.ended_at or now) for m in instances if m.started_at)
    )
    live_start = live_windows[0][0] if live_windows else None
    live_end = live_windows[-1][1] if live_windows else None
    policy, rules = rules_for(rt.settings.hours, community)
    binds = result.binds if result is not None else []
    bound = {key for b in binds if b.applied for key in (b.phone, b.bound)}
    unbinds = {
        (m.source_key, m.target_key): m
        for m in s.scalars(select(ParticipantMerge).where(ParticipantMerge.session_id == held.id))
    }
    rows = []
    zone = ZoneInfo(tz)
    for p in participants:
        intervals = _intervals(p["intervals"])
        times = ", ".join(f"{a.astimezone(zone):%H:%M}–{b.astimezone(zone):%H:%M}" for a, b, _ in intervals)
        rows.append(
            {
                "participant": p,
                "key": p["identity_key"],
                "member": members.get(p["member_id"]),
                "intervals": intervals,
                "times": times or "no time recorded",
                "line": lines.pop(p["identity_key"], None),
                "flags": participant_flags(
                    matched=p["member_id"] is not None,
                    attended_seconds=p["attended_seconds"],
                    devices=p["devices"],
                    rejoins=p["rejoins"],
                    is_host=p["is_host"],
                    incomplete=p["incomplete"],
                    intervals=intervals,
                    live_start=live_start,
                    live_end=live_end,
                    minimum_seconds=policy.minimum_minutes * 60,
                    bound_by_zoom=p["identity_key"] in bound,
                ),
            }
        )
    orphans = [{"key": key, "line": line, "member": _member_of(members, line.member_id)} for key, line in lines.items()]
    segments = list(held.segments)
    svg = timeline.render(
        [timeline.Row(r["participant"]["name"] or r["key"], r["intervals"]) for r in rows],
        live=live_windows,
        tz=tz,
        training=[(seg.start, seg.end) for seg in segments],
        title=f"Attendance timeline of {held.topic or 'the session'}",
    )
    community_members: Sequence[Row[str, str]] = []
    if community is not None:
        community_members = s.execute(
            select(Member.name, Member.email)
            .join(Membership)
            .where(Membership.community_id == community.id)
            .order_by(func.lower(Member.name))
        ).all()
    trail = s.scalars(
        select(AuditEntry)
        .where(AuditEntry.session_id == held.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(200)
    ).all()
    all_lines = [r["line"] for r in rows if r["line"]] + [o["line"] for o in orphans]
    counts = {
        status: sum(1 for line in all_lines if line.status == status)
        for status in ("pending", "approved", "rejected", "no_credit")
    }
    counts["flagged"] = sum(1 for line in all_lines if line.flagged)
    names = {p["identity_key"]: p["name"] or p["identity_key"] for p in participants}
    return {
        "held": held,
        "community": community,
        "tz": tz,
        "rows": rows,
        "orphans": orphans,
        "instances": instances,
        "svg": Markup(svg),
        "community_members": community_members,
        "entries": ledger_rows(s, list(trail), rt.settings.schedule.timezone),
        "action_text": ledger.action_text,
        "counts": counts,
        "live_start": live_start,
        "live_end": live_end,
        "live_windows": live_windows,
        "segments": segments,
        "categories": rt.settings.registry.categories,
        "policy": policy,
        "rules": rules,
        "binds": binds,
        "unbinds": unbinds,
        "names": names,
        # one url_for for all lines' forms (hundreds of them on a big session): /staff/lines/<id>/<action>
        "lines_url": url_for("staff.note_line", line_id=0).removesuffix("0/note"),
        "merges": [m for m in unbinds.values() if m.kind == "merge"],
        "earlier": earlier,
        "members": members,
        "due": deadlines.due(held.local_date, rt.settings.registry.submission_days, _today(tz, now)),
        "me": signed_in_user().email.lower(),
        "clean_count": _clean_count(all_lines, members, rt.settings),
    }


def _today(tz: str, now: datetime):
    return now.astimezone(ZoneInfo(tz)).date()


def _clean_count(lines: list[CreditLine], members: dict[int, Member], settings) -> int:
    me = signed_in_user().email
    pattern = settings.registry.registry_id_pattern
    return sum(
        1
        for line in lines
        if line.status == "pending"
        and review.leave_reason(line, _member_of(members, line.member_id), actor=me, pattern=pattern) is None
    )


def _member_of(members: dict[int, Member], member_id: int | None) -> Member | None:
    """A line's member among those the page read (None: the line is of nobody matched)."""
    return members.get(member_id) if member_id is not None else None


def _as_row(p: Participant) -> dict[str, Any]:
    return {
        c: getattr(p, c)
        for c in (
            "session_id",
            "identity_key",
            "name",
            "email",
            "registrant_id",
            "zoom_user_id",
            "is_host",
            "devices",
            "rejoins",
            "incomplete",
            "attended_seconds",
            "intervals",
            "first_join",
            "last_leave",
            "member_id",
            "match_method",
        )
    }


from zoombot.web.staff.views_directory import ledger_rows  # noqa: E402  (the ledger's one home)


@bp.get("/sessions/<int:session_id>")
@login_required
def session_page(session_id: int):
    with runtime().db.begin() as s:
        view = session_view(s, session_id)
        return render_template("staff/session.html", **view)


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    """A Zoom instance's page is its session's (links from before sessions keep working)."""
    with runtime().db.begin() as s:
        found = s.get(Meeting, meeting_id)
        if found is None or found.session_id is None:
            abort(404)
        require_community(s, found.community_id)
        return redirect(url_for("staff.session_page", session_id=found.session_id))


# --- actions ----------------------------------------------------------------------------------------


def _back(session_id: int, anchor: str = "participants"):
    return redirect(url_for("staff.session_page", session_id=session_id) + "#" + anchor)


def _session_action(
    session_id: int, action: Callable[[Session, CreditSession], Any], done: str, anchor: str = "participants"
):
    """Run `action(session, credit_session)` for a session the user may see; ReviewError -> a message. Back to
    the page at `anchor`, where the user acted (the message stays in view: see `.flashes` in staff.css)."""
    rt = runtime()
    try:
        with rt.db.begin() as s:
            held = s.get(CreditSession, session_id)
            if held is None:
                abort(404)
            require_community(s, held.community_id)
            result = action(s, held)
    except review.ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(done.format(result=result), "ok")
    return _back(session_id, anchor)


def _line_action(line_id: int, action: Callable[[Session], Any], done: str):
    rt = runtime()
    with rt.db.begin() as s:
        line = s.get(CreditLine, line_id)
        if line is None:
            abort(404)
        require_community(s, line.session.community_id)
        session_id = line.session_id
    try:
        with rt.db.begin() as s:
            action(s)
    except review.ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "ok")
    return _back(session_id, f"line-{line_id}")


def _actor() -> str:
    return signed_in_user().email


@bp.get("/sessions/<int:session_id>/approve-clean")
@require("approve")
def approve_clean_page(session_id: int):
    """What "approve all clean" would approve and what it leaves, to confirm (nothing changes here)."""
    rt = runtime()
    with rt.db.begin() as s:
        held = s.get(CreditSession, session_id)
        if held is None:
            abort(404)
        community = require_community(s, held.community_id)
        try:
            clean, left = review.clean_split(s, held.id, actor=_actor(), settings=rt.settings)
        except review.ReviewError as exc:
            flash(str(exc), "error")
            return _back(session_id)
        names = {
            p.identity_key: p.name for p in s.scalars(select(Participant).where(Participant.session_id == held.id))
        }
        shown = [
            {
                "line": line,
                "who": line.member.name
                if line.member
                else names.get(line.participant_key) or line.participant_key.split(":", 1)[-1],
                "why": why,
            }
            for line, why in [(line, None) for line in clean] + left
        ]
        return render_template(
            "staff/approve_clean.html",
            held=held,
            community=community,
            clean=[r for r in shown if r["why"] is None],
            left=[r for r in shown if r["why"] is not None],
        )


@bp.post("/sessions/<int:session_id>/approve-clean")
@require("approve")
def approve_clean(session_id: int):
    rt = runtime()
    ids = [int(v) for v in request.form.getlist("line") if is_digits(v)]
    return _session_action(
        session_id,
        lambda s, h: plural(
            review.approve_clean(s, h.id, ids, actor=_actor(), now=rt.now(), settings=rt.settings), "clean line"
        ),
        "Approved {result}.",
    )


@bp.post("/lines/<int:line_id>/note")
@require("note")
def note_line(line_id: int):
    """A facilitator's (or staff member's) note: confirm attended, dispute, or a note alone."""
    rt = runtime()
    proposal = request.form.get("proposal") or None
    return _line_action(
        line_id,
        lambda s: review.propose(
            s, line_id, proposal=proposal, note=request.form.get("note", ""), actor=_actor(), now=rt.now()
        ),
        "Note saved; staff will see it when they decide the line.",
    )


@bp.post("/lines/<int:line_id>/approve")
@bp.post("/records/<int:line_id>/approve")
@require("approve")
def approve_line(line_id: int):
    rt = runtime()
    return _line_action(line_id, lambda s: review.approve(s, [line_id], actor=_actor(), now=rt.now()), "Line approved.")


@bp.post("/lines/<int:line_id>/adjust")
@bp.post("/records/<int:line_id>/adjust")
@require("adjust")
def adjust_line(line_id: int):
    rt = runtime()
    form = request.form
    growth = form.get("growth", form.get("hours", ""))
    return _line_action(
        line_id,
        lambda s: review.adjust(
            s,
            line_id,
            review.parse_hours(growth),
            review.parse_hours(form.get("training") or "0"),
            actor=_actor(),
            now=rt.now(),
            reason=form.get("reason", ""),
            settings=rt.settings,
            override=form.get("override", ""),
        ),
        "Hours adjusted.",
    )


@bp.post("/lines/<int:line_id>/reject")
@bp.post("/records/<int:line_id>/reject")
@require("reject")
def reject_line(line_id: int):
    rt = runtime()
    return _line_action(
        line_id,
        lambda s: review.reject(s, line_id, actor=_actor(), now=rt.now(), reason=request.form.get("reason", "")),
        "Line rejected.",
    )


@bp.post("/lines/<int:line_id>/reopen")
@bp.post("/records/<int:line_id>/reopen")
@require("reopen")
def reopen_line(line_id: int):
    rt = runtime()
    return _line_action(
        line_id,
        lambda s: review.reopen(
            s, line_id, actor=_actor(), now=rt.now(), reason=request.form.get("reason", ""), settings=rt.settings
        ),
        "Line reopened.",
    )


EMAIL_IN_TEXT = re.compile(r"<([^<>\s]+@[^<>\s]+)>\s*$|^\s*([^<>\s]+@[^<>\s]+)\s*$")


def find_member(s: Session, text: str) -> int:
    """A member picked as 'Name <email>' (the suggestion list) or typed as an e-mail address, among
    those the signed-in user may see."""
    found = EMAIL_IN_TEXT.search(text or "")
    if not found:
        raise review.ReviewError("choose a member from the list or type their email address")
    email = (found.group(1) or found.group(2)).lower()
    visible = visible_community_ids(s, signed_in_user())
    query = select(Member.id).where(Member.email == email)
    if visible is not None:
        query = query.join(Membership).where(Membership.community_id.in_(visible))
    member_id = s.scalar(query.limit(1))
    if member_id is None:
        raise review.ReviewError("no member with that email address")
    return member_id


@bp.post("/sessions/<int:session_id>/match")
@require("match")
def match_participant(session_id: int):
    rt = runtime()
    form = request.form
    return _session_action(
        session_id,
        lambda s, h: review.match(
            s,
            h.id,
            form.get("identity_key", ""),
            find_member(s, form.get("member", "")),
            actor=_actor(),
            now=rt.now(),
            settings=rt.settings,
        ),
        "Participant matched; later sessions will match them too.",
    )


@bp.post("/sessions/<int:session_id>/unmatch")
@require("match")
def unmatch_participant(session_id: int):
    rt = runtime()
    return _session_action(
        session_id,
        lambda s, h: review.unmatch(
            s, h.id, request.form.get("identity_key", ""), actor=_actor(), now=rt.now(), settings=rt.settings
        ),
        "Match undone.",
    )


@bp.post("/sessions/<int:session_id>/merge")
@require("merge")
def merge_participants(session_id: int):
    rt = runtime()
    form = request.form
    return _session_action(
        session_id,
        lambda s, h: review.merge(
            s, h.id, form.get("source", ""), form.get("target", ""), actor=_actor(), now=rt.now(), settings=rt.settings
        ),
        "Participants merged.",
    )


@bp.post("/sessions/<int:session_id>/merges/<int:merge_id>/undo")
@require("merge")
def undo_merge(session_id: int, merge_id: int):
    rt = runtime()

    def apply(s: Session, held: CreditSession):
        row = s.get(ParticipantMerge, merge_id)
        if row is None or row.session_id != held.id:
            raise review.ReviewError("no such merge in this session")
        return review.undo_merge(s, merge_id, actor=_actor(), now=rt.now(), settings=rt.settings)

    return _session_action(session_id, apply, "Undone.")


@bp.post("/sessions/<int:session_id>/unbind")
@require("merge")
def unbind(session_id: int):
    rt = runtime()
    form = request.form
    return _session_action(
        session_id,
        lambda s, h: review.unbind(
            s, h.id, form.get("phone", ""), form.get("bound", ""), actor=_actor(), now=rt.now(), settings=rt.settings
        ),
        "Zoom's bind undone: they count as two participants.",
    )


def local_instant(started: datetime, tz: str, value: str, *, not_before: datetime) -> datetime:
    """'19:05' on the local day the session started -> UTC; the next day when that would lie more than 12
    hours before `not_before` (a session running past local midnight)."""
    try:
        clock = time.fromisoformat(value.strip())
    except ValueError:
        raise review.ReviewError("times must look like 19:05") from None
    zone = ZoneInfo(tz)
    day = started.astimezone(zone).date()
    when = datetime.combine(day, clock, tzinfo=zone)
    if when < not_before - timedelta(hours=12):
        when = datetime.combine(day + timedelta(days=1), clock, tzinfo=zone)
    return when.astimezone(started.tzinfo)


def _segment_form(s: Session, held: CreditSession, segment_id: int | None):
    rt = runtime()
    form = request.form
    if held.started_at is None:
        raise review.ReviewError("the session has not started")
    tz = zone_of(s.get(Community, held.community_id) if held.community_id else None)
    start = local_instant(held.started_at, tz, form.get("start", ""), not_before=held.started_at)
    end = local_instant(held.started_at, tz, form.get("end", ""), not_before=start)
    return review.save_segment(
        s,
        held.id,
        start=start,
        end=end,
        title=form.get("title", ""),
        category=form.get("category", ""),
        approval_code=form.get("approval_code", ""),
        actor=_actor(),
        now=rt.now(),
        settings=rt.settings,
        segment_id=segment_id,
        trainer_registry_id=form.get("trainer_registry_id", ""),
    )


@bp.post("/sessions/<int:session_id>/segments")
@require("segment")
def add_segment(session_id: int):
    return _session_action(
        session_id,
        lambda s, h: _segment_form(s, h, None),
        "Training segment saved; every line was split again (totals unchanged).",
        "training",
    )


@bp.post("/sessions/<int:session_id>/segments/<int:segment_id>")
@require("segment")
def edit_segment(session_id: int, segment_id: int):
    return _session_action(
        session_id,
        lambda s, h: _segment_form(s, h, segment_id),
        "Training segment saved; every line was split again (totals unchanged).",
        "training",
    )


@bp.post("/sessions/<int:session_id>/segments/<int:segment_id>/delete")
@require("segment")
def delete_segment(session_id: int, segment_id: int):
    rt = runtime()
    return _session_action(
        session_id,
        lambda s, h: review.delete_segment(s, h.id, segment_id, actor=_actor(), now=rt.now(), settings=rt.settings),
        "Training segment removed; its time counts as growth again.",
        "training",
    )
