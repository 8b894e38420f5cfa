"""Communities (list and one community: join link, members and their CoP roles, facilitators, sessions,
credit rules) and the audit trail.

On a community's page, staff and its facilitators change the join link and passcode (upcoming meetings'
calendar entries get an update, as with `zoombot community edit`) and members' roles. Only network staff
give or take a facilitating role (facilitator, co-facilitator): it decides who sees the community. Only
network staff set the community's credit rules (the registry's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from zoombot.core import ledger, roles
from zoombot.core.join_link import join_details
from zoombot.core.plurals import plural
from zoombot.store import directory
from zoombot.store.audit import audit as record_audit
from zoombot.store.credit_lines import rules_for
from zoombot.store.models import (
    AuditEntry,
    Closure,
    Community,
    CreditLine,
    CreditSession,
    Member,
    MemberClaim,
    Membership,
    Occurrence,
    Participant,
    ParticipantAlias,
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

AUDIT_PAGE = 100
#: How far back the community page lists meetings whose closure can be recorded.
RECENT = timedelta(days=62)


@bp.get("/communities")
@login_required
def communities():
    with runtime().db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        counts = (
            select(Membership.community_id, func.count().label("members")).group_by(Membership.community_id).subquery()
        )
        rows = s.execute(
            select(Community, func.coalesce(counts.c.members, 0))
            .outerjoin(counts, counts.c.community_id == Community.id)
            .where(community_filter(Community.id, visible))
            .order_by(Community.name)
        ).all()
        nxt = dict(
            s.execute(
                select(Occurrence.community_id, func.min(Occurrence.start))
                .where(Occurrence.start >= runtime().now(), Occurrence.status == "scheduled")
                .group_by(Occurrence.community_id)
            ).all()
        )
    return render_template("staff/communities.html", rows=rows, next_start=nxt)


@bp.get("/communities/<int:community_id>")
@login_required
def community(community_id: int):
    rt = runtime()
    with rt.db.begin() as s:
        group = require_community(s, community_id)
        order = {role: index for index, role in enumerate(rt.settings.community.role_names)}
        people = sorted(
            s.execute(
                select(Member, Membership)
                .join(Membership)
                .where(Membership.community_id == community_id)
                .order_by(func.lower(Member.name), Member.id)
            ).all(),
            key=lambda pair: order.get(pair[1].role, len(order)),
        )  # facilitators first, members last
        upcoming = s.scalars(
            select(Occurrence)
            .where(Occurrence.community_id == community_id, Occurrence.start >= rt.now())
            .order_by(Occurrence.start)
            .limit(12)
        ).all()
        recent = s.execute(
            select(Occurrence, Closure.id)
            .outerjoin(Closure, Closure.occurrence_id == Occurrence.id)
            .where(
                Occurrence.community_id == community_id,
                Occurrence.status == "scheduled",
                Occurrence.start < rt.now(),
                Occurrence.start >= rt.now() - RECENT,
            )
            .order_by(Occurrence.start.desc())
        ).all()
        held = s.execute(
            select(
                CreditSession,
                func.count(CreditLine.id),
                func.count(CreditLine.id).filter(CreditLine.status == "pending"),
            )
            .outerjoin(CreditLine, CreditLine.session_id == CreditSession.id)
            .where(CreditSession.community_id == community_id)
            .group_by(CreditSession.id)
            .order_by(CreditSession.local_date.desc())
            .limit(24)
        ).all()
        policy, rules = rules_for(rt.settings.hours, group)
    facilitators = [(m, ms) for m, ms in people if roles.facilitates(ms.role)]
    join = join_details(zoom_meeting_id=group.zoom_meeting_id, join_url=group.join_url, passcode=group.passcode)
    return render_template(
        "staff/community.html",
        community=group,
        people=people,
        facilitators=facilitators,
        upcoming=upcoming,
        recent=recent,
        sessions=held,
        tz=group.timezone,
        join=join,
        role_names=rt.settings.community.role_names,
        facilitating=roles.FACILITATING,
        label=roles.label,
        now=rt.now(),
        policy=policy,
        rules=rules,
        defaults=rt.settings.hours,
        categories=rt.settings.registry.categories,
    )


@bp.post("/communities/<int:community_id>/join")
@login_required
def community_join(community_id: int):
    """The join link and passcode; every upcoming meeting's calendar entry gets an update."""
    rt = runtime()
    now = rt.now()
    changes = {"join_url": request.form.get("join_url", ""), "passcode": request.form.get("passcode", "")}
    try:
        with rt.db.begin() as s:
            group = require_community(s, community_id)
            before = (group.join_url, group.passcode)
            outcome = directory.edit_community(
                s,
                group,
                changes,
                default_timezone=rt.settings.schedule.timezone,
                now=now,
                horizon=now + timedelta(days=rt.settings.schedule.horizon_days),
            )
            if outcome.changed:
                record_audit(
                    s,
                    actor=signed_in_user().email,
                    entity="community",
                    entity_id=group.id,
                    action="join link changed",
                    from_value=_shown(*before),
                    to_value=_shown(group.join_url, group.passcode),
                    at=now,
                )
    except (ValueError, directory.DirectoryError) as exc:
        flash(str(exc).replace("--join-url", "The join link").replace("--passcode", "The passcode"), "error")
        return redirect(url_for("staff.community", community_id=community_id) + "#join")
    if not outcome.changed:
        flash("Nothing changed.")
    else:
        told = outcome.announced + outcome.replanned.moved
        flash(
            "Join details saved."
            + (f" {plural(told, 'upcoming meeting')} will be updated in members' calendars." if told else ""),
            "ok",
        )
    return redirect(url_for("staff.community", community_id=community_id) + "#join")


