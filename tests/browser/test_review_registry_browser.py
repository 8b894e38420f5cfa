"""Review and registry submission in real Chromium (Playwright) against a real werkzeug server, as the
people who use them would: a facilitator who cannot approve, adjust or export anything (not even by
posting the form by hand); "approve all clean" that leaves the unmatched dial-in; a registry batch, then a
correction in the next batch; and a members grid whose totals are the member pages'. Every page under the
Content-Security-Policy with no violation; screenshots at 1366 px wide in SHOTS for a person to look at.

The session: 13 October 2026, 18:30-20:30 New York, 120 minutes. Alice 18:30:10-20:25 (1:54 -> 1.75 h),
Bob 18:45-20:00 (1:15 -> 1.25 h), a phone dial-in 18:31-20:25 (1:54 -> 1.75 h, unmatched), a guest
19:00-19:20 (no credit). The app's clock: 14 October 02:00 UTC (22:00 on the 13th in New York)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select
from test_staff_review_browser import browser, csp_violations, server  # noqa: F401  (shared fixtures)

from tests.helpers.zoom_events import signed_headers, zoom_event
from zoombot.core.passwords import hash_password
from zoombot.store.models import Community, CreditLine, Member, Membership, StaffUser, SubmissionBatch

pytestmark = pytest.mark.browser

PASSWORD = "a long staff password"
SHOTS = Path(os.environ.get("ZOOMBOT_SCREENSHOTS", "/tmp/review-shots"))
WIDE = {"width": 1366, "height": 900}
COMMON = {"meeting_uuid": "ReviewInstance00000000==", "meeting_id": "81234567890"}


def person(name: str, email: str, device: str) -> dict:
    return dict(
        user_name=name,
        email=email,
        participant_uuid=device,
        user_id=device[-5:],
        registrant_id="",
        participant_user_id="",
    )


def seed(runtime, server: str) -> None:
    with runtime.db.begin() as s:
        community = Community(
            name="Infant-Toddler CoP",
            zoom_meeting_id="81234567890",
            timezone="America/New_York",
            first_start_local=datetime(2026, 10, 13, 18, 30),
            duration_minutes=120,
            region="North",
            approval_code="CoP-77",
        )
        s.add(community)
        s.flush()
        for name, email, rid, role in [
            ("Alice Ames", "alice@example.org", "R-10442", "member"),
            ("Bob Brown", "bob@example.org", "R-10443", "member"),
            ("Fran Facil", "fran@example.org", "R-20017", "facilitator"),
        ]:
            member = Member(name=name, email=email, registry_id=rid)
            s.add(member)
            s.flush()
            s.add(Membership(community_id=community.id, member_id=member.id, role=role))
        s.add_all(
            [
                StaffUser(email="lead@example.org", password_hash=hash_password(PASSWORD), role="staff"),
                StaffUser(email="fran@example.org", password_hash=hash_password(PASSWORD), role="facilitator"),
            ]
        )
    alice = person("Alice Ames", "alice@example.org", "dev-alice")
    bob = person("Bob Brown", "bob@example.org", "dev-bob")
    phone, guest = person("+1 555 0100", "", "dev-phone"), person("Gina Guest", "", "dev-guest")
    events = [
        zoom_event("meeting_started", meeting_start_time="2026-10-13T22:30:00Z", **COMMON),
        zoom_event("participant_joined", join_time="2026-10-13T22:30:10Z", **alice, **COMMON),
        zoom_event("participant_joined", join_time="2026-10-13T22:45:00Z", **bob, **COMMON),
        zoom_event("participant_joined", join_time="2026-10-13T22:31:00Z", **phone, **COMMON),
        zoom_event("participant_joined", join_time="2026-10-13T23:00:00Z", **guest, **COMMON),
        zoom_event("participant_left", leave_time="2026-10-13T23:20:00Z", **guest, **COMMON),
        zoom_event("participant_left", leave_time="2026-10-14T00:00:00Z", **bob, **COMMON),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **phone, **COMMON),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **alice, **COMMON),
        zoom_event(
            "meeting_ended",
            meeting_start_time="2026-10-13T22:30:00Z",
            meeting_end_time="2026-10-14T00:30:00Z",
            **COMMON,
        ),
    ]
    for body in events:
        raw = json.dumps(body).encode()
        response = requests.post(f"{server}/zoom/webhook", data=raw, headers=signed_headers(raw), timeout=10)
        assert response.status_code == 200, response.text


def sign_in(browser, server, email):
    page = browser.new_page(viewport=WIDE, accept_downloads=True)
    violations = csp_violations(page)
    page.goto(f"{server}/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/staff/")
    return page, violations


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def statuses(runtime) -> dict[str, str]:
    with runtime.db.begin() as s:
        return {
            line.participant_key: line.status for line in s.scalars(select(CreditLine).where(CreditLine.revision == 0))
        }


def test_a_facilitator_cannot_approve_adjust_or_export_anything(browser, server, runtime):
    seed(runtime, server)
    page, violations = sign_in(browser, server, "fran@example.org")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Needs attention")).to_be_visible()
    for hidden in ("Export", "Registry", "Status"):  # links she cannot use are not shown
        assert nav.get_by_role("link", name=hidden, exact=True).count() == 0
    page.goto(f"{server}/staff/sessions/1")
    expect(page.get_by_role("heading", name="Infant-Toddler CoP")).to_be_visible()
    expect(page.get_by_text("registry due in 7 days")).to_be_visible()
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_role("link", name=re.compile("Approve all clean")).count() == 0
    assert page.get_by_role("button", name="Adjust hours").count() == 0
    assert page.get_by_role("button", name="Match").count() == 0
    bob = page.locator("tr", has_text="Bob Brown")
    bob.get_by_text("Note…").click()
    bob.get_by_label("Attendance").select_option("disputed")
    bob.get_by_label("Note for staff").fill("left at 19:40 for a family emergency, back by phone?")
    bob.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("status").get_by_text("Note saved")).to_be_visible()
    expect(page.locator("tr", has_text="Bob Brown").get_by_text("disputed", exact=True)).to_be_visible()
    shot(page, "facilitator-session")

    # posting the forms by hand (with her own valid CSRF token) is refused, with a styled page, nothing changes
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    with runtime.db.begin() as s:
        bob_line = s.scalar(select(CreditLine.id).where(CreditLine.participant_key == "email:bob@example.org"))
    for path, data, words in [
        (f"/staff/lines/{bob_line}/approve", {}, "Facilitators cannot approve lines"),
        (
            f"/staff/lines/{bob_line}/adjust",
            {"growth": "24", "training": "0", "reason": "x", "override": "y"},
            "Facilitators cannot adjust hours",
        ),
        (f"/staff/lines/{bob_line}/reject", {"reason": "x"}, "Facilitators cannot reject lines"),
        ("/staff/sessions/1/approve-clean", {"line": str(bob_line)}, "Facilitators cannot approve lines"),
        ("/staff/registry/submit", {"format": "csv"}, "Facilitators cannot submit to the registry"),
    ]:
        response = page.request.post(f"{server}{path}", form={"csrf_token": token, **data})
        assert response.status == 403 and words in response.text(), path
    for path, words in [
        ("/staff/export", "Facilitators cannot export hours"),
        ("/staff/export/download?format=csv", "Facilitators cannot export hours"),
        ("/staff/registry", "Facilitators cannot see registry submissions"),
        ("/staff/status", "Facilitators cannot see the service"),
    ]:
        response = page.goto(f"{server}{path}")
        assert response.status == 403, path
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.get_by_text(words)).to_be_visible()
        assert "system-ui" in page.locator("body").evaluate("e => getComputedStyle(e).fontFamily")  # styled
    shot(page, "facilitator-refused")
    assert statuses(runtime) == {
        "email:alice@example.org": "pending",
        "email:bob@example.org": "pending",
        "name:+1 555 0100": "pending",
        "name:gina guest": "no_credit",
    }
    assert violations == []


def test_approve_clean_then_a_batch_then_a_correction_in_the_next_batch(browser, server, runtime, tmp_path):
    seed(runtime, server)
    page, violations = sign_in(browser, server, "lead@example.org")
    page.goto(f"{server}/staff/")
    row = page.locator("tr", has_text="Infant-Toddler CoP")
    expect(row.get_by_text("due in 7 days")).to_be_visible()
    shot(page, "dashboard")
    page.goto(f"{server}/staff/attention")
    expect(page.locator("tr", has_text="+1 555 0100").get_by_text("no member matched")).to_be_visible()
    shot(page, "attention")

    page.goto(f"{server}/staff/sessions/1")
    page.get_by_role("link", name="Approve all clean (2 of 3 pending)…").click()
    expect(page.get_by_role("heading", name="2 lines will be approved")).to_be_visible()
    left = page.locator("tr", has_text="+1 555 0100")
    expect(left.get_by_text("no matched member")).to_be_visible()
    shot(page, "approve-clean")
    page.get_by_role("button", name="Approve 2 lines").click()
    expect(page.get_by_role("status").get_by_text("Approved 2 clean lines.")).to_be_visible()
    assert statuses(runtime) == {
        "email:alice@example.org": "approved",
        "email:bob@example.org": "approved",
        "name:+1 555 0100": "pending",
        "name:gina guest": "no_credit",
    }

    page.get_by_role("link", name="Registry", exact=True).click()
    expect(page.get_by_role("heading", name="Next batch: 2 lines (2 rows)")).to_be_visible()
    page.get_by_role("button", name="Submit 2 lines to Registry").click()
    expect(page.get_by_role("status").get_by_text("Batch 1: 2 lines (2 rows) marked submitted.")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"Download registry-batch-1-2026-10-14\.csv")).click()
    first = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert sorted(
        (
            r["participant_name"],
            r["registry_id"],
            r["kind"],
            r["hours"],
            r["corrects_record_id"],
            r["approval_code"],
            r["trainer_registry_id"],
            r["start_local"],
        )
        for r in first
    ) == [
        ("Alice Ames", "R-10442", "growth", "1.75", "", "CoP-77", "R-20017", "2026-10-13 18:30"),
        ("Bob Brown", "R-10443", "growth", "1.25", "", "CoP-77", "R-20017", "2026-10-13 18:30"),
    ]
    shot(page, "batch-1")

    # the dial-in was Bob's phone: his submitted line stays as sent, a correction goes in the next batch
    page.goto(f"{server}/staff/sessions/1")
    source = page.get_by_label("This participant")
    assert source.locator("option[value='name:+1 555 0100']").inner_text() == "+1 555 0100 · 18:31–20:25"
    assert (
        page.get_by_label("is the same person as").locator("option[value='email:bob@example.org']").inner_text()
        == "Bob Brown (bob@example.org) · 18:45–20:00"
    )  # each participant's times to choose by
    source.select_option("name:+1 555 0100")
    page.get_by_label("is the same person as").select_option("email:bob@example.org")
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("status").get_by_text("Participants merged.")).to_be_visible()
    bob = page.locator("tr", has_text="Bob Brown")
    expect(bob.get_by_text("submitted · batch 1")).to_be_visible()
    with runtime.db.begin() as s:
        original, correction = s.scalars(
            select(CreditLine)
            .where(CreditLine.participant_key == "email:bob@example.org")
            .order_by(CreditLine.revision)
        ).all()
    assert (original.growth_hours, original.status, correction.growth_hours, correction.corrects_id) == (
        1.25,
        "approved",
        1.75,
        original.id,
    )
    expect(bob.get_by_text(f"correction of line {original.id}").first).to_be_visible()
    bob.locator(f"#line-{correction.id}").get_by_role("button", name="Approve").click()
    assert page.url.endswith(f"/staff/sessions/1#line-{correction.id}")  # back where she was
    shot(page, "session-correction")

    page.goto(f"{server}/staff/registry")
    page.get_by_label("File format").select_option("xlsx")
    page.get_by_role("button", name="Submit 1 line to Registry").click()
    expect(page.get_by_role("status").get_by_text("Batch 2: 1 line (1 row) marked submitted.")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"Download registry-batch-2-2026-10-14\.xlsx")).click()
    from openpyxl import load_workbook

    info.value.save_as(tmp_path / info.value.suggested_filename)
    sheet = load_workbook(tmp_path / "registry-batch-2-2026-10-14.xlsx").active
    header, *rows = [[c.value for c in r] for r in sheet.iter_rows()]
    got = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(r["participant_name"], r["hours"], r["corrects_record_id"], r["record_id"]) for r in got] == [
        ("Bob Brown", 1.75, str(original.id), str(correction.id))
    ]
    page.goto(f"{server}/staff/registry")
    expect(page.get_by_role("heading", name="Next batch: 0 lines (0 rows)")).to_be_visible()
    page.get_by_role("button", name="Submit 0 lines to Registry").click()
    expect(page.get_by_role("status").get_by_text("Nothing new to submit")).to_be_visible()
    with runtime.db.begin() as s:
        assert [b.line_ids for b in s.scalars(select(SubmissionBatch).order_by(SubmissionBatch.id))] == [
            sorted(
                [
                    original.id,
                    s.scalar(select(CreditLine.id).where(CreditLine.participant_key == "email:alice@example.org")),
                ]
            ),
            [correction.id],
        ]
    shot(page, "registry")

    page.goto(f"{server}/staff/audit")
    page.get_by_label("Member").select_option(label="Bob Brown")
    page.get_by_role("button", name="Filter").click()
    ledger = page.locator("table.audit")
    expect(ledger.get_by_text("submitted to the registry").first).to_be_visible()
    expect(ledger.get_by_text("Infant-Toddler CoP · Tue Oct 13, 2026").first).to_be_visible()
    text = ledger.inner_text()
    assert "2026-10-13 22:00 EDT" in text and "+00:00" not in text and "T02:00" not in text  # local, not UTC
    assert re.search(r"\b\d+ s\b", text) is None and "#" not in text  # h:mm and names, not seconds and ids
    shot(page, "audit")
    assert violations == []


def test_the_grid_totals_equal_the_member_pages(browser, server, runtime):
    seed(runtime, server)
    page, violations = sign_in(browser, server, "lead@example.org")
    page.goto(f"{server}/staff/sessions/1")
    page.locator("tr", has_text="Alice Ames").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").get_by_text("Line approved.")).to_be_visible()
    page.get_by_role("link", name="Hours grid").click()
    expect(page.get_by_role("heading", name="Hours grid · licensing year 2026")).to_be_visible()
    shot(page, "grid")
    with runtime.db.begin() as s:
        people = dict(s.execute(select(Member.name, Member.id)).all())
    seen = {}
    for name in ("Alice Ames", "Bob Brown", "Fran Facil"):
        row = page.locator(f"tr[data-member='{people[name]}']")
        seen[name] = tuple(row.locator(f"td[data-total='{k}']").inner_text() for k in ("growth", "training", "pending"))
    assert seen == {
        "Alice Ames": ("1.75", "0.00", "0.00"),
        "Bob Brown": ("0.00", "0.00", "1.25"),
        "Fran Facil": ("0.00", "0.00", "0.00"),
    }
    # the footer's months read like the rows': October's approved 1.75 and, pending, Bob's 1.25
    months = [" ".join(t.split()) for t in page.locator("tfoot td.num").all_inner_texts()[:12]]
    assert [m for m in months if m != "0.00"] == ["1.75 +1.25"]
    for name, (growth, training, pending) in seen.items():
        page.goto(f"{server}/staff/members/{people[name]}")
        year = page.locator("table.member-years tr[data-year='2026']")
        if growth == training == pending == "0.00":
            expect(page.get_by_text("No hours recorded yet.")).to_be_visible()
            continue
        cells = year.locator("td.num").all_inner_texts()
        assert cells[0] == growth and cells[1] == training
        assert f"{float(cells[2]) + float(cells[3]):.2f}" == pending
    page.goto(f"{server}/staff/members/grid")
    page.get_by_label("Below the 15 h requirement").check()
    page.get_by_role("button", name="Show").click()
    assert page.locator("tbody tr").count() == 3
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert [(r["name"], r["2026-10 growth approved"], r["approved total"], r["remaining"]) for r in rows] == [
        ("Alice Ames", "1.75", "1.75", "13.25"),
        ("Bob Brown", "0.00", "0.00", "15.00"),
        ("Fran Facil", "0.00", "0.00", "15.00"),
    ]
    page.goto(f"{server}/staff/members/{people['Alice Ames']}")
    shot(page, "member")
    assert violations == []
