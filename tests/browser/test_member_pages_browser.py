"""Members' pages in real Chromium: the personal page, the link request and the verification page at a
phone's 390 px (no sideways scrolling) and a desktop's 1366 px, under the Content-Security-Policy with no
violation, with labelled controls, a visible keyboard focus and WCAG AA contrast; a claim made and a
certificate downloaded as a member would. Screenshots are kept in the test's folder for a person to look at.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select
from test_staff_review_browser import browser, csp_violations, server, who  # noqa: F401 (fixtures)

from tests.helpers.zoom_events import signed_headers, zoom_event
from zoombot.core.member_tokens import make_page_token
from zoombot.runtime import signing_secret
from zoombot.store import review
from zoombot.store.models import Community, CreditLine, Member, MemberClaim, Membership

pytestmark = pytest.mark.browser

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
#: Text and the background behind it, checked for WCAG AA contrast (4.5:1 for normal text).
CONTRAST = [
    "body",
    "p.hint",
    ".status-approved",
    ".status-none",
    "a.button",
    "dl.figures dd",
    "dl.figures dt",
    "details.claim-form summary",
    "button",
    "h3 .community",
]


def seed(runtime, server: str) -> dict[str, int]:
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
        ids = {}
        for name, email, registry in [
            ("Alice Ames", "alice@example.org", "R-10442"),
            ("Carla Cruz", "carla@example.org", None),
        ]:
            member = Member(name=name, email=email, registry_id=registry)
            s.add(member)
            s.flush()
            s.add(Membership(community_id=community.id, member_id=member.id))
            ids[email] = member.id
    alice = who("Alice Ames", "alice@example.org", "dev-alice")
    phone = who("+1 555 0100", "", "dev-phone")
    at = {"meeting_uuid": "OnlyInstance0000000000==", "meeting_start_time": "2026-10-13T22:30:00Z"}
    events = [
        zoom_event("meeting_started", **at),
        zoom_event("participant_joined", join_time="2026-10-13T22:30:10Z", **alice, **at),
        zoom_event("participant_joined", join_time="2026-10-13T22:31:00Z", **phone, **at),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **phone, **at),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **alice, **at),
        zoom_event("meeting_ended", meeting_end_time="2026-10-14T00:30:00Z", **at),
    ]
    for body in events:
        raw = json.dumps(body).encode()
        assert requests.post(f"{server}/zoom/webhook", data=raw, headers=signed_headers(raw), timeout=10).ok
    with runtime.db.begin() as s:
        line = s.scalar(select(CreditLine).where(CreditLine.member_id == ids["alice@example.org"]))
        review.approve(s, [line.id], actor="staff@example.org", now=runtime.now())
    return ids


def page_url(runtime, server: str, member_id: int) -> str:
    return f"{server}/me/{make_page_token(signing_secret(runtime), member_id, runtime.now())}"


def fits(page) -> None:
    """No sideways scrolling: nothing is wider than the viewport."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width} px wide at {page.viewport_size['width']} px"


def contrast_problems(page) -> list[str]:
    """Elements whose text colour against the nearest opaque background is under 4.5:1."""
    return page.evaluate(
        """(selectors) => {
      const rgb = s => s.match(/[\\d.]+/g).map(Number);
      const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255;
        return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
      const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
      const out = [];
      for (const sel of selectors) for (const e of document.querySelectorAll(sel)) {
        const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) out.push(sel + ' ' + ratio.toFixed(2));
      }
      return out; }""",
        CONTRAST,
    )


