"""Staff sign-in and sign-out, the `login_required` guard and who may see which community.

Roles: `staff` (network staff) see every community; `facilitator` sees only the communities where a
member with the same e-mail address facilitates (a `facilitator` or `co-facilitator` membership: a
co-facilitator runs the meeting too, so needs the same pages). Pages of a community someone
may not see answer 404, so they cannot even learn that it exists.

Failed sign-ins are throttled per account and per client address (`request.remote_addr`, which is the
X-Forwarded-For of `[web] proxy_fix` trusted proxies, never a header a client can set on its own). There
is deliberately no site-wide cap: anyone could fill it with guesses at random e-mails and lock every staff
member out. Each failure is stored twice in `login_attempts`, once under a keyed hash of the lower-cased
e-mail and once under a keyed hash of the address (HMAC with an installation secret: neither the address
nor the e-mail can be read back or guessed from the table), and forgotten after 15 minutes.

A session cookie holds the user id and the user's `session_generation`; sign-out and a password change
raise the generation, so every session of that user ends, a copied cookie included. Nothing personal is
logged.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import overload
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import delete, func, select, true
from sqlalchemy.orm import Session

from zoombot.core import permissions
from zoombot.core.passwords import check_password, hash_password
from zoombot.core.roles import FACILITATING
from zoombot.runtime import Runtime
from zoombot.store.models import Community, LoginAttempt, Member, Membership, StaffUser
from zoombot.web.staff import bp

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
SESSION_USER = "staff_user_id"
SESSION_GENERATION = "staff_session_generation"
THROTTLE_SECRET = "login_throttle_key"
WRONG = "Wrong email or password."
LOCKED = "Too many failed sign-in attempts for this account. Wait 15 minutes and try again."
ADDRESS_LOCKED = "Too many failed sign-in attempts from your network. Wait 15 minutes and try again."


@dataclass(frozen=True)
class StaffIdentity:
    """The signed-in person, detached from any database session."""

    id: int
    email: str
    role: str
    session_generation: int = 0

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"


def runtime() -> Runtime:
    return current_app.extensions["zoombot"]


def current_user() -> StaffIdentity | None:
    """The signed-in user of this request (looked up once per request), or None. A cookie whose
    generation is not the user's current one (signed out, password changed since) signs nobody in."""
    if "staff_user" not in g:
        user = None
        user_id, generation = session.get(SESSION_USER), session.get(SESSION_GENERATION)
        if user_id is not None:
            with runtime().db.begin() as s:
                row = s.get(StaffUser, user_id)
                if row is not None and generation is not None and row.session_generation == generation:
                    user = StaffIdentity(id=row.id, email=row.email, role=row.role, session_generation=generation)
        g.staff_user = user
    return g.staff_user


def signed_in_user() -> StaffIdentity:
    """The signed-in user, for views behind `login_required` or `require` (and the helpers they call): those
    guards sent everyone else to the sign-in page before the view ran, so None here is a missing guard."""
    user = current_user()
    if user is None:
        raise RuntimeError("no staff user is signed in: this belongs behind login_required or require")
    return user


def login_required(view: Callable) -> Callable:
    """Anonymous visitors go to the sign-in page, which brings them back to `next` afterwards."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def may(action: str) -> bool:
    """Whether the signed-in user may take `action` (templates show only links and buttons they can use)."""
    user = current_user()
    return user is not None and permissions.may(user.role, action)


def refused(message: str):
    """The styled page of a refused action (403), saying why."""
    return render_template("staff/forbidden.html", message=message), 403


def require(action: str) -> Callable[[Callable], Callable]:
    """The one guard of every staff action and role-bound page: sign-in first, then the role's permission
    (`zoombot.core.permissions`). A refusal changes nothing and gets the styled 403 page, whether or not the
    page offered the button."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            try:
                permissions.check(user.role, action)
            except permissions.NotAllowed as exc:
                log.info("staff user %s refused: %s", user.id, action)
                return refused(str(exc).capitalize() + ".")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def visible_community_ids(session_: Session, user: StaffIdentity) -> set[int] | None:
    """None means every community (role staff); else the ids of the facilitator's own communities."""
    if user.is_staff:
        return None
    rows = session_.scalars(
        select(Membership.community_id)
        .join(Member, Member.id == Membership.member_id)
        .where(Member.email == user.email.lower(), Membership.role.in_(FACILITATING))
    )
    return set(rows)


def community_filter(column, visible: set[int] | None):
    """A WHERE clause keeping rows of visible communities (`column` holds a community id)."""
    return true() if visible is None else column.in_(visible)


