"""Staff sign-in, the `login_required` guard and who may see which community.

Roles: `staff` (network staff) see every community; `facilitator` sees only the communities where a
member with the same e-mail address facilitates (a `facilitator` or `co-facilitator` membership: a
co-facilitator runs the meeting too, so needs the same pages). Pages of a community someone
may not see answer 404, so they cannot even learn that it exists.

Failed sign-ins are counted per account (by a SHA-256 of the lower-cased e-mail, never the address)
in `login_attempts`; `[web] login_attempts_per_15_minutes` failures lock that account for the rest
of the window, and a global cap (`GLOBAL_FACTOR` times that) slows down guessing across many accounts.
Nothing personal is logged.
"""
from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import delete, func, select, true
from sqlalchemy.orm import Session

from zoombot.models import Community, LoginAttempt, Member, Membership, StaffUser
from zoombot.passwords import check_password, hash_password
from zoombot.roles import FACILITATING
from zoombot.runtime import Runtime
from zoombot.staff import bp

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
GLOBAL_FACTOR = 20
SESSION_USER = "staff_user_id"
WRONG = "Wrong email or password."
LOCKED = "Too many failed sign-in attempts for this account. Wait 15 minutes and try again."
BUSY = "Too many failed sign-in attempts on this site just now. Wait a few minutes and try again."


@dataclass(frozen=True)
class StaffIdentity:
    """The signed-in person, detached from any database session."""

    id: int
    email: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"


def runtime() -> Runtime:
    return current_app.extensions["zoombot"]


def current_user() -> StaffIdentity | None:
    """The signed-in user of this request (looked up once per request), or None."""
    if "staff_user" not in g:
        user = None
        user_id = session.get(SESSION_USER)
        if user_id is not None:
            with runtime().db.begin() as s:
                row = s.get(StaffUser, user_id)
                if row is not None:
                    user = StaffIdentity(id=row.id, email=row.email, role=row.role)
        g.staff_user = user
    return g.staff_user


def login_required(view: Callable) -> Callable:
    """Anonymous visitors go to the sign-in page, which brings them back to `next` afterwards."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def visible_community_ids(session_: Session, user: StaffIdentity) -> set[int] | None:
    """None means every community (role staff); else the ids of the facilitator's own communities."""
    if user.is_staff:
        return None
    rows = session_.scalars(select(Membership.community_id).join(Member, Member.id == Membership.member_id)
                            .where(Member.email == user.email.lower(), Membership.role.in_(FACILITATING)))
    return set(rows)


def community_filter(column, visible: set[int] | None):
    """A WHERE clause keeping rows of visible communities (`column` holds a community id)."""
    return true() if visible is None else column.in_(visible)


def can_see(session_: Session, community_id: int | None) -> bool:
    visible = visible_community_ids(session_, current_user())
    return visible is None or (community_id is not None and community_id in visible)


def require_community(session_: Session, community_id: int | None) -> Community | None:
    """The community if the signed-in user may see it; 404 otherwise. A meeting of no known community
    (`community_id` None) is visible to network staff only."""
    if not can_see(session_, community_id):
        abort(404)
    if community_id is None:
        return None
    community = session_.get(Community, community_id)
    if community is None:
        abort(404)
    return community


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def refusal(session_: Session, key: str, now: datetime, per_account: int) -> str | None:
    """Why this sign-in may not even be tried now, or None."""
    since = now - WINDOW
    mine = session_.scalar(select(func.count()).select_from(LoginAttempt)
                           .where(LoginAttempt.key_hash == key, LoginAttempt.at > since))
    if mine >= per_account:
        return LOCKED
    everyone = session_.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at > since))
    if everyone >= per_account * GLOBAL_FACTOR:
        return BUSY
    return None


@functools.cache
def _decoy_hash() -> str:
    """Checked when the account does not exist, so both answers take as long."""
    return hash_password("decoy password that matches nothing")


def authenticate(email: str, password: str, now: datetime) -> tuple[StaffIdentity | None, str | None]:
    """(user, None) on success, else (None, message for the person signing in)."""
    rt = runtime()
    key = account_key(email)
    with rt.db.begin() as s:
        s.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - WINDOW))
        message = refusal(s, key, now, rt.settings.web.login_attempts_per_15_minutes)
        if message:
            log.warning("sign-in refused: rate limit")
            return None, message
        user = s.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
        ok = check_password(user.password_hash if user else _decoy_hash(), password)
        if user is None or not ok:
            s.add(LoginAttempt(key_hash=key, at=now))
            log.info("sign-in failed")
            return None, WRONG
        s.execute(delete(LoginAttempt).where(LoginAttempt.key_hash == key))
        user.last_login_at = now
        log.info("staff user %s signed in", user.id)
        return StaffIdentity(id=user.id, email=user.email, role=user.role), None


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL someone slipped into the link."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("staff.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("staff/login.html", next=request.args.get("next", ""), email="")
    email = request.form.get("email", "")
    user, message = authenticate(email, request.form.get("password", ""), runtime().now())
    if user is None:
        return render_template("staff/login.html", next=request.form.get("next", ""), email=email,
                               error=message), 401 if message == WRONG else 429
    session.clear()  # a fresh session (and CSRF token) on every sign-in
    session[SESSION_USER] = user.id
    session.permanent = True
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("staff.login"))
