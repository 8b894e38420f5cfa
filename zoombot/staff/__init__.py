"""The staff and facilitator web UI: server-rendered pages behind sign-in, every form CSRF-protected.

Other blueprints reuse the pieces: `zoombot.staff.auth.login_required`, `current_user`,
`visible_community_ids`, `require_community`; `zoombot.staff.csrf.protect(bp)`; the base template
`staff/base.html` (blocks `title` and `content`); `add_nav_link(label, endpoint)` for the top bar.
"""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for

bp = Blueprint("staff", __name__, url_prefix="/staff")

NAV: list[tuple[str, str]] = [
    ("Review", "staff.dashboard"),
    ("Communities", "staff.communities"),
    ("Members", "staff.members"),
    ("Export", "staff.export"),
    ("Audit trail", "staff.audit"),
]


def add_nav_link(label: str, endpoint: str) -> None:
    """Show another blueprint's page in the top bar (call once, at import time)."""
    if (label, endpoint) not in NAV:
        NAV.append((label, endpoint))


def init_app(app: Flask) -> None:
    """Register the staff UI on `app`: blueprint, CSRF template helpers, and `/` -> `/staff/`."""
    from zoombot.staff import auth, csrf, formatting

    csrf.init_app(app)
    formatting.init_app(app)
    app.add_template_global(auth.current_user, "current_staff_user")
    app.add_template_global(lambda: NAV, "staff_nav")
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", lambda: redirect(url_for("staff.dashboard")))


from zoombot.staff import csrf as _csrf  # noqa: E402

_csrf.protect(bp)


@bp.errorhandler(404)
def not_found(_error):
    return render_template("staff/not_found.html"), 404


from zoombot.staff import (auth, views_claims, views_directory, views_export, views_members,  # noqa: E402,F401
                           views_sessions)
