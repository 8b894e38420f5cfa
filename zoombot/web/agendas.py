"""The agenda editor, a meeting's closure and its mail preview in the staff UI (`/staff/agendas/...`).

Facilitators edit the agendas of their own communities, network staff those of every community: per
meeting the roles (who facilitates, takes notes, keeps time), the objectives, topics, resources (links),
next steps, the expectations and confidentiality rules, and the community's parking lot (items carry
forward until someone closes them). Text is stored as typed and rendered autoescaped everywhere; links
are kept only when they are http(s) (`zoombot.core.agenda.parse_resources`). After the meeting the same people
record its closure (`zoombot.web.closures`). The preview shows each message of a meeting as it would be
sent, with personal links that open nothing. The outbox page (`zoombot.web.outbox`) shares this blueprint.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from zoombot.core import agenda, roles
from zoombot.core.digits import is_digits
from zoombot.mail import preview as mail_preview
from zoombot.store import agenda_store
from zoombot.store.models import Agenda as AgendaRow
from zoombot.store.models import Community, Member, Membership, Occurrence, ParkingLotItem
from zoombot.web.closures import closure_page
from zoombot.web.staff import add_nav_link
from zoombot.web.staff.auth import login_required, require_community, runtime, signed_in_user, visible_community_ids
from zoombot.web.staff.csrf import protect

bp = Blueprint("agendas", __name__, url_prefix="/staff", template_folder="templates")
protect(bp)
add_nav_link("Agendas", "agendas.index")
add_nav_link("Outbox", "agendas.outbox_page")

PAST = timedelta(days=31)
AHEAD = timedelta(days=120)


def _occurrence(session, occurrence_id: int) -> tuple[Occurrence, Community]:
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        abort(404)
    return occurrence, require_community(session, occurrence.community_id)


@bp.get("/agendas/")
@login_required
def index():
    now = runtime().now()
    with runtime().db.begin() as session:
        visible = visible_community_ids(session, signed_in_user())
        query = (
            select(Occurrence, Community)
            .join(Community, Community.id == Occurrence.community_id)
            .where(Occurrence.start > now - PAST, Occurrence.start < now + AHEAD)
            .order_by(Occurrence.start, Community.name)
        )
        if visible is not None:
            query = query.where(Occurrence.community_id.in_(visible))
        rows = session.execute(query).all()
        statuses = (
            dict(
                session.execute(
                    select(AgendaRow.occurrence_id, AgendaRow.status).where(
                        AgendaRow.occurrence_id.in_([occ.id for occ, _ in rows])
                    )
                ).all()
            )
            if rows
            else {}
        )
        items = [
            {
                "id": occ.id,
                "community": c.name,
                "timezone": c.timezone,
                "start": occ.start,
                "cancelled": occ.status == "cancelled",
                "past": occ.start <= now,
                "agenda": statuses.get(occ.id),
            }
            for occ, c in rows
        ]
    return render_template("agendas/index.html", items=items)


def _form_agenda(
    form, previous: agenda.Agenda, people: dict[int, str], meeting_roles: tuple[str, ...]
) -> agenda.Agenda:
    """The agenda as the form says. A role's select holds a member id of this community (anything else
    leaves the role to nobody); a form without role selects (an older page) keeps the roles as they were."""
    if any(f"role:{role}" in form for role in meeting_roles):
        chosen = []
        for role in meeting_roles:
            value = form.get(f"role:{role}", "")
            if is_digits(value) and int(value) in people:
                chosen.append(agenda.RoleAssignment(role=role, name=people[int(value)], member_id=int(value)))
        assigned = agenda.clean_roles(chosen)
    else:
        assigned = previous.roles
    return agenda.Agenda(
        objectives=agenda.parse_lines(form.get("objectives", "")),
        topics=agenda.parse_lines(form.get("topics", "")),
        expectations=agenda.parse_lines(form.get("expectations", "")) or agenda.DEFAULT_EXPECTATIONS,
        confidentiality=agenda.parse_lines(form.get("confidentiality", "")) or agenda.DEFAULT_CONFIDENTIALITY,
        resources=agenda.parse_resources(form.get("resources", "")),
        parking_lot=previous.parking_lot,
        next_steps=agenda.parse_lines(form.get("next_steps", "")),
        roles=assigned,
    )


def _people(session, community_id: int) -> dict[int, str]:
    """Member id -> name of the community's members, by name."""
    return dict(
        session.execute(
            select(Member.id, Member.name)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.community_id == community_id)
            .order_by(func.lower(Member.name), Member.id)
        ).all()
    )


def resource_lines(resources) -> str:
    return "\n".join(f"{r.title} | {r.url}" if r.url and r.url != r.title else (r.url or r.title) for r in resources)


