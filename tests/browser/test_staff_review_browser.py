"""The staff UI in real Chromium (Playwright) against a real werkzeug server on 127.0.0.1: sign in,
review a meeting whose events arrived as signed webhooks, approve all, adjust one with a reason,
match one, and download the CSV export. If /usr/bin/chromium is missing these tests fail."""
from __future__ import annotations

import csv
import io
import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from conftest import free_port, signed_headers, zoom_event
from zoombot.models import Community, HoursRecord, Member, Membership, StaffUser
from zoombot.passwords import hash_password

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
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


def who(name: str, email: str, device: str) -> dict:
    return dict(user_name=name, email=email, participant_uuid=device, user_id=device[-5:], registrant_id="",
                participant_user_id="")


def seed(runtime, server: str) -> None:
    with runtime.db.begin() as s:
        community = Community(name="Infant-Toddler CoP", zoom_meeting_id="81234567890", timezone="America/New_York",
                              first_start_local=datetime(2026, 10, 13, 18, 30), duration_minutes=120)
        s.add(community)
        s.flush()
        for name, email in [("Alice Ames", "alice@example.org"), ("Bob Brown", "bob@example.org"),
                            ("Gina Guest", "gina@example.org")]:
            member = Member(name=name, email=email)
            s.add(member)
            s.flush()
            s.add(Membership(community_id=community.id, member_id=member.id))
        s.add(StaffUser(email="staff@example.org", password_hash=hash_password(PASSWORD), role="staff"))
    alice, bob = who("Alice Ames", "alice@example.org", "dev-alice"), who("Bob Brown", "bob@example.org", "dev-bob")
    guest = who("Gina G (iPad)", "", "dev-gina")
    events = [zoom_event("meeting_started", meeting_start_time="2026-10-13T22:30:00Z"),
              zoom_event("participant_joined", join_time="2026-10-13T22:30:10Z", **alice),
              zoom_event("participant_joined", join_time="2026-10-13T22:45:00Z", **bob),
              zoom_event("participant_joined", join_time="2026-10-13T22:35:00Z", **guest),
              zoom_event("participant_left", leave_time="2026-10-14T00:00:00Z", **bob),
              zoom_event("participant_left", leave_time="2026-10-14T00:20:00Z", **guest),
              zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **alice),
              zoom_event("meeting_ended", meeting_start_time="2026-10-13T22:30:00Z",
                         meeting_end_time="2026-10-14T00:30:00Z")]
    for body in events:
        raw = json.dumps(body).encode()
        response = requests.post(f"{server}/zoom/webhook", data=raw, headers=signed_headers(raw), timeout=10)
        assert response.status_code == 200, response.text


def test_review_a_meeting_and_export_it(browser, server, runtime, tmp_path):
    seed(runtime, server)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(f"{server}/staff/meetings/1")
    assert "/staff/login" in page.url
    page.get_by_label("Email").fill("staff@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/staff/meetings/1")
    assert page.get_by_role("heading", name="Infant-Toddler CoP").is_visible()
    assert page.locator("svg.timeline-svg rect.webhook").count() == 3

    page.screenshot(path=str(tmp_path / "meeting.png"), full_page=True)  # for a person to look at

    # match the iPad guest to Gina, choosing from the community's members
    page.get_by_label("Member for Gina G (iPad)").fill("Gina Guest <gina@example.org>")
    page.locator("tr", has_text="Gina G (iPad)").get_by_role("button", name="Match").click()
    assert page.get_by_text("Participant matched").is_visible()
    assert page.locator("tr", has_text="Gina G (iPad)").get_by_role("link", name="Gina Guest").is_visible()

    page.get_by_role("button", name="Approve all 3 pending").click()
    assert page.get_by_text("Approved 3 pending record(s).").is_visible()

    bob_row = page.locator("tr", has_text="Bob Brown")
    bob_row.get_by_text("Change…").click()
    bob_row.get_by_label("Hours", exact=True).fill("1.5")
    bob_row.get_by_label("Reason", exact=True).fill("stayed for the parking-lot discussion")
    bob_row.get_by_role("button", name="Adjust hours").click()
    assert page.get_by_text("Hours adjusted.").is_visible()
    assert page.locator("tr", has_text="Bob Brown").get_by_text("1.50 h").is_visible()
    assert page.get_by_role("cell", name="stayed for the parking-lot discussion").is_visible()
    page.screenshot(path=str(tmp_path / "meeting-reviewed.png"), full_page=True)

    page.get_by_role("link", name="Export").click()
    page.get_by_label("Sessions from").fill("2026-10-13")
    page.get_by_label("to (inclusive)").fill("2026-10-13")
    page.get_by_label("Status").select_option("approved")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role("heading", name="3 records chosen").is_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "hours-2026-10-13-2026-10-13-approved.csv"
    path = tmp_path / "export.csv"
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    got = sorted((r["participant_name"], r["participant_email"], r["hours"], r["status"], r["matched"],
                  r["session_date"]) for r in rows)
    assert got == [("Alice Ames", "alice@example.org", "1.75", "approved", "true", "2026-10-13"),
                   ("Bob Brown", "bob@example.org", "1.50", "approved", "true", "2026-10-13"),
                   ("Gina Guest", "gina@example.org", "1.75", "approved", "true", "2026-10-13")]

    page.get_by_role("button", name="Mark 3 approved records as exported").click()
    assert page.get_by_text("Marked 3 approved records as exported.").is_visible()
    with runtime.db.begin() as s:
        assert all(r.exported_at is not None for r in s.scalars(select(HoursRecord)))


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
