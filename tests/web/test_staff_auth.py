"""Sign-in, sign-out, the login rate limit, CSRF, and what a facilitator may see."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.staff import (
    PASSWORD,
    add_community,
    add_staff,
    csrf_of,
    login,
    meeting_events,
    meeting_id,
    member_id,
    play,
    session_id,
)
from zoombot.app import create_app
from zoombot.store.models import AuditEntry, CreditLine, LoginAttempt, StaffUser
from zoombot.web.staff.auth import account_key, address_key

PAGES = [
    "/staff/",
    "/staff/members",
    "/staff/communities",
    "/staff/export",
    "/staff/audit",
    "/staff/meetings/1",
    "/staff/sessions/1",
    "/staff/members/1",
    "/staff/communities/1",
    "/staff/export/download",
]


def test_root_redirects_to_the_staff_ui(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/")


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")
    assert path.rstrip("/") in response.headers["Location"].replace("%2F", "/")


def test_sign_in_brings_you_back_and_sign_out_is_a_post(client, runtime):
    add_staff(runtime, "staff@example.org")
    token = csrf_of(client)
    response = client.post(
        "/staff/login",
        data={"email": "Staff@Example.org", "password": PASSWORD, "csrf_token": token, "next": "/staff/members"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/staff/members"
    page = client.get("/staff/members").get_data(as_text=True)
    assert "staff@example.org" in page
    assert client.get("/staff/logout").status_code == 405
    client.post("/staff/logout", data={"csrf_token": csrf_of(client)})
    assert client.get("/staff/members").status_code == 302


def test_next_never_leaves_the_site(client, runtime):
    add_staff(runtime, "staff@example.org")
    token = csrf_of(client)
    response = client.post(
        "/staff/login",
        data={"email": "staff@example.org", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/staff/"


def login_from(client, address: str, email: str, password: str = PASSWORD, *, forwarded_for: str | None = None):
    """Sign in through the real form from a client at `address` (the socket's peer), optionally through a
    proxy that says the request came from `forwarded_for`."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(client)},
        environ_overrides={"REMOTE_ADDR": address},
        headers=headers,
    )


def stored_keys(runtime) -> list[str]:
    with runtime.db.begin() as s:
        return sorted(s.scalars(select(LoginAttempt.key_hash)))


def keys_of(app, *, accounts=(), addresses=()) -> list[str]:
    with app.test_request_context():
        return sorted([account_key(a) for a in accounts] + [address_key(a) for a in addresses])


