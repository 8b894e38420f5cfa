"""The agenda editor, a meeting's closure and mail preview, and the outbox page of the staff UI
(`/staff/agendas/...`, `/staff/outbox`).

Facilitators edit the agendas of their own communities, network staff those of every community: per
meeting the roles (who facilitates, takes notes, keeps time), the objectives, topics, resources (links),
next steps, the expectations and confidentiality rules, and the community's parking lot (items carry
forward until someone closes them). Text is stored as typed and rendered autoescaped everywhere; links
are kept only when they are http(s) (`zoombot.agenda.parse_resources`). After the meeting the same people
record its closure (`zoombot.closure_views`). The preview shows each message of a meeting as it would be
sent, with personal links that open nothing. The outbox page lists messages waiting or given up, with a retry.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from zoombot import agenda, agenda_store, mail_preview, outbox, roles
from zoombot.closure_views import closure_page
from zoombot.models import Agenda as AgendaRow, Community, Member, Membership, Occurrence, OutboxMessage, ParkingLotItem
from zoombot.audit import audit
from zoombot.staff import add_nav_link
from zoombot.staff.auth import current_user, login_required, require_community, runtime, visible_community_ids
from zoombot.staff.csrf import protect

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
        visible = visible_community_ids(session, current_user())
        query = (select(Occurrence, Community).join(Community, Community.id == Occurrence.community_id)
                 .where(Occurrence.start > now - PAST, Occurrence.start < now + AHEAD)
                 .order_by(Occurrence.start, Community.name))
        if visible is not None:
            query = query.where(Occurrence.community_id.in_(visible))
        rows = session.execute(query).all()
        statuses = dict(session.execute(select(AgendaRow.occurrence_id, AgendaRow.status).where(
            AgendaRow.occurrence_id.in_([occ.id for occ, _ in rows]))).all()) if rows else {}
        items = [{"id": occ.id, "community": c.name, "timezone": c.timezone, "start": occ.start,
                  "cancelled": occ.status == "cancelled", "past": occ.start <= now,
                  "agenda": statuses.get(occ.id)} for occ, c in rows]
    return render_template("agendas/index.html", items=items)


def _form_agenda(form, previous: agenda.Agenda, people: dict[int, str],
                 meeting_roles: tuple[str, ...]) -> agenda.Agenda:
    """The agenda as the form says. A role's select holds a member id of this community (anything else
    leaves the role to nobody); a form without role selects (an older page) keeps the roles as they were."""
    if any(f"role:{role}" in form for role in meeting_roles):
        chosen = []
        for role in meeting_roles:
            value = form.get(f"role:{role}", "")
            if value.isdigit() and int(value) in people:
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
        roles=assigned)


def _people(session, community_id: int) -> dict[int, str]:
    """Member id -> name of the community's members, by name."""
    return dict(session.execute(select(Member.id, Member.name).join(Membership, Membership.member_id == Member.id)
                                .where(Membership.community_id == community_id)
                                .order_by(func.lower(Member.name), Member.id)).all())


def resource_lines(resources) -> str:
    return "\n".join(f"{r.title} | {r.url}" if r.url and r.url != r.title else (r.url or r.title) for r in resources)


@bp.route("/agendas/<int:occurrence_id>", methods=["GET", "POST"])
@login_required
def edit(occurrence_id: int):
    rt = runtime()
    now = rt.now()
    user = current_user()
    with rt.db.begin() as session:
        occurrence, community = _occurrence(session, occurrence_id)
        row = agenda_store.ensure_draft(session, occurrence, now)
        shown = agenda_store.current(session, occurrence, now)
        people = _people(session, community.id)
        meeting_roles = roles.meeting_roles(rt.settings.community.role_names)
        if request.method == "POST":
            updated = _form_agenda(request.form, shown, people, meeting_roles)
            status = "ready" if request.form.get("status") == "ready" else "draft"
            before = row.status
            row.content, row.status, row.updated_at, row.updated_by = agenda.to_dict(updated), status, now, user.email
            audit(session, actor=user.email, entity="agenda", entity_id=row.id, action="edited",
                  from_value=before, to_value=status, at=now)
            flash("Agenda saved." + (" It is marked ready." if status == "ready" else ""))
            return redirect(url_for("agendas.edit", occurrence_id=occurrence_id))
        lot = agenda_store.open_parking_lot(session, community.id)
        page = {
            "occurrence": {"id": occurrence.id, "start": occurrence.start, "status": occurrence.status},
            "community": {"id": community.id, "name": community.name, "timezone": community.timezone},
            "status": row.status, "updated_at": row.updated_at, "updated_by": row.updated_by,
            "agenda": shown, "missing": agenda.missing_sections(shown),
            "resources_text": resource_lines(shown.resources),
            "parking_lot": [{"id": item.id, "text": item.text, "created_at": item.created_at} for item in lot],
            "people": people, "meeting_roles": meeting_roles, "label": roles.label,
            "holders": {a.role: a.member_id for a in shown.roles},
        }
    return render_template("agendas/edit.html", **page)


