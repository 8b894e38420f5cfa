"""Members: a searchable list, one member's hours per licensing year, and the members grid (members x
months of a licensing year, with a CSV download). The grid and the member pages read the same facts
(`member_facts`) and sum them with the same rules (`zoombot.core.member_grid`), so their totals agree."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from sqlalchemy import exists, func, or_, select

from zoombot.core import member_grid, spreadsheet
from zoombot.core.licensing_year import LicensingYear, year_of
from zoombot.store import credit_lines
from zoombot.store.models import Community, CreditLine, CreditSession, Member, Membership
from zoombot.web.staff import bp
from zoombot.web.staff.auth import (
    community_filter,
    login_required,
    require,
    runtime,
    signed_in_user,
    visible_community_ids,
)
from zoombot.web.staff.views_sessions import _today

PAGE = 200


@bp.route("/members", methods=["GET", "POST"])
@login_required
def members():
    """The search is POSTed so names and addresses never appear in URLs (and so in access logs)."""
    q = request.form.get("q", "").strip() if request.method == "POST" else ""
    with runtime().db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        query = select(Member).order_by(func.lower(Member.name), Member.id)
        if visible is not None:
            query = query.where(exists().where(Membership.member_id == Member.id, Membership.community_id.in_(visible)))
        if q:
            like = f"%{q.lower()}%"
            query = query.where(
                or_(
                    func.lower(Member.name).like(like),
                    Member.email.like(like),
                    func.lower(Member.registry_id).like(like),
                )
            )
        found = s.scalars(query.limit(PAGE + 1)).all()
        communities = dict(s.execute(select(Community.id, Community.name)).all())
        roles: dict[int, list[tuple[str, str]]] = {}  # member id -> (community name, CoP role)
        if found:
            for membership in s.scalars(
                select(Membership).where(
                    Membership.member_id.in_([m.id for m in found]), community_filter(Membership.community_id, visible)
                )
            ):
                roles.setdefault(membership.member_id, []).append(
                    (communities[membership.community_id], membership.role)
                )
    return render_template("staff/members.html", q=q, members=found[:PAGE], more=len(found) > PAGE, roles=roles)


def member_facts(s, member_ids: list[int] | None, visible) -> list[member_grid.Fact]:
    """Every credit line of these members (None: all) in the communities the user may see, as the grid and
    the member pages count them (a line an approved correction replaced is marked `replaced`)."""
    query = (
        select(
            CreditLine.id,
            CreditLine.session_id,
            CreditLine.participant_key,
            CreditLine.revision,
            CreditLine.status,
            CreditLine.member_id,
            CreditLine.growth_hours,
            CreditLine.training_hours,
            CreditSession.local_date,
        )
        .join(CreditSession, CreditSession.id == CreditLine.session_id)
        .where(CreditLine.member_id.is_not(None), community_filter(CreditSession.community_id, visible))
    )
    if member_ids is not None:
        query = query.where(CreditLine.member_id.in_(member_ids))
    found = s.execute(query).all()
    replaced = credit_lines.uncounted(s, [r.session_id for r in found])
    return [
        member_grid.Fact(r.member_id, r.local_date, r.status, r.growth_hours, r.training_hours, r.id in replaced)
        for r in found
    ]


@bp.get("/members/<int:member_id>")
@login_required
def member(member_id: int):
    rt = runtime()
    hours = rt.settings.hours
    with rt.db.begin() as s:
        visible = visible_community_ids(s, signed_in_user())
        person = s.get(Member, member_id)
        if person is None:
            abort(404)
        memberships = s.execute(
            select(Membership, Community)
            .join(Community)
            .where(Membership.member_id == member_id, community_filter(Membership.community_id, visible))
            .order_by(Community.name)
        ).all()
        if visible is not None and not memberships:
            abort(404)
        rows = s.execute(
            select(CreditLine, CreditSession, Community)
            .join(CreditSession, CreditSession.id == CreditLine.session_id)
            .outerjoin(Community, Community.id == CreditSession.community_id)
            .where(CreditLine.member_id == member_id, community_filter(CreditSession.community_id, visible))
            .order_by(CreditSession.local_date.desc(), CreditSession.id.desc(), CreditLine.revision.desc())
        ).all()
        facts = member_facts(s, [member_id], visible)
    default_tz = rt.settings.schedule.timezone
    held = [
        {"line": line, "session": found, "community": community, "tz": community.timezone if community else default_tz}
        for line, found, community in rows
    ]
    years = member_grid.member_years(facts, hours.licensing_year_start_month, hours.yearly_requirement_hours)
    return render_template(
        "staff/member.html",
        person=person,
        memberships=memberships,
        years=years,
        sessions=held,
        label=lambda y: LicensingYear(y, hours.licensing_year_start_month).label,
    )


def _grid(s, rt, args) -> dict:
    """The grid's rows for the filters in `args` (year, community, region, below)."""
    hours = rt.settings.hours
    start = hours.licensing_year_start_month
    visible = visible_community_ids(s, signed_in_user())
    today = _today(rt.settings.schedule.timezone, rt.now())
    year = args.get("year", type=int) or year_of(today, start).start_year
    community_id = args.get("community", type=int)
    region = (args.get("region") or "").strip()
    below = args.get("below") == "1"
    query = select(Member).order_by(func.lower(Member.name), Member.id)
    chosen = select(Membership.community_id).where(
        Membership.member_id == Member.id, community_filter(Membership.community_id, visible)
    )
    if community_id:
        chosen = chosen.where(Membership.community_id == community_id)
    if region:
        chosen = chosen.where(Membership.community_id.in_(select(Community.id).where(Community.region == region)))
    people = s.scalars(query.where(exists(chosen))).all()
    facts = member_facts(s, [m.id for m in people], visible)
    rows = member_grid.grid(facts, [m.id for m in people], year, start, hours.yearly_requirement_hours)
    if below:
        rows = [row for row in rows if row.below]
    shown = {m.id: m for m in people}
    communities = s.execute(
        select(Community.id, Community.name, Community.region)
        .where(community_filter(Community.id, visible))
        .order_by(Community.name)
    ).all()
    years = sorted({year_of(f.local_date, start).start_year for f in facts} | {year}, reverse=True)
    return {
        "rows": rows,
        "people": shown,
        "totals": member_grid.totals(rows),
        "year": year,
        "years": years,
        "months": LicensingYear(year, start).months,
        "community_id": community_id,
        "region": region,
        "below": below,
        "communities": communities,
        "regions": sorted({c.region for c in communities if c.region}),
        "requirement": hours.yearly_requirement_hours,
        "label": lambda y: LicensingYear(y, start).label,
        "first": LicensingYear(year, start).first_day,
    }