def test_wrong_password_and_unknown_account_get_the_same_answer(app, client, runtime):
    add_staff(runtime, "staff@example.org")
    wrong = login_from(client, "192.0.2.10", "staff@example.org", "not the password")
    unknown = login_from(client, "192.0.2.10", "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Wrong email or password." in response.get_data(as_text=True)
    # each failure is stored under its account and its address, by keyed hashes only
    assert stored_keys(runtime) == keys_of(
        app, accounts=["staff@example.org", "nobody@example.org"], addresses=["192.0.2.10", "192.0.2.10"]
    )
    assert not any("@" in key or "192.0.2" in key for key in stored_keys(runtime))


def test_failed_logins_lock_the_account_for_15_minutes_from_any_address(client, runtime, clock):
    add_staff(runtime, "staff@example.org")
    limit = runtime.settings.web.login_attempts_per_15_minutes
    for i in range(limit):
        assert login_from(client, f"192.0.2.{i + 1}", "STAFF@example.org", "wrong password").status_code == 401
    locked = login_from(client, "198.51.100.1", "staff@example.org")  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts for this account" in locked.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    clock.set(clock() + timedelta(minutes=15, seconds=1))
    assert login_from(client, "198.51.100.1", "staff@example.org").status_code == 302
    with runtime.db.begin() as s:  # success forgets the failures of that account (and the old ones expired)
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_guessing_at_random_accounts_from_many_addresses_never_refuses_the_right_password(app, runtime, clock):
    """The attack that used to lock every staff member out: about 100 failures at random e-mails filled a
    site-wide cap. Six failures go through the real form (each stores an account and an address key);
    120 more are stored as the form stores them, since each real one costs a scrypt check (0.25 s here)."""
    add_staff(runtime, "staff@example.org")
    rng = random.Random(15)
    attacker = app.test_client()
    real = [(f"203.0.113.{n}", f"guess{rng.randrange(10**9)}@example.net") for n in (1, 2, 3) for _ in range(2)]
    for address, email in real:
        assert login_from(attacker, address, email, "hunter2hunter2").status_code == 401
    assert stored_keys(runtime) == keys_of(app, accounts=[e for _, e in real], addresses=[a for a, _ in real])
    bulk = [
        (f"198.18.{n // 250}.{n % 250}", f"x{rng.randrange(10**12)}@example.com") for n in range(40) for _ in range(3)
    ]
    with app.test_request_context(), runtime.db.begin() as s:
        for address, email in bulk:
            s.add_all(
                [
                    LoginAttempt(key_hash=account_key(email), at=clock()),
                    LoginAttempt(key_hash=address_key(address), at=clock()),
                ]
            )
    assert len(stored_keys(runtime)) == 2 * (len(real) + len(bulk)) == 252

    staff = app.test_client()
    assert login_from(staff, "192.0.2.44", "staff@example.org").status_code == 302
    assert staff.get("/staff/").status_code == 200
    # from an address the attacker also used (2 failures, under the per-address limit) too
    assert login_from(app.test_client(), "203.0.113.1", "staff@example.org").status_code == 302


@pytest.fixture
def behind_proxy(make_runtime):
    """The app as deployed behind one reverse proxy (`[web] proxy_fix = 1`) that lets 3 failures through
    per address; the test client's socket peer is the proxy."""
    rt = make_runtime(web={"proxy_fix": 1, "login_attempts_per_address_per_15_minutes": 3})
    return rt, create_app(runtime=rt, test_config={"TESTING": True})


def test_one_address_that_keeps_failing_is_throttled_and_no_one_else(behind_proxy, clock):
    runtime, app = behind_proxy
    add_staff(runtime, "staff@example.org")
    attacker = app.test_client()
    for i in range(3):  # three different accounts, so no account lock is involved
        response = login_from(
            attacker, "127.0.0.1", f"guess{i}@example.net", "wrong password", forwarded_for="203.0.113.7"
        )
        assert response.status_code == 401
    refused = login_from(attacker, "127.0.0.1", "staff@example.org", forwarded_for="203.0.113.7")
    assert refused.status_code == 429  # even the right password: a throttled guess must learn nothing
    assert "Too many failed sign-in attempts from your network" in refused.get_data(as_text=True)
    assert (
        login_from(app.test_client(), "127.0.0.1", "staff@example.org", forwarded_for="198.51.100.20").status_code
        == 302
    )
    clock.set(clock() + timedelta(minutes=15, seconds=1))
    assert login_from(attacker, "127.0.0.1", "staff@example.org", forwarded_for="203.0.113.7").status_code == 302


def test_without_proxy_fix_a_forged_forwarded_for_does_not_dodge_the_address_throttle(make_runtime):
    runtime = make_runtime(web={"login_attempts_per_address_per_15_minutes": 3})
    app = create_app(runtime=runtime, test_config={"TESTING": True})
    add_staff(runtime, "staff@example.org")
    client = app.test_client()
    for i in range(3):
        assert (
            login_from(
                client, "192.0.2.9", f"guess{i}@example.net", "wrong password", forwarded_for=f"198.51.100.{i}"
            ).status_code
            == 401
        )
    assert login_from(client, "192.0.2.9", "staff@example.org", forwarded_for="198.51.100.99").status_code == 429


def copy_of(client, app):
    """A second browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value, domain=cookie.domain)
    return thief


def test_sign_out_ends_every_session_of_that_user_a_copied_cookie_included(app, client, runtime):
    add_staff(runtime, "staff@example.org")
    add_staff(runtime, "other@example.org")
    other = app.test_client()
    assert login(client, "staff@example.org").status_code == 302
    assert login(other, "other@example.org").status_code == 302
    laptop, thief = app.test_client(), copy_of(client, app)
    assert login(laptop, "staff@example.org").status_code == 302
    assert thief.get("/staff/members").status_code == 200

    client.post("/staff/logout", data={"csrf_token": csrf_of(client)})

    for session in (client, thief, laptop):
        response = session.get("/staff/members")
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    assert other.get("/staff/members").status_code == 200  # someone else's sessions go on
    assert login(client, "staff@example.org").status_code == 302  # and signing in again works
    assert client.get("/staff/members").status_code == 200


def test_a_password_reset_ends_every_session_of_that_user(app, client, runtime, zoombot_cli):
    add_staff(runtime, "staff@example.org")
    assert login(client, "staff@example.org").status_code == 302
    thief = copy_of(client, app)
    assert thief.get("/staff/").status_code == 200
    result = zoombot_cli()("staff", "create", "staff@example.org", "--password-stdin", input="a brand new passphrase\n")
    assert result.exit_code == 0, result.output
    assert client.get("/staff/").status_code == 302
    assert thief.get("/staff/").status_code == 302
    assert login(client, "staff@example.org").status_code == 401  # the old password is gone
    assert login(client, "staff@example.org", "a brand new passphrase").status_code == 302


def test_a_cookie_without_a_session_generation_signs_nobody_in(app, client, runtime):
    """What a cookie issued before sessions could be revoked holds: the user id alone."""
    user_id = add_staff(runtime, "staff@example.org")
    with client.session_transaction() as session:
        session["staff_user_id"] = user_id
    assert client.get("/staff/").status_code == 302
    with runtime.db.begin() as s:
        assert s.get(StaffUser, user_id).session_generation == 0


def test_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(client, runtime, post_event):
    add_community(runtime, "Infant-Toddler CoP", "81234567890", members=[("Alice Ames", "alice@example.org")])
    play(post_event, meeting_events())
    add_staff(runtime, "staff@example.org")
    assert login(client, "staff@example.org").status_code == 302
    sid = session_id(runtime)
    with runtime.db.begin() as s:
        alice = s.scalar(select(CreditLine.id).where(CreditLine.participant_key == "email:alice@example.org"))
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/staff/lines/{alice}/approve", data=data)
        assert response.status_code == 400
        assert "Nothing was changed" in response.get_data(as_text=True)
    with runtime.db.begin() as s:  # (the guest's 20 minutes are no credit, which needs no decision)
        assert sorted(s.scalars(select(CreditLine.status))) == ["no_credit", "pending", "pending", "pending"]
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor != "system")) == 0
    # a login form without its token is refused too
    client.post("/staff/logout", data={"csrf_token": csrf_of(client)})
    assert client.post("/staff/login", data={"email": "staff@example.org", "password": PASSWORD}).status_code == 400
    # and the real token works (signed in again: a redirect to the login page would be a 302 too)
    assert login(client, "staff@example.org").status_code == 302
    ok = client.post(f"/staff/lines/{alice}/approve", data={"csrf_token": csrf_of(client)})
    assert ok.status_code == 302 and ok.headers["Location"] == f"/staff/sessions/{sid}#line-{alice}"
    with runtime.db.begin() as s:
        assert sorted(s.scalars(select(CreditLine.status))) == ["approved", "no_credit", "pending", "pending"]


def test_a_facilitator_sees_only_their_own_communities(client, runtime, post_event):
    mine = add_community(
        runtime,
        "Infant-Toddler CoP",
        "81234567890",
        members=[("Alice Ames", "alice@example.org")],
        facilitators=[("Fran Facil", "fran@example.org")],
    )
    other = add_community(
        runtime,
        "Preschool CoP",
        "89999999999",
        members=[("Olga Other", "olga@example.org")],
        facilitators=[("Pat Pre", "pat@example.org")],
    )
    play(post_event, meeting_events())
    play(post_event, meeting_events(uuid="OTHERuuid0000000000000==", zoom_id="89999999999"))
    add_staff(runtime, "fran@example.org", role="facilitator")
    assert login(client, "fran@example.org").status_code == 302
    own_meeting, other_meeting = meeting_id(runtime), meeting_id(runtime, "OTHERuuid0000000000000==")
    own_session, other_session = session_id(runtime), session_id(runtime, "OTHERuuid0000000000000==")

    assert client.get(f"/staff/communities/{mine}").status_code == 200
    assert client.get(f"/staff/sessions/{own_session}").status_code == 200
    own = client.get(f"/staff/meetings/{own_meeting}")  # an instance's old address leads to its session
    assert own.status_code == 302 and own.headers["Location"] == f"/staff/sessions/{own_session}"
    for path in (
        f"/staff/communities/{other}",
        f"/staff/meetings/{other_meeting}",
        f"/staff/sessions/{other_session}",
        f"/staff/members/{member_id(runtime, 'olga@example.org')}",
        f"/staff/audit?session={other_session}",
    ):
        assert client.get(path).status_code == 404, path
    lists = "".join(
        client.get(p).get_data(as_text=True)
        for p in ("/staff/", "/staff/communities", "/staff/members", "/staff/audit")
    )
    assert "Infant-Toddler CoP" in lists and "Alice Ames" in lists
    assert "Preschool CoP" not in lists and "Olga Other" not in lists
    assert f"/staff/meetings/{other_meeting}" not in lists and f"/staff/sessions/{other_session}" not in lists
    # a facilitator never exports (separation of duties): a styled refusal, not a file
    refused = client.get("/staff/export/download?format=json")
    assert refused.status_code == 403 and "Facilitators cannot export hours" in refused.get_data(as_text=True)
    # nor the members grid's file (names, e-mails, registry ids, hours); the grid page itself is theirs
    refused = client.get("/staff/members/grid.csv")
    assert refused.status_code == 403 and "Facilitators cannot export hours" in refused.get_data(as_text=True)
    grid = client.get("/staff/members/grid")
    assert grid.status_code == 200 and "grid.csv" not in grid.get_data(as_text=True)

    token = csrf_of(client)
    with runtime.db.begin() as s:
        other_line = s.scalar(select(CreditLine.id).where(CreditLine.session_id == other_session))
    for path in (
        f"/staff/lines/{other_line}/approve",
        f"/staff/records/{other_line}/approve",
        f"/staff/sessions/{other_session}/approve-clean",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path  # no facilitator decides
    # what a facilitator may do is still limited to their own communities
    assert (
        client.post(
            f"/staff/lines/{other_line}/note", data={"csrf_token": token, "proposal": "confirmed", "note": ""}
        ).status_code
        == 404
    )
    with runtime.db.begin() as s:
        assert sorted(s.scalars(select(CreditLine.status).where(CreditLine.session_id == other_session))) == [
            "no_credit",
            "pending",
            "pending",
            "pending",
        ]


def test_network_staff_see_every_community(client, runtime, post_event):
    add_community(runtime, "Infant-Toddler CoP", "81234567890")
    add_community(runtime, "Preschool CoP", "89999999999")
    add_staff(runtime, "staff@example.org")
    login(client, "staff@example.org")
    page = client.get("/staff/communities").get_data(as_text=True)
    assert "Infant-Toddler CoP" in page and "Preschool CoP" in page
