"""Public verification of a certificate of attendance: `GET /verify/<code>` (and `/verify`, a form to type
one). An employer or a licensing visitor learns the member's initials, the session, the hours and whether
the certificate still holds (`zoombot.core.certificates.standing`), and nothing more: no name, no registry id,
no e-mail, nothing about anyone else. Codes are random (`zoombot.core.verification_codes`), so this page cannot
be walked to find other certificates; typing is forgiving and the address is made canonical.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from zoombot.core import verification_codes
from zoombot.store import certificates as certificate_store

bp = Blueprint("verify_page", __name__)


@bp.get("/verify")
def form():
    typed = request.args.get("code", "")
    code = verification_codes.normalize(typed)
    if code is not None:
        return redirect(url_for("verify_page.certificate", code=verification_codes.display(code)))
    return render_template(
        "public/verify.html",
        found=None,
        typed=typed,
        error="That is not a verification code: it has 12 letters and digits, like 7KQ2-M9XD-4TRA." if typed else None,
    ), 400 if typed else 200


@bp.get("/verify/<code>")
def certificate(code: str):
    stored = verification_codes.normalize(code)
    if stored is not None and code != verification_codes.display(stored):
        return redirect(url_for("verify_page.certificate", code=verification_codes.display(stored)))
    runtime = current_app.extensions["zoombot"]
    found = None
    if stored is not None:
        with runtime.db.begin() as session:
            found = certificate_store.verify(session, stored, runtime.settings)
    if found is None:
        return render_template(
            "public/verify.html",
            found=None,
            typed=code,
            error="No certificate has this code. Check it against the paper: it has 12 letters and digits.",
        ), 404
    return render_template(
        "public/verify.html", found=found, typed="", error=None, issuer=runtime.settings.registry.issuer_name
    )