@bp.route("/agendas/<int:occurrence_id>", methods=["GET", "POST"])
@login_required
def edit(occurrence_id: int):
    rt = runtime()
    now = rt.now()
    user = signed_in_user()
    with rt.db.begin() as session:
        occurrence, community = _occurrence(session, occurrence_id)
        row = agenda_store.ensure_draft(session, occurrence, now)
        shown = agenda_store.current(session, occurrence, now)
        people = _people(session, community.id)
        meeting_roles = roles.meeting_roles(rt.settings.community.role_names)
        if request.method == "POST":
            updated = _form_agenda(request.form, shown, people, meeting_roles)
            status = "ready" if request.form.get("status") == "ready" else "draft"
            agenda_store.save(session, row, updated, status, actor=user.email, now=now)
            flash("Agenda saved." + (" It is marked ready." if status == "ready" else ""))
            refused = agenda.refused_links(request.form.get("resources", ""))
            if refused:
                flash(
                    "Kept without a link (only http:// and https:// addresses with no user name or password are "
                    "linked): " + "; ".join(refused),
                    "error",
                )
            return redirect(url_for("agendas.edit", occurrence_id=occurrence_id))
        lot = agenda_store.open_parking_lot(session, community.id)
        page = {
            "occurrence": {"id": occurrence.id, "start": occurrence.start, "status": occurrence.status},
            "community": {"id": community.id, "name": community.name, "timezone": community.timezone},
            "status": row.status,
            "updated_at": row.updated_at,
            "updated_by": row.updated_by,
            "agenda": shown,
            "missing": agenda.missing_sections(shown),
            "resources_text": resource_lines(shown.resources),
            "parking_lot": [{"id": item.id, "text": item.text, "created_at": item.created_at} for item in lot],
            "people": people,
            "meeting_roles": meeting_roles,
            "label": roles.label,
            "holders": {a.role: a.member_id for a in shown.roles},
        }
    return render_template("agendas/edit.html", **page)


@bp.route("/agendas/<int:occurrence_id>/closure", methods=["GET", "POST"])
@login_required
def closure(occurrence_id: int):
    rt = runtime()
    with rt.db.begin() as session:
        occurrence, community = _occurrence(session, occurrence_id)
        return closure_page(
            session,
            occurrence,
            community,
            actor=signed_in_user().email,
            layout="staff/base.html",
            action=url_for("agendas.closure", occurrence_id=occurrence_id),
            now=rt.now(),
        )


@bp.get("/agendas/<int:occurrence_id>/preview")
@login_required
def preview(occurrence_id: int):
    """Each message of this meeting as it would be sent: one recipient at a time, text, HTML and calendar
    file. Personal links are placeholders: a preview must not hand staff a working unsubscribe link."""
    rt = runtime()
    now = rt.now()
    with mail_preview.throwaway_session(rt.db) as session:
        occurrence, community = _occurrence(session, occurrence_id)
        found = mail_preview.previews(session, rt.settings, None, occurrence, now)
        kinds = [kind for kind in mail_preview.KINDS if any(p.kind == kind for p in found)]
        kind = request.args.get("kind") if request.args.get("kind") in kinds else (kinds[0] if kinds else None)
        of_kind = [p for p in found if p.kind == kind]
        chosen = next(
            (p for p in of_kind if str(p.member_id) == request.args.get("to")), of_kind[0] if of_kind else None
        )
        page = {
            "occurrence": {"id": occurrence.id, "start": occurrence.start, "status": occurrence.status},
            "community": {"id": community.id, "name": community.name, "timezone": community.timezone},
            "kinds": [(k, sum(p.kind == k for p in found)) for k in kinds],
            "kind": kind,
            "recipients": [(p.member_id, p.recipient) for p in of_kind],
            "chosen": chosen,
            "conditional": mail_preview.CONDITIONAL,
            "missing": [k for k in mail_preview.KINDS if k not in kinds],
        }
        if chosen is not None:
            ics = chosen.ics
            page.update(
                subject=chosen.subject,
                sender=str(chosen.message["From"]),
                text=chosen.part("text/plain"),
                html=chosen.part("text/html"),
                ics=ics.decode("utf-8") if ics else None,
            )
    return render_template("agendas/preview.html", **page)


@bp.post("/agendas/<int:occurrence_id>/parking-lot")
@login_required
def add_parking_lot_item(occurrence_id: int):
    rt = runtime()
    text = request.form.get("text", "")
    with rt.db.begin() as session:
        occurrence, community = _occurrence(session, occurrence_id)
        if agenda_store.park(session, community.id, occurrence.id, text, actor=signed_in_user().email, now=rt.now()):
            flash("Added to the parking lot.")
    return redirect(url_for("agendas.edit", occurrence_id=occurrence_id) + "#parking-lot")


@bp.post("/agendas/<int:occurrence_id>/parking-lot/<int:item_id>/close")
@login_required
def close_parking_lot_item(occurrence_id: int, item_id: int):
    rt = runtime()
    with rt.db.begin() as session:
        _occurrence(session, occurrence_id)
        item = session.get(ParkingLotItem, item_id)
        if item is None:
            abort(404)
        require_community(session, item.community_id)
        if agenda_store.unpark(session, item, actor=signed_in_user().email, now=rt.now()):
            flash("Parking-lot item closed.")
    return redirect(url_for("agendas.edit", occurrence_id=occurrence_id) + "#parking-lot")