def _shown(url: str | None, passcode: str | None) -> str:
    return f"{url or 'standard link'}" + (" with a passcode" if passcode else "")  # the passcode is not logged


@bp.post("/communities/<int:community_id>/members/<int:member_id>/role")
@login_required
def member_role(community_id: int, member_id: int):
    rt = runtime()
    role = request.form.get("role", "")
    with rt.db.begin() as s:
        require_community(s, community_id)
        membership = s.scalar(
            select(Membership).where(Membership.community_id == community_id, Membership.member_id == member_id)
        )
        if membership is None:
            abort(404)
        error = None
        if role not in rt.settings.community.role_names:
            error = f"Choose one of the roles: {', '.join(rt.settings.community.role_names)}."
        elif (roles.facilitates(role) or roles.facilitates(membership.role)) and not signed_in_user().is_staff:
            error = "Only network staff give or take the facilitator and co-facilitator roles."
        if error:
            flash(error, "error")
        elif role != membership.role:
            record_audit(
                s,
                actor=signed_in_user().email,
                entity="membership",
                entity_id=membership.id,
                action="role changed",
                from_value=membership.role,
                to_value=role,
                at=rt.now(),
            )
            membership.role = role
            flash(f"Role changed to {role}.", "ok")
    return redirect(url_for("staff.community", community_id=community_id) + "#members")


@bp.post("/communities/<int:community_id>/rules")
@login_required
def community_rules(community_id: int):
    """The registry's credit rules for one community (blank: the installation's default). Staff only."""
    rt = runtime()
    user = signed_in_user()
    if not user.is_staff:
        abort(403)
    try:
        with rt.db.begin() as s:
            group = require_community(s, community_id)
            changed = directory.set_credit_rules(s, group, request.form, actor=user.email, now=rt.now())
    except directory.DirectoryError as exc:
        flash(str(exc), "error")
    else:
        flash(
            "Credit rules saved; they apply to sessions whose lines are computed from now on "
            "(`zoombot attendance rebuild` applies them to past ones)."
            if changed
            else "Nothing changed.",
            "ok",
        )
    return redirect(url_for("staff.community", community_id=community_id) + "#rules")


