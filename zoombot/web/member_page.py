"""The member's personal "my hours" page, with no password: `/me/<token>`, a signed link that names the
member and expires (`zoombot.core.member_tokens`), printed by `zoombot members link EMAIL` and carried by every
follow-up and certificate mail. Everything under it is that member's own: sessions and hours, yearly
progress, certificate and transcript PDFs, mail preferences, claims for uncounted time.

`/me` asks for a fresh link by e-mail address: the answer is the same whether or not the address is
known (the mail goes through the outbox, so not even the time taken differs), and requests are
throttled per address typed and per client address (`zoombot.web.staff.auth.over_limit`, keyed hashes).
Forms carry a CSRF token like every other page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from zoombot.core import verification_codes
from zoombot.core.certificates import Certificate, credit_of, transcript
from zoombot.core.claims import ClaimError
from zoombot.core.licensing_year import LicensingYear
from zoombot.core.member_tokens import PageLink, page_link_expires, page_link_works, read_page_token
from zoombot.mail import member as member_mail
from zoombot.mail.context import public_url
from zoombot.runtime import Runtime, signing_secret
from zoombot.store import certificates as certificate_store
from zoombot.store import claims as claim_store
from zoombot.store import credit_lines, member_view
from zoombot.store.audit import audit
from zoombot.store.models import CreditLine, CreditSession, LoginAttempt, Member, Membership
from zoombot.web.certificate_pdf import certificate_pdf, transcript_pdf
from zoombot.web.staff.auth import client_address, forget_old_attempts, over_limit, throttle_key
from zoombot.web.staff.csrf import protect

bp = Blueprint("member_page", __name__)
protect(bp)

#: Link requests allowed in 15 minutes for one typed address, and from one client address.
REQUESTS_PER_EMAIL = 3
REQUESTS_PER_CLIENT = 10
SENT = (
    "If that address belongs to a member, a link to their page is on its way to it. It can take a few "
    "minutes; look in your spam folder too."
)
THROTTLED = "Too many requests. Wait 15 minutes and try again."


def _runtime() -> Runtime:
    return current_app.extensions["zoombot"]


def _secret() -> str:
    return signing_secret(_runtime())


@dataclass(frozen=True)
class Visitor:
    link: PageLink
    token: str
    expires: datetime


def member_link(view: Callable[..., Any]) -> Callable[..., Any]:
    """For `/me/<token>/...` views: call `view(visitor, ...)` for the member a genuine, unexpired link
    names. A link that is not genuine (forged, or cut short by a mail program) names nobody (404) and an
    expired one says so (410); both offer a fresh link by e-mail, as `/me` does for anyone."""

    @functools.wraps(view)
    def wrapped(token: str, **kwargs: Any):
        rt = _runtime()
        link = read_page_token(_secret(), token)
        if link is None:
            return render_template("public/member_bad_link.html"), 404
        days = rt.settings.web.member_link_days
        if not page_link_works(link, rt.now(), days):
            return render_template("public/member_expired.html"), 410
        return view(Visitor(link=link, token=token, expires=page_link_expires(link.issued_at, days)), **kwargs)

    return wrapped


@bp.get("/me")
def request_form():
    return render_template("public/member_request.html", email="")


@bp.post("/me")
def request_link():
    rt = _runtime()
    email = " ".join(request.form.get("email", "").split()).lower()
    if "@" not in email or len(email) > 320:
        return render_template(
            "public/member_request.html",
            email=email,
            error="Type the e-mail address you use for your Community of Practice.",
        ), 400
    now = rt.now()
    keys = {
        "email": throttle_key("member-link-email", email),
        "client": throttle_key("member-link-client", client_address()),
    }
    with rt.db.begin() as s:
        forget_old_attempts(s, now)
        if over_limit(s, keys, now, {"email": REQUESTS_PER_EMAIL, "client": REQUESTS_PER_CLIENT}):
            return render_template("public/member_request.html", email=email, error=THROTTLED), 429
        s.add_all([LoginAttempt(key_hash=key, at=now) for key in keys.values()])
        member_mail.request_link(s, email, now)
    flash(SENT, "ok")
    return redirect(url_for("member_page.request_form"))


@bp.get("/me/<token>")
@member_link
def page(visitor: Visitor):
    rt = _runtime()
    with rt.db.begin() as s:
        found = member_view.member_page(s, rt.settings, visitor.link.member_id, rt.now(), _secret())
        if found is None:
            abort(404)
        return render_template(
            "public/member_page.html",
            page=found,
            token=visitor.token,
            expires=visitor.expires,
            tz=rt.settings.schedule.timezone,
        )


def _member(s, visitor: Visitor) -> Member:
    member = s.get(Member, visitor.link.member_id)
    if member is None:
        abort(404)
    return member


@bp.get("/me/<token>/certificates/<int:line_id>.pdf")
@member_link
def certificate(visitor: Visitor, line_id: int):
    rt = _runtime()
    with rt.db.begin() as s:
        member = _member(s, visitor)
        line = s.get(CreditLine, line_id)
        if (
            line is None
            or line.member_id != member.id
            or line.status != "approved"
            or line.id in credit_lines.superseded(s, [line.session_id])
        ):
            abort(404)  # someone else's line (or one a correction replaced) looks exactly like no line at all
        record = certificate_store.issue(s, line, member, rt.now())
        code = verification_codes.display(record.code)
        paper = Certificate(
            issuer=rt.settings.registry.issuer_name,
            member_name=member.name,
            registry_id=member.registry_id,
            session=certificate_store.session_facts(s, line.session, rt.settings),
            attended_seconds=line.attended_seconds,
            credit=credit_of(line),
            code=code,
            verify_url=public_url(rt.settings, f"/verify/{code}"),
            issued_on=record.issued_at.date(),
        )
        day = line.session.local_date
    return _pdf(certificate_pdf(paper), f"certificate-{day:%Y-%m-%d}-{code}.pdf")


@bp.get("/me/<token>/transcripts/<int:start_year>.pdf")
@member_link
def transcript_download(visitor: Visitor, start_year: int):
    rt = _runtime()
    if not 1900 <= start_year <= 9998:
        abort(404)
    year = LicensingYear(start_year, rt.settings.hours.licensing_year_start_month)
    now = rt.now()
    with rt.db.begin() as s:
        member = _member(s, visitor)
        found = s.execute(
            select(CreditLine, CreditSession)
            .join(CreditSession)
            .where(
                CreditLine.member_id == member.id,
                CreditSession.local_date >= year.first_day,
                CreditSession.local_date <= year.last_day,
            )
            .order_by(CreditSession.local_date, CreditLine.id)
        ).all()
        replaced = credit_lines.superseded(s, [held.id for _, held in found])
        kept = [(line, held) for line, held in found if line.id not in replaced]
        codes = certificate_store.issue_all(s, [line for line, _ in kept], member, now)
        lines = [
            (certificate_store.session_facts(s, held, rt.settings), line.status, credit_of(line), codes.get(line.id))
            for line, held in kept
        ]
        paper = transcript(
            issuer=rt.settings.registry.issuer_name,
            member_name=member.name,
            registry_id=member.registry_id,
            year=year,
            lines=lines,
            requirement=rt.settings.hours.yearly_requirement_hours,
            verify_url=public_url(rt.settings, "/verify"),
            issued_on=now.date(),
        )
    return _pdf(transcript_pdf(paper), f"transcript-{year.label}.pdf")


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/me/<token>/preferences")
@member_link
def preferences(visitor: Visitor):
    rt = _runtime()
    now = rt.now()
    changed = 0
    with rt.db.begin() as s:
        member = _member(s, visitor)
        for membership in s.scalars(select(Membership).where(Membership.member_id == member.id)):
            wanted = {"unsubscribed_at": f"member_mail_{membership.community_id}" in request.form}
            if f"facilitator_mail_shown_{membership.community_id}" in request.form:
                wanted["facilitator_mail_unsubscribed_at"] = (
                    f"facilitator_mail_{membership.community_id}" in request.form
                )
            if f"member_mail_shown_{membership.community_id}" not in request.form:
                continue  # not on the page the member saw
            for column, receive in wanted.items():
                if (getattr(membership, column) is None) == receive:
                    continue
                setattr(membership, column, None if receive else now)
                changed += 1
                which = "member mail" if column == "unsubscribed_at" else "facilitator mail"
                audit(
                    s,
                    actor=claim_store.MEMBER_ACTOR,
                    entity="membership",
                    entity_id=membership.id,
                    action="resubscribed" if receive else "unsubscribed",
                    from_value="unsubscribed" if receive else "subscribed",
                    to_value="subscribed" if receive else "unsubscribed",
                    reason=which,
                    at=now,
                )
    flash(
        "Your mail preferences are saved." if changed else "Nothing to change: your preferences are as they were.", "ok"
    )
    return redirect(url_for("member_page.page", token=visitor.token) + "#mail")


@bp.post("/me/<token>/claims/<int:session_id>")
@member_link
def claim(visitor: Visitor, session_id: int):
    rt = _runtime()
    withdrawing = request.form.get("action") == "withdraw"
    try:
        with rt.db.begin() as s:
            member = _member(s, visitor)
            if withdrawing:
                claim_store.withdraw(s, member_id=member.id, session_id=session_id, now=rt.now())
            else:
                claim_store.submit(
                    s,
                    member_id=member.id,
                    session_id=session_id,
                    ref=(request.form.get("participant") or "").strip() or None,
                    description=request.form.get("description"),
                    secret=_secret(),
                    now=rt.now(),
                )
    except ClaimError as exc:
        flash(str(exc), "error")
    else:
        flash(
            "Your claim is withdrawn."
            if withdrawing
            else "Thank you: staff will look at it. Their answer will show here.",
            "ok",
        )
    return redirect(url_for("member_page.page", token=visitor.token) + f"#session-{session_id}")
