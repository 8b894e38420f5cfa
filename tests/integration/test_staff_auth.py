"""Sign-in, sign-out, the login rate limit, CSRF, and what a facilitator may see."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from staff_support import (PASSWORD, add_community, add_staff, csrf_of, login, meeting_events, meeting_id,
                           member_id, play, session_id)
from zoombot.models import AuditEntry, CreditLine, LoginAttempt
from zoombot.staff.auth import GLOBAL_FACTOR, account_key

PAGES = ["/staff/", "/staff/members", "/staff/communities", "/staff/export", "/staff/audit",
         "/staff/meetings/1", "/staff/sessions/1", "/staff/members/1", "/staff/communities/1",
         "/staff/export/download"]


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
    response = client.post("/staff/login", data={"email": "Staff@Example.org", "password": PASSWORD,
                                                  "csrf_token": token, "next": "/staff/members"})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/members"
    page = client.get("/staff/members").get_data(as_text=True)
    assert "staff@example.org" in page
    assert client.get("/staff/logout").status_code == 405
    client.post("/staff/logout", data={"csrf_token": csrf_of(client)})
    assert client.get("/staff/members").status_code == 302


def test_next_never_leaves_the_site(client, runtime):
    add_staff(runtime, "staff@example.org")
    token = csrf_of(client)
    response = client.post("/staff/login", data={"email": "staff@example.org", "password": PASSWORD,
                                                  "csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["Location"] == "/staff/"


def test_wrong_password_and_unknown_account_get_the_same_answer(client, runtime):
    add_staff(runtime, "staff@example.org")
    wrong = login(client, "staff@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Wrong email or password." in response.get_data(as_text=True)
    with runtime.db.begin() as s:
        keys = set(s.scalars(select(LoginAttempt.key_hash)))
    assert keys == {account_key("staff@example.org"), account_key("nobody@example.org")}
    assert all("@" not in key for key in keys)


def test_failed_logins_lock_the_account_for_15_minutes(client, runtime, clock, make_settings):
    add_staff(runtime, "staff@example.org")
    limit = runtime.settings.web.login_attempts_per_15_minutes
    for _ in range(limit):
        assert login(client, "STAFF@example.org", "wrong password").status_code == 401
    locked = login(client, "staff@example.org")  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts for this account" in locked.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    clock.set(clock() + timedelta(minutes=15, seconds=1))
    assert login(client, "staff@example.org").status_code == 302
    with runtime.db.begin() as s:  # success forgets the failures of that account
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_a_global_cap_limits_guessing_across_many_accounts(client, runtime, clock):
    add_staff(runtime, "staff@example.org")
    limit = runtime.settings.web.login_attempts_per_15_minutes
    with runtime.db.begin() as s:
        for i in range(limit * GLOBAL_FACTOR):
            s.add(LoginAttempt(key_hash=account_key(f"guess{i}@example.org"), at=clock()))
    response = login(client, "staff@example.org")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts on this site" in response.get_data(as_text=True)


def test_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(client, runtime, post_event):
    add_community(runtime, "Infant-Toddler CoP", "81234567890", members=[("Alice Ames", "alice@example.org")])
    play(post_event, meeting_events())
    add_staff(runtime, "staff@example.org")
    assert login(client, "staff@example.org").status_code == 302
    sid = session_id(runtime)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/staff/sessions/{sid}/approve-all", data=data)
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
    ok = client.post(f"/staff/sessions/{sid}/approve-all", data={"csrf_token": csrf_of(client)})
    assert ok.status_code == 302 and ok.headers["Location"].startswith(f"/staff/sessions/{sid}")
    with runtime.db.begin() as s:
        assert sorted(s.scalars(select(CreditLine.status))) == ["approved", "approved", "approved", "no_credit"]


def test_a_facilitator_sees_only_their_own_communities(client, runtime, post_event):
    mine = add_community(runtime, "Infant-Toddler CoP", "81234567890",
                         members=[("Alice Ames", "alice@example.org")],
                         facilitators=[("Fran Facil", "fran@example.org")])
    other = add_community(runtime, "Preschool CoP", "89999999999", members=[("Olga Other", "olga@example.org")],
                          facilitators=[("Pat Pre", "pat@example.org")])
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
    for path in (f"/staff/communities/{other}", f"/staff/meetings/{other_meeting}",
                 f"/staff/sessions/{other_session}",
                 f"/staff/members/{member_id(runtime, 'olga@example.org')}",
                 f"/staff/audit?session={other_session}"):
        assert client.get(path).status_code == 404, path
    lists = "".join(client.get(p).get_data(as_text=True)
                    for p in ("/staff/", "/staff/communities", "/staff/members", "/staff/audit"))
    assert "Infant-Toddler CoP" in lists and "Alice Ames" in lists
    assert "Preschool CoP" not in lists and "Olga Other" not in lists
    assert f"/staff/meetings/{other_meeting}" not in lists and f"/staff/sessions/{other_session}" not in lists
    export = client.get("/staff/export/download?format=json").get_json()
    assert {row["community"] for row in export} == {"Infant-Toddler CoP"}

    token = csrf_of(client)
    with runtime.db.begin() as s:
        other_line = s.scalar(select(CreditLine.id).where(CreditLine.session_id == other_session))
    for path in (f"/staff/lines/{other_line}/approve", f"/staff/records/{other_line}/approve",
                 f"/staff/sessions/{other_session}/approve-all"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    with runtime.db.begin() as s:
        assert sorted(s.scalars(select(CreditLine.status).where(CreditLine.session_id == other_session))) == [
            "no_credit", "pending", "pending", "pending"]


def test_network_staff_see_every_community(client, runtime, post_event):
    add_community(runtime, "Infant-Toddler CoP", "81234567890")
    add_community(runtime, "Preschool CoP", "89999999999")
    add_staff(runtime, "staff@example.org")
    login(client, "staff@example.org")
    page = client.get("/staff/communities").get_data(as_text=True)
    assert "Infant-Toddler CoP" in page and "Preschool CoP" in page
