"""The staff UI in real Chromium (Playwright) against a real werkzeug server on 127.0.0.1: sign in,
review a session whose events arrived as signed webhooks (the host ended it by mistake and started it
again: two Zoom instances, one session), mark a training segment, approve all, adjust one line with a
reason, match one participant, download the CSV export and submit the lines to the registry; every page under zoombot's
Content-Security-Policy with no violation reported in the console. If /usr/bin/chromium is missing these
tests fail."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from datetime import datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.helpers.servers import free_port
from tests.helpers.zoom_events import signed_headers, zoom_event
from zoombot.core.member_tokens import MemberLink, make_token
from zoombot.core.passwords import hash_password
from zoombot.runtime import signing_secret
from zoombot.store.models import Community, CreditLine, Member, Membership, StaffUser

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long staff password"


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: the browser tests need a real Chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def csp_violations(page) -> list[str]:
    """Console messages in which Chromium reports what the Content-Security-Policy refused, as they come."""
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None
    )
    return found


def who(name: str, email: str, device: str) -> dict:
    return dict(
        user_name=name,
        email=email,
        participant_uuid=device,
        user_id=device[-5:],
        registrant_id="",
        participant_user_id="",
    )


def sign_in(page, server: str) -> None:
    """Sign in as the seeded staff member, from the login page to the dashboard."""
    page.goto(f"{server}/staff/login")
    page.get_by_label("Email").fill("staff@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/staff/")


def seed(runtime, server: str) -> None:
    with runtime.db.begin() as s:
        community = Community(
            name="Infant-Toddler CoP",
            zoom_meeting_id="81234567890",
            timezone="America/New_York",
            first_start_local=datetime(2026, 10, 13, 18, 30),
            duration_minutes=120,
        )
        s.add(community)
        s.flush()
        for name, email, rid in [
            ("Alice Ames", "alice@example.org", "R-1"),
            ("Bob Brown", "bob@example.org", "R-2"),
            ("Gina Guest", "gina@example.org", "R-3"),
        ]:
            member = Member(name=name, email=email, registry_id=rid)
            s.add(member)
            s.flush()
            s.add(Membership(community_id=community.id, member_id=member.id))
        s.add(StaffUser(email="staff@example.org", password_hash=hash_password(PASSWORD), role="staff"))
    alice, bob = who("Alice Ames", "alice@example.org", "dev-alice"), who("Bob Brown", "bob@example.org", "dev-bob")
    guest = who("Gina G (iPad)", "", "dev-gina")
    first = {"meeting_uuid": "FirstInstance000000000==", "meeting_start_time": "2026-10-13T22:30:00Z"}
    second = {"meeting_uuid": "SecondInstance00000000==", "meeting_start_time": "2026-10-13T23:01:00Z"}
    # 18:30-18:58 New York, ended by mistake, started again 19:01-20:30: everyone's two visits are one session
    events = [
        zoom_event("meeting_started", **first),
        zoom_event("participant_joined", join_time="2026-10-13T22:30:10Z", **alice, **first),
        zoom_event("participant_joined", join_time="2026-10-13T22:45:00Z", **bob, **first),
        zoom_event("participant_joined", join_time="2026-10-13T22:35:00Z", **guest, **first),
        zoom_event("meeting_ended", meeting_end_time="2026-10-13T22:58:00Z", **first),
        zoom_event("meeting_started", **second),
        zoom_event("participant_joined", join_time="2026-10-13T23:01:00Z", **alice, **second),
        zoom_event("participant_joined", join_time="2026-10-13T23:01:00Z", **bob, **second),
        zoom_event("participant_joined", join_time="2026-10-13T23:01:00Z", **guest, **second),
        zoom_event("participant_left", leave_time="2026-10-14T00:00:00Z", **bob, **second),
        zoom_event("participant_left", leave_time="2026-10-14T00:20:00Z", **guest, **second),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **alice, **second),
        zoom_event("meeting_ended", meeting_end_time="2026-10-14T00:30:00Z", **second),
    ]
    for body in events:
        raw = json.dumps(body).encode()
        response = requests.post(f"{server}/zoom/webhook", data=raw, headers=signed_headers(raw), timeout=10)
        assert response.status_code == 200, response.text


def test_review_a_restarted_session_with_training_and_export_it(browser, server, runtime, tmp_path):
    seed(runtime, server)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    violations = csp_violations(page)
    page.goto(f"{server}/staff/meetings/2")  # the second Zoom instance's old address
    assert "/staff/login" in page.url
    page.get_by_label("Email").fill("staff@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/staff/sessions/1")
    assert page.get_by_role("heading", name="Infant-Toddler CoP").is_visible()
    assert page.get_by_text("This session took 2 Zoom meetings").is_visible()
    assert page.get_by_text("Live 18:30–18:58, 19:01–20:30 (America/New_York)").is_visible()
    assert page.locator("svg.timeline-svg rect.live").count() == 2  # the gap shows
    assert page.locator("svg.timeline-svg rect.webhook").count() == 6  # three people, two visits each
    # one line per person for the whole session: Alice 27:50 + 84:00 = 1:51 -> 1.75 h, Bob 13 + 59 = 1:12
    # -> 1.00 h, the iPad 23 + 79 = 1:42 -> 1.50 h
    assert page.locator("tr", has_text="Alice Ames").get_by_text("1.75 h", exact=True).is_visible()
    assert page.locator("tr", has_text="Bob Brown").get_by_text("1.00 h", exact=True).is_visible()
    assert page.locator("tr", has_text="Gina G (iPad)").get_by_text("1.50 h", exact=True).is_visible()
    page.screenshot(path=str(tmp_path / "session.png"), full_page=True)  # for a person to look at
    # a spacing that used to be an inline style comes from the stylesheet now
    assert page.locator("#tl-h").evaluate("e => getComputedStyle(e).marginTop") == "0px"

    # match the iPad guest to Gina, choosing from the community's members
    page.get_by_label("Member for Gina G (iPad)").fill("Gina Guest <gina@example.org>")
    page.locator("tr", has_text="Gina G (iPad)").get_by_role("button", name="Match").click()
    assert page.get_by_role("status").get_by_text("Participant matched").is_visible()
    assert page.locator("tr", has_text="Gina G (iPad)").get_by_role("link", name="Gina Guest").is_visible()

    # 19:00-19:30 was elective training (the restart's gap 19:00-19:01 included): 29 minutes -> 0.25 h each
    form = page.locator("form", has=page.get_by_role("group", name="Add a training segment"))
    form.get_by_label("From").fill("19:00")
    form.get_by_label("To", exact=True).fill("19:30")
    form.get_by_label("Title").fill("Safe sleep practices")
    form.get_by_label("Category").select_option("Health, Safety and Nutrition")
    form.get_by_label("Approval code").fill("NV-2026-114")
    form.get_by_role("button", name="Add segment").click()
    assert page.get_by_role("status").get_by_text("Training segment saved").is_visible()
    alice = page.locator("tr", has_text="Alice Ames")
    assert alice.get_by_text("1.75 h", exact=True).is_visible()  # the total never changes
    assert alice.get_by_text("1.50 growth").is_visible() and alice.get_by_text("0.25 training").is_visible()

    page.get_by_role("link", name="Approve all clean (3 of 3 pending)…").click()
    page.get_by_role("button", name="Approve 3 lines").click()
    assert page.get_by_role("status").get_by_text("Approved 3 clean lines.").is_visible()

    bob_row = page.locator("tr", has_text="Bob Brown")
    bob_row.get_by_text("Change…").click()
    bob_row.get_by_label("Growth hours", exact=True).fill("1.0")
    bob_row.get_by_label("Training hours", exact=True).fill("0.25")
    bob_row.get_by_label("Reason", exact=True).fill("stayed for the parking-lot discussion")
    bob_row.get_by_role("button", name="Adjust hours").click()
    assert page.get_by_role("status").get_by_text("Hours adjusted.").is_visible()
    assert page.locator("tr", has_text="Bob Brown").get_by_text("1.25 h", exact=True).is_visible()
    assert page.get_by_role("cell", name="stayed for the parking-lot discussion").is_visible()
    page.screenshot(path=str(tmp_path / "session-reviewed.png"), full_page=True)

    page.get_by_role("link", name="Export").click()
    page.get_by_label("Sessions from").fill("2026-10-13")
    page.get_by_label("to (inclusive)").fill("2026-10-13")
    page.get_by_label("Status").select_option("approved")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role("heading", name="3 lines chosen").is_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "hours-2026-10-13-2026-10-13-approved.csv"
    path = tmp_path / "export.csv"
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    got = sorted(
        (
            r["participant_name"],
            r["kind"],
            r["hours"],
            r["status"],
            r["matched"],
            r["session_date"],
            r["training_titles"],
            r["approval_codes"],
        )
        for r in rows
    )
    assert got == [
        ("Alice Ames", "growth", "1.50", "approved", "true", "2026-10-13", "", ""),
        ("Alice Ames", "training", "0.25", "approved", "true", "2026-10-13", "Safe sleep practices", "NV-2026-114"),
        ("Bob Brown", "growth", "1.00", "approved", "true", "2026-10-13", "", ""),
        ("Bob Brown", "training", "0.25", "approved", "true", "2026-10-13", "Safe sleep practices", "NV-2026-114"),
        ("Gina Guest", "growth", "1.25", "approved", "true", "2026-10-13", "", ""),
        ("Gina Guest", "training", "0.25", "approved", "true", "2026-10-13", "Safe sleep practices", "NV-2026-114"),
    ]
    assert {r["meeting_uuids"] for r in rows} == {"FirstInstance000000000== SecondInstance00000000=="}

    page.get_by_role("link", name="Registry", exact=True).click()
    page.get_by_role("button", name="Submit 3 lines to Registry").click()
    assert page.get_by_role("status").get_by_text("Batch 1: 3 lines (6 rows) marked submitted.").is_visible()
    with runtime.db.begin() as s:
        assert all(r.submitted_at is not None and r.exported_at is not None for r in s.scalars(select(CreditLine)))
    assert violations == []


def test_every_page_works_under_the_content_security_policy(browser, server, runtime):
    seed(runtime, server)
    with runtime.db.begin() as s:
        community = s.scalar(select(Community.id))
        gina = s.scalar(select(Member.id).where(Member.email == "gina@example.org"))
        alice = s.scalar(select(Member.id).where(Member.email == "alice@example.org"))
    resources = f"/resources/{make_token(signing_secret(runtime), 'resources', MemberLink(gina, community))}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations = csp_violations(page)
    sign_in(page, server)
    for path in [
        "/staff/",
        "/staff/members",
        f"/staff/members/{alice}",
        "/staff/communities",
        f"/staff/communities/{community}",
        "/staff/meetings/1",
        "/staff/sessions/1",
        "/staff/audit",
        "/staff/export",
        "/staff/status",
        "/staff/outbox",
        "/staff/agendas/",
        resources,
    ]:
        response = page.goto(f"{server}{path}")
        assert response.status == 200, path
        assert "'none'" in response.headers["content-security-policy"]
        # the page's stylesheet applied (a refused one would leave the browser's default serif font)
        assert "system-ui" in page.locator("body").evaluate("e => getComputedStyle(e).fontFamily"), path
    page.goto(f"{server}/staff/members/{alice}")
    bar = page.locator("svg.progress rect")
    assert bar.count() == 1 and bar.evaluate("e => getComputedStyle(e).fill") == "rgb(29, 107, 56)"
    assert violations == []

    # the check can fail: an inline style, as injected markup would carry, is refused and reported
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\\'color: red\\'>injected</p>')")
    page.wait_for_timeout(200)
    assert any("style" in message for message in violations)
    assert page.get_by_text("injected").evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"


def test_the_session_page_fits_a_phone(browser, server, runtime):
    """At 390 px nothing runs sideways: the training form's Category select (its options are long) stays
    inside its form, and the page does not scroll sideways (wide tables scroll in their own box)."""
    seed(runtime, server)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, server)
    page.goto(f"{server}/staff/sessions/1")
    group = page.get_by_role("group", name="Add a training segment")
    select, box = group.get_by_label("Category"), group.bounding_box()
    assert select.locator("option").count() > 1
    assert select.bounding_box()["x"] + select.bounding_box()["width"] <= box["x"] + box["width"]
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") == 390


def test_a_refused_training_segment_says_why_where_the_user_is(browser, server, runtime):
    """The page comes back at the training form (not at the participants, a screen further down), and the
    message stays in the window however far down that is."""
    seed(runtime, server)
    page = browser.new_page(viewport={"width": 1280, "height": 700})
    sign_in(page, server)
    page.goto(f"{server}/staff/sessions/1")
    form = page.locator("form", has=page.get_by_role("group", name="Add a training segment"))
    form.get_by_label("From").fill("19:30")
    form.get_by_label("To", exact=True).fill("19:00")
    form.get_by_label("Title").fill("Safe sleep")
    form.get_by_role("button", name="Add segment").click()
    page.wait_for_url(re.compile(r"/staff/sessions/1#training$"))
    message = page.get_by_role("status").get_by_text("must end after it starts")
    assert message.is_visible()
    assert page.evaluate("window.scrollY") > 0  # scrolled to the form...
    box = message.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 700  # ...and the message is in the window


def test_a_long_unbroken_reason_wraps_in_the_audit_trail(browser, server, runtime):
    """A reason with no spaces (a pasted URL, say) wraps in its cell instead of stretching the trail."""
    seed(runtime, server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server)
    with runtime.db.begin() as s:
        line = s.scalar(select(CreditLine.id).order_by(CreditLine.id))
    token = page.goto(f"{server}/staff/sessions/1") and page.locator("input[name=csrf_token]").first.input_value()
    reason = "https://drive.example.org/" + "x" * 400
    page.request.post(f"{server}/staff/lines/{line}/reject", form={"csrf_token": token, "reason": reason})
    page.goto(f"{server}/staff/audit")
    assert page.get_by_text(reason[:40]).count() == 1
    assert page.evaluate("document.querySelector('table.audit').scrollWidth") <= 1280


def test_sign_out_is_a_button_and_pages_need_sign_in_again(browser, server, runtime):
    seed(runtime, server)
    page = browser.new_page()
    page.goto(f"{server}/")
    assert "/staff/login" in page.url
    page.get_by_label("Email").fill("staff@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Review", exact=True).is_visible()
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto(f"{server}/staff/members")
    assert "/staff/login" in page.url
