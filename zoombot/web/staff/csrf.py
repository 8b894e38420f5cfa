"""CSRF protection for server-rendered forms: one random token per browser session.

Every state-changing request (POST, PUT, PATCH, DELETE) of a protected blueprint must carry the
session's token in the form field `csrf_token` (or the `X-CSRF-Token` header); otherwise it is refused
with 400 before the view runs, so nothing changes. The staff blueprint is protected; any other
blueprint opts in with `protect(bp)`. Templates write `{{ csrf_field() }}` inside each form.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, Flask, render_template, request, session
from markupsafe import Markup

SESSION_KEY = "_csrf_token"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token() -> str:
    """This session's token, created on first use (the session cookie carries it, signed)."""
    token = session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, csrf_token())


def token_is_valid(sent: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    return bool(expected and sent and hmac.compare_digest(str(sent), str(expected)))


def _check():
    if request.method not in UNSAFE_METHODS:
        return None
    if token_is_valid(request.form.get(FIELD) or request.headers.get(HEADER)):
        return None
    return render_template("staff/csrf_error.html"), 400


def protect(bp: Blueprint) -> None:
    """Refuse every state-changing request of `bp` that lacks this session's token."""
    bp.before_request(_check)


def init_app(app: Flask) -> None:
    """Make `csrf_field()` and `csrf_token()` available in every template."""
    app.add_template_global(csrf_field)
    app.add_template_global(csrf_token)