def unlabelled(page) -> list[str]:
    """Form controls (but hidden ones and buttons) without an accessible name from a label."""
    return page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select')]
      .filter(e => !(e.labels && e.labels.length)).map(e => e.outerHTML)""")


def test_the_personal_page_on_a_phone_and_a_desktop(browser, server, runtime, tmp_path):
    ids = seed(runtime, server)
    url = page_url(runtime, server, ids["alice@example.org"])
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browser.new_page(viewport=viewport, accept_downloads=True)
        violations = csp_violations(page)
        response = page.goto(url)
        assert response.status == 200 and "'none'" in response.headers["content-security-policy"]
        assert page.get_by_role("heading", name="Your hours", exact=True).is_visible()
        assert page.get_by_text("1.75 of 15.00 hours approved (11%), 13.25 to go").is_visible()
        assert page.get_by_role("progressbar").count() == 1
        fits(page)
        assert contrast_problems(page) == []
        assert unlabelled(page) == []
        # keyboard focus is visible: the first link after the page's own text gets a 3 px outline
        page.keyboard.press("Tab")
        focused = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
        assert focused == "3px", focused
        page.screenshot(path=str(tmp_path / f"member-page-{name}.png"), full_page=True)
        with page.expect_download() as info:
            page.get_by_role("link", name="Certificate of attendance (PDF)").click()
        assert info.value.suggested_filename.startswith("certificate-2026-10-13-")
        with page.expect_download() as info:
            page.get_by_role("link", name="Transcript 2026 (PDF)").click()
        assert info.value.suggested_filename == "transcript-2026.pdf"
        assert violations == []
        page.close()


def test_a_phone_caller_claims_their_time_on_a_phone(browser, server, runtime, tmp_path):
    ids = seed(runtime, server)
    page = browser.new_page(viewport=PHONE)
    violations = csp_violations(page)
    page.goto(page_url(runtime, server, ids["carla@example.org"]))
    assert page.get_by_text("Not counted", exact=True).is_visible()
    assert page.get_by_text("+1 555").count() == 0
    page.get_by_text("You were there but are not counted?").click()
    page.get_by_label("6:31 PM – 8:25 PM EDT").check()
    page.get_by_label("How did you join?").fill("I dialled in from my car")
    page.screenshot(path=str(tmp_path / "claim-form-phone.png"), full_page=True)
    fits(page)
    page.get_by_role("button", name="Send to staff").click()
    expect(page.get_by_role("status").get_by_text("Thank you: staff will look at it.")).to_be_visible()
    assert page.get_by_text("You told us you were there (6:31 PM – 8:25 PM EDT)").is_visible()
    with runtime.db.begin() as s:
        claim = s.scalar(select(MemberClaim))
        assert (claim.member_id, claim.status, claim.description) == (
            ids["carla@example.org"],
            "open",
            "I dialled in from my car",
        )
    page.get_by_role("button", name="Withdraw my claim").click()
    expect(page.get_by_text("You withdrew your claim.")).to_be_visible()
    fits(page)
    assert violations == []


def test_link_request_and_verification_pages_on_a_phone(browser, server, runtime, tmp_path):
    ids = seed(runtime, server)
    page = browser.new_page(viewport=PHONE)
    violations = csp_violations(page)
    page.goto(f"{server}/me")
    page.get_by_label("Your e-mail address").fill("alice@example.org")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").get_by_text("If that address belongs to a member")).to_be_visible()
    fits(page)
    assert unlabelled(page) == [] and contrast_problems(page) == []
    page.screenshot(path=str(tmp_path / "request-phone.png"), full_page=True)

    page.goto(page_url(runtime, server, ids["alice@example.org"]))
    with page.expect_download():
        page.get_by_role("link", name="Certificate of attendance (PDF)").click()
    from zoombot.store.models import CertificateRecord

    with runtime.db.begin() as s:
        code = s.scalar(select(CertificateRecord.code))
    page.goto(f"{server}/verify")
    page.get_by_label("Verification code (on the certificate)").fill(code.lower())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(f"/verify/{code[:4]}-{code[4:8]}-{code[8:]}$"))
    expect(page.get_by_role("status").get_by_text("Valid: the credit is approved and unchanged")).to_be_visible()
    assert page.get_by_text("A. A. (initials only)").is_visible() and page.get_by_text("Alice").count() == 0
    fits(page)
    assert contrast_problems(page) == []
    page.screenshot(path=str(tmp_path / "verify-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(tmp_path / "verify-desktop.png"), full_page=True)
    assert violations == []


def test_a_correction_waiting_for_review_on_a_phone_and_a_desktop(browser, server, runtime, tmp_path):
    """Alice's 1.75 h are sent to the registry, then staff mark 30 minutes as training: a correction (1.25 h
    growth + 0.50 h training) waits for review. Her page shows one row for the session, the hours sent, with
    the correction told on it, and nothing waiting beside them."""
    from datetime import UTC

    from zoombot.store import registry
    from zoombot.store.models import CreditSession

    ids = seed(runtime, server)
    with runtime.db.begin() as s:
        assert registry.submit(s, runtime.settings, actor="staff@example.org", now=runtime.now()).batch_id == 1
        held = s.scalar(select(CreditSession.id))
        review.save_segment(
            s,
            held,
            start=datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
            end=datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
            title="Safe sleep",
            category="Health, Safety and Nutrition",
            approval_code="NV-114",
            actor="staff@example.org",
            now=runtime.now(),
            settings=runtime.settings,
        )
    url = page_url(runtime, server, ids["alice@example.org"])
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browser.new_page(viewport=viewport)
        violations = csp_violations(page)
        assert page.goto(url).status == 200
        expect(page.get_by_text("1.75 of 15.00 hours approved (11%), 13.25 to go")).to_be_visible()
        expect(
            page.get_by_text(
                "Staff are reviewing a correction of these hours, already sent to the registry: "
                "1.25 h growth + 0.50 h training instead. Until it is approved, the hours sent count."
            )
        ).to_be_visible()
        assert page.get_by_text("Tue, Oct 13, 2026").count() == 1
        fits(page)
        assert contrast_problems(page) == []
        page.screenshot(path=str(tmp_path / f"member-correction-{name}.png"), full_page=True)
        assert violations == []
        page.close()