def can_see(session_: Session, community_id: int | None) -> bool:
    visible = visible_community_ids(session_, signed_in_user())
    return visible is None or (community_id is not None and community_id in visible)


@overload
def require_community(session_: Session, community_id: int) -> Community: ...
@overload
def require_community(session_: Session, community_id: int | None) -> Community | None: ...


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


def throttle_key(kind: str, value: str) -> str:
    """The stored key of a failure: HMAC-SHA256 under an installation secret of "kind:value", so the
    table holds neither e-mails nor client addresses (an IPv4 address's plain hash is guessed in minutes)."""
    secret = runtime().instance_secret(THROTTLE_SECRET).encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def account_key(email: str) -> str:
    return throttle_key("account", email.strip().lower())


def address_key(address: str) -> str:
    return throttle_key("address", address)


def client_address() -> str:
    """The client's address: the socket's peer, or what the `[web] proxy_fix` trusted proxies reported."""
    return request.remote_addr or "unknown"


def over_limit(session_: Session, keys: dict[str, str], now: datetime, limits: dict[str, int]) -> str | None:
    """The first kind (in `keys`' order) whose key has `limits[kind]` entries in the last 15 minutes, or
    None. Shared by the sign-in throttle and the members' link requests (`zoombot.web.member_page`)."""
    since = now - WINDOW
    counts = dict(
        session_.execute(
            select(LoginAttempt.key_hash, func.count())
            .where(LoginAttempt.key_hash.in_(list(keys.values())), LoginAttempt.at > since)
            .group_by(LoginAttempt.key_hash)
        ).all()
    )
    return next((kind for kind, key in keys.items() if counts.get(key, 0) >= limits[kind]), None)


def forget_old_attempts(session_: Session, now: datetime) -> None:
    session_.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - WINDOW))


def refusal(session_: Session, keys: dict[str, str], now: datetime, limits: dict[str, int]) -> str | None:
    """Why this sign-in may not even be tried now (before the password is checked, so a throttled guess
    learns nothing), or None. `keys` and `limits` are by kind: account, address."""
    return {"account": LOCKED, "address": ADDRESS_LOCKED}.get(over_limit(session_, keys, now, limits) or "")


@functools.cache
def _decoy_hash() -> str:
    """Checked when the account does not exist, so both answers take as long."""
    return hash_password("decoy password that matches nothing")


def authenticate(email: str, password: str, now: datetime, address: str) -> tuple[StaffIdentity | None, str | None]:
    """(user, None) on success, else (None, message for the person signing in)."""
    rt = runtime()
    keys = {"account": account_key(email), "address": address_key(address)}
    web = rt.settings.web
    limits = {"account": web.login_attempts_per_15_minutes, "address": web.login_attempts_per_address_per_15_minutes}
    with rt.db.begin() as s:
        forget_old_attempts(s, now)
        message = refusal(s, keys, now, limits)
        if message:
            log.warning("sign-in refused: rate limit (%s)", "account" if message == LOCKED else "address")
            return None, message
        user = s.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
        ok = check_password(user.password_hash if user else _decoy_hash(), password)
        if user is None or not ok:
            s.add_all([LoginAttempt(key_hash=key, at=now) for key in keys.values()])
            log.info("sign-in failed")
            return None, WRONG
        # the account's failures are forgiven; the address's are not, or one valid login would reset
        # the throttle of someone guessing at other accounts from the same address
        s.execute(delete(LoginAttempt).where(LoginAttempt.key_hash == keys["account"]))
        user.last_login_at = now
        log.info("staff user %s signed in", user.id)
        return StaffIdentity(
            id=user.id, email=user.email, role=user.role, session_generation=user.session_generation
        ), None


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
    user, message = authenticate(email, request.form.get("password", ""), runtime().now(), client_address())
    if user is None:
        return render_template(
            "staff/login.html", next=request.form.get("next", ""), email=email, error=message
        ), 401 if message == WRONG else 429
    session.clear()  # a fresh session (and CSRF token) on every sign-in
    session[SESSION_USER] = user.id
    session[SESSION_GENERATION] = user.session_generation
    session.permanent = True
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """Ends every session of this user, not only this browser's: a copied cookie must not outlive it."""
    user = current_user()
    if user is not None:
        with runtime().db.begin() as s:
            row = s.get(StaffUser, user.id)
            if row is not None:
                row.end_sessions()
        log.info("staff user %s signed out", user.id)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("staff.login"))