@bp.post("/communities/<int:community_id>/registry")
@require("registry")
def community_registry(community_id: int):
    """How the registry knows this community's sessions: title, category, approval code (staff only)."""
    rt = runtime()
    form = request.form
    title, category = " ".join(form.get("registry_title", "").split()), form.get("registry_category", "").strip()
    code = form.get("approval_code", "").strip()
    if category and category not in rt.settings.registry.categories:
        flash("Choose a category from the list.", "error")
    elif len(title) > 300 or len(code) > 100:
        flash("The title (300) or the approval code (100 characters) is too long.", "error")
    else:
        with rt.db.begin() as s:
            group = require_community(s, community_id)
            before = (group.registry_title, group.registry_category, group.approval_code)
            after = (title or None, category or None, code or None)
            if before != after:
                group.registry_title, group.registry_category, group.approval_code = after
                record_audit(
                    s,
                    actor=signed_in_user().email,
                    entity="community",
                    entity_id=group.id,
                    action="registry details changed",
                    from_value=_registry_text(*before),
                    to_value=_registry_text(*after),
                    at=rt.now(),
                )
        flash("Registry details saved; they apply to lines submitted from now on.", "ok")
    return redirect(url_for("staff.community", community_id=community_id) + "#registry")


def _registry_text(title: str | None, category: str | None, code: str | None) -> str:
    return f"title {title or '(the name)'}, category {category or 'none'}, approval code {code or 'none'}"


@bp.get("/audit")
@login_required
def audit():
    """The audit trail as a ledger: who did what to whose line in which session, in local time, with filters
    by member, community, date range and action (and session or line, from their pages)."""
    rt = runtime()
    args = request.args
    session_id = args.get("session", type=int)
    line_id = args.get("line", type=int) or args.get("record", type=int)
    member_id, community_id = args.get("member", type=int), args.get("community", type=int)
    action = args.get("action") or None
    before = args.get("before", type=int)
    home = rt.settings.schedule.timezone
    try:
        date_from = date.fromisoformat(args["from"]) if args.get("from") else None
        date_to = date.fromisoformat(args["to"]) if args.get("to") else None
    except ValueError:
        flash("Dates must look like 2026-10-13.", "error")
        date_from = date_to = None
    with rt.db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        held = None
        if session_id is not None:
            held = s.get(CreditSession, session_id)
            if held is None:
                abort(404)
            require_community(s, held.community_id)
            query = query.where(AuditEntry.session_id == session_id)
        if line_id is not None:
            query = query.where(AuditEntry.entity == "credit_line", AuditEntry.entity_id == line_id)
        if member_id is not None:
            query = query.where(
                or_(
                    *(
                        (AuditEntry.entity == entity)
                        & AuditEntry.entity_id.in_(select(model.id).where(model.member_id == member_id))
                        for entity, model in MEMBER_ENTITIES.items()
                    )
                )
            )
        if community_id is not None:
            query = query.where(
                or_(
                    AuditEntry.session_id.in_(
                        select(CreditSession.id).where(CreditSession.community_id == community_id)
                    ),
                    (AuditEntry.entity == "community") & (AuditEntry.entity_id == community_id),
                )
            )
        if action:
            query = query.where(AuditEntry.action == action)
        if date_from is not None:
            query = query.where(AuditEntry.at >= local_midnight(date_from, home))
        if date_to is not None:
            query = query.where(AuditEntry.at < local_midnight(date_to + timedelta(days=1), home))
        if visible is not None:
            query = query.where(
                AuditEntry.session_id.in_(select(CreditSession.id).where(CreditSession.community_id.in_(visible)))
            )
        if before is not None:
            query = query.where(AuditEntry.id < before)
        trail = s.scalars(query.limit(AUDIT_PAGE + 1)).all()
        more = len(trail) > AUDIT_PAGE
        trail = trail[:AUDIT_PAGE]
        entries = ledger_rows(s, trail, home)
        communities = s.execute(
            select(Community.id, Community.name).where(community_filter(Community.id, visible)).order_by(Community.name)
        ).all()
        people_query = select(Member.id, Member.name).order_by(func.lower(Member.name), Member.id)
        if visible is not None:
            people_query = people_query.where(
                Member.id.in_(select(Membership.member_id).where(Membership.community_id.in_(visible)))
            )
        people = s.execute(people_query).all()
        actions = s.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    chosen = {
        "session": session_id,
        "line": line_id,
        "member": member_id,
        "community": community_id,
        "action": action,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
    }
    return render_template(
        "staff/audit.html",
        entries=entries,
        more=more,
        held=held,
        chosen=chosen,
        communities=communities,
        people=people,
        actions=actions,
        action_text=ledger.action_text,
        older={**{k: v for k, v in chosen.items() if v}, "before": trail[-1].id if trail else None},
    )


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


