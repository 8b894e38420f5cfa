"""The staff and facilitator web UI: server-rendered pages behind sign-in, every form CSRF-protected.

Other blueprints reuse the pieces: `zoombot.web.staff.auth.login_required`, `current_user` (`signed_in_user`
behind the guard), `visible_community_ids`, `require_community`; `zoombot.web.staff.csrf.protect(bp)`; the base template
`staff/base.html` (blocks `title` and `content`); `add_nav_link(label, endpoint)` for the top bar.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for

bp = Blueprint("staff", __name__, url_prefix="/staff")

#: The top bar: (label, endpoint, the permission it needs or None). A link someone cannot use is not shown.
NAV: list[tuple[str, str, str | None]] = [
    ("Review", "staff.dashboard", None),
    ("Needs attention", "staff.attention_page", None),
    ("Communities", "staff.communities", None),
    ("Members", "staff.members", None),
    ("Hours grid", "staff.grid", None),
    ("Registry", "staff.registry_page", "registry"),
    ("Export", "staff.export", "export"),
    ("Audit trail", "staff.audit", None),
]


def add_nav_link(label: str, endpoint: str, action: str | None = None) -> None:
    """Show another blueprint's page in the top bar (call once, at import time); `action`: the permission
    (`zoombot.core.permissions`) it needs."""
    if all(endpoint != known for _, known, _ in NAV):
        NAV.append((label, endpoint, action))


def nav_for_user() -> list[tuple[str, str]]:
    from zoombot.web.staff.auth import may

    return [(label, endpoint) for label, endpoint, action in NAV if action is None or may(action)]


def init_app(app: Flask) -> None:
    """Register the staff UI on `app`: blueprint, CSRF template helpers, and `/` -> `/staff/`."""
    from zoombot.web.staff import csrf, formatting

    csrf.init_app(app)
    formatting.init_app(app)
    app.add_template_global(auth.current_user, "current_staff_user")
    app.add_template_global(nav_for_user, "staff_nav")
    app.add_template_global(auth.may, "may")
    app.register_blueprint(bp)
    app.register_error_handler(
        403,
        lambda _error: auth.refused("This page is for network staff: a facilitator login sees its own communities."),
    )
    app.add_url_rule("/", "root", lambda: redirect(url_for("staff.dashboard")))


from zoombot.web.staff import csrf as _csrf  # noqa: E402

_csrf.protect(bp)


@bp.errorhandler(404)
def not_found(_error):
    return render_template("staff/not_found.html"), 404


from zoombot.web.staff import (  # noqa: E402, F401
    auth,
    views_claims,
    views_directory,
    views_export,
    views_members,
    views_queue,
    views_registry,
    views_sessions,
)
