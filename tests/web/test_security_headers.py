"""Security headers on every response, pages that need neither inline script nor inline style (so the
strict policy breaks nothing), and the CSV export's content type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers.staff import add_community, add_staff, login, meeting_events, member_id, play, session_id
from zoombot.core.member_tokens import MemberLink, make_token
from zoombot.runtime import signing_secret
from zoombot.store.models import Community, Occurrence

EXPECTED = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
INLINE = re.compile(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
TEMPLATES = Path(__file__).parents[2] / "zoombot"


@pytest.fixture
def signed_in(client, runtime, post_event):
    add_community(runtime, "Infant-Toddler CoP", "81234567890", members=[("Alice Ames", "alice@example.org")])
    play(post_event, meeting_events())
    add_staff(runtime, "staff@example.org")
    assert login(client, "staff@example.org").status_code == 302
    return client


def pages(runtime) -> list[str]:
    with runtime.db.begin() as s:
        community = s.scalar(select(Community.id))
        occurrence = s.scalar(select(Occurrence.id))
    alice = member_id(runtime, "alice@example.org")
    link = MemberLink(alice, community)
    secret = signing_secret(runtime)
    staff = [
        "/staff/",
        "/staff/members",
        f"/staff/members/{alice}",
        "/staff/communities",
        f"/staff/communities/{community}",
        f"/staff/sessions/{session_id(runtime)}",
        "/staff/audit",
        "/staff/export",
        "/staff/status",
        "/staff/outbox",
        "/staff/agendas/",
        "/staff/no-such-page",
    ]
    if occurrence is not None:
        staff.append(f"/staff/agendas/{occurrence}")
    return staff + [
        f"/resources/{make_token(secret, 'resources', link)}",
        f"/unsubscribe/{make_token(secret, 'unsubscribe', link)}",
    ]


def test_every_page_carries_the_headers_and_no_inline_script_or_style(signed_in, runtime):
    seen = 0
    for path in pages(runtime):
        response = signed_in.get(path)
        assert response.status_code in (200, 404), path
        assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED, path
        html = response.get_data(as_text=True)
        assert "<html" in html and not INLINE.search(html), (path, INLINE.search(html))
        seen += 1
    assert seen >= 14


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/staff/login"),
        ("GET", "/"),
        ("GET", "/healthz"),
        ("GET", "/staff/static/staff.css"),
        ("GET", "/staff/static/public.css"),
        ("POST", "/zoom/webhook"),
        ("POST", "/staff/login"),
    ],
)
def test_machine_answers_redirects_errors_and_files_carry_them_too(client, method, path):
    response = client.open(path, method=method)
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED


def test_no_template_writes_inline_script_or_style():
    """Pages only: mail templates keep their inline styles, which mail clients need and no page shows."""
    found = [
        (str(p), m.group(0))
        for p in TEMPLATES.rglob("*.html")
        if "mail" not in p.parts
        for m in [INLINE.search(p.read_text(encoding="utf-8"))]
        if m
    ]
    assert found == []


def test_the_csv_download_says_its_charset_once(signed_in):
    response = signed_in.get("/staff/export/download?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert signed_in.get("/staff/export/download?format=json").headers["Content-Type"] == "application/json"