# Audit entities that belong to one member, by the table that says which: what an entry is "about", and what
# the audit page's member filter finds (a line, a claim, a membership with its mail choices, a staff match).
MEMBER_ENTITIES: dict[str, type[CreditLine] | type[MemberClaim] | type[Membership] | type[ParticipantAlias]] = {
    "credit_line": CreditLine,
    "member_claim": MemberClaim,
    "membership": Membership,
    "participant_alias": ParticipantAlias,
}


def ledger_rows(s, trail: Sequence[AuditEntry], home: str) -> list[dict]:
    """Each entry with what it is about in words (a member's or participant's name, the session's community
    and local date) and its text in the session's local time, h:mm and hours (`zoombot.core.ledger`)."""
    session_ids = {e.session_id for e in trail if e.session_id}
    sessions = (
        {
            held.id: (held, community)
            for held, community in s.execute(
                select(CreditSession, Community)
                .outerjoin(Community, Community.id == CreditSession.community_id)
                .where(CreditSession.id.in_(session_ids))
            )
        }
        if session_ids
        else {}
    )
    line_ids = {e.entity_id for e in trail if e.entity == "credit_line" and e.entity_id}
    lines = (
        {
            row.id: row
            for row in s.execute(
                select(CreditLine.id, CreditLine.participant_key, Member.name, Participant.name.label("shown"))
                .outerjoin(Member, Member.id == CreditLine.member_id)
                .outerjoin(
                    Participant,
                    (Participant.session_id == CreditLine.session_id)
                    & (Participant.identity_key == CreditLine.participant_key),
                )
                .where(CreditLine.id.in_(line_ids))
            )
        }
        if line_ids
        else {}
    )
    community_ids = {e.entity_id for e in trail if e.entity == "community" and e.entity_id}
    named = (
        dict(s.execute(select(Community.id, Community.name).where(Community.id.in_(community_ids))).all())
        if community_ids
        else {}
    )
    members: dict[tuple[str, int], str] = {}
    for entity, model in MEMBER_ENTITIES.items():
        if entity == "credit_line":  # named above, with the participant's own name where no member matched
            continue
        ids = {e.entity_id for e in trail if e.entity == entity and e.entity_id}
        if ids:
            found = s.execute(
                select(model.id, Member.name).join(Member, Member.id == model.member_id).where(model.id.in_(ids))
            )
            members.update(((entity, entry_id), name) for entry_id, name in found)
    out = []
    for e in trail:
        held, community = sessions.get(e.session_id, (None, None))
        tz = community.timezone if community else home
        who = None
        if e.entity == "credit_line" and e.entity_id in lines:
            row = lines[e.entity_id]
            who = row.name or row.shown or row.participant_key.split(":", 1)[-1]
        elif e.entity == "community":
            who = named.get(e.entity_id)
        elif e.entity_id is not None:
            who = members.get((e.entity, e.entity_id))
        where = None
        if held is not None:
            where = f"{community.name if community else held.topic or 'Session'} · {held.local_date:%a %b %-d, %Y}"
        out.append(
            {
                "entry": e,
                "tz": tz,
                "who": who,
                "where": where,
                "session": held,
                "from": ledger.humanize(e.from_value, tz),
                "to": ledger.humanize(e.to_value, tz),
                "why": ledger.humanize(e.reason, tz),
            }
        )
    return out