@bp.route("/agendas/<int:occurrence_id>/closure", methods=["GET", "POST"])
@login_required
def closure(occurrence_id: int):
    rt = runtime()
    with rt.db.begin() as session:
        occurrence, community = _occurrence(session, occurrence_id)
        return closure_page(session, occurrence, community, actor=current_user().email, layout="staff/base.html",
                            action=url_for("agendas.closure", occurrence_id=occurrence_id), now=rt.now())


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
        chosen = next((p for p in of_kind if str(p.member_id) == request.args.get("to")),
                      of_kind[0] if of_kind else None)
        page = {"occurrence": {"id": occurrence.id, "start": occurrence.start, "status": occurrence.status},
                "community": {"id": community.id, "name": community.name, "timezone": community.timezone},
                "kinds": [(k, sum(p.kind == k for p in found)) for k in kinds], "kind": kind,
                "recipients": [(p.member_id, p.recipient) for p in of_kind], "chosen": chosen,
                "conditional": mail_preview.CONDITIONAL, "missing": [k for k in mail_preview.KINDS if k not in kinds]}
        if chosen is not None:
            ics = chosen.ics
            page.update(subject=chosen.subject, sender=str(chosen.message["From"]), text=chosen.part("text/plain"),
                        html=chosen.part("text/html"), ics=ics.decode("utf-8") if ics else None)
    return render_template("agendas/preview.html", **page)


@bp.post("/agendas/<int:occurrence_id>/parking-lot")
@login_required
def add_parking_lot_item(occurrence_id: int):
    rt = runtime()
    text = " ".join(request.form.get("text", "").split())[:1000]
    with rt.db.begin() as session:
        occurrence, community = _occurrence(session, occurrence_id)
        if text:
            item = ParkingLotItem(community_id=community.id, text=text, raised_occurrence_id=occurrence.id,
                                  created_at=rt.now())
            session.add(item)
            session.flush()
            audit(session, actor=current_user().email, entity="parking_lot_item", entity_id=item.id,
                  action="added", at=rt.now())
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
        if item.closed_at is None:
            item.closed_at = rt.now()
            audit(session, actor=current_user().email, entity="parking_lot_item", entity_id=item.id,
                  action="closed", at=rt.now())
            flash("Parking-lot item closed.")
    return redirect(url_for("agendas.edit", occurrence_id=occurrence_id) + "#parking-lot")


@bp.get("/outbox")
@login_required
def outbox_page():
    rt = runtime()
    show = request.args.get("status", "problems")
    statuses = {"problems": ("failed",), "pending": ("pending", "sending"), "sent": ("sent",),
                "skipped": ("skipped",)}.get(show, ("failed",))
    with rt.db.begin() as session:
        visible = visible_community_ids(session, current_user())
        # a member's own mail (a link they asked for) is about no meeting: staff see it, facilitators do not
        query = (select(OutboxMessage, Occurrence, Community)
                 .outerjoin(Occurrence, Occurrence.id == OutboxMessage.occurrence_id)
                 .outerjoin(Community, Community.id == Occurrence.community_id)
                 .where(OutboxMessage.status.in_(statuses))
                 .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc()).limit(500))
        if visible is not None:
            query = query.where(Occurrence.community_id.in_(visible))
        rows = [{"id": m.id, "kind": m.kind, "recipient": m.recipient, "status": m.status, "due_at": m.due_at,
                 "expires_at": m.expires_at, "attempts": m.attempts, "next_attempt_at": m.next_attempt_at,
                 "sent_at": m.sent_at, "last_error": m.last_error, "community": c.name if c else None,
                 "timezone": c.timezone if c else rt.settings.schedule.timezone,
                 "meeting": occ.start if occ else None, "retryable": m.status in ("failed", "pending") and m.expires_at > rt.now()}
                for m, occ, c in session.execute(query)]
    return render_template("agendas/outbox.html", rows=rows, show=show)


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def retry_message(message_id: int):
    rt = runtime()
    with rt.db.begin() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            abort(404)
        occurrence = session.get(Occurrence, message.occurrence_id) if message.occurrence_id else None
        require_community(session, occurrence.community_id if occurrence else None)
        if outbox.retry(session, message_id, rt.now()):
            audit(session, actor=current_user().email, entity="outbox", entity_id=message_id, action="retry",
                  at=rt.now())
            flash("The message will be sent on the next run of the sender.")
        else:
            flash("This message can no longer be sent (already sent, or its meeting has started).", "error")
    return redirect(url_for("agendas.outbox_page", status=request.form.get("show", "problems")))