@bp.get("/members/grid")
@login_required
def grid():
    rt = runtime()
    with rt.db.begin() as s:
        view = _grid(s, rt, request.args)
    return render_template("staff/grid.html", **view)


@bp.get("/members/grid.csv")
@require("export")  # a file of members' names, e-mails, registry ids and hours: staff's, as every export
def grid_csv():
    """The grid as CSV: per member, each month's approved growth, approved training and pending hours, then
    the year's totals and the progress to the requirement."""
    rt = runtime()
    with rt.db.begin() as s:
        view = _grid(s, rt, request.args)
    columns = ["name", "email", "registry_id"]
    for month in view["months"]:
        stamp = month.strftime("%Y-%m")
        columns += [f"{stamp} growth approved", f"{stamp} training approved", f"{stamp} pending"]
    columns += [
        "growth approved",
        "training approved",
        "growth pending",
        "training pending",
        "approved total",
        "requirement",
        "remaining",
    ]
    table = []
    for row in view["rows"]:
        person = view["people"][row.member_id]
        out = {"name": person.name, "email": person.email, "registry_id": person.registry_id or ""}
        for month, cell in zip(view["months"], row.months, strict=True):
            stamp = month.strftime("%Y-%m")
            out[f"{stamp} growth approved"] = f"{cell.approved['growth']:.2f}"
            out[f"{stamp} training approved"] = f"{cell.approved['training']:.2f}"
            out[f"{stamp} pending"] = f"{cell.pending_total:.2f}"
        out.update(
            {
                "growth approved": f"{row.total.approved['growth']:.2f}",
                "training approved": f"{row.total.approved['training']:.2f}",
                "growth pending": f"{row.total.pending['growth']:.2f}",
                "training pending": f"{row.total.pending['training']:.2f}",
                "approved total": f"{row.total.approved_total:.2f}",
                "requirement": f"{row.requirement:.2f}",
                "remaining": f"{row.remaining:.2f}",
            }
        )
        table.append(out)
    name = f"members-hours-{view['label'](view['year'])}.csv"
    return Response(
        spreadsheet.to_csv(columns, table, safe=("name", "email", "registry_id")),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
