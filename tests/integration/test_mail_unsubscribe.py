"""The links in every message: unsubscribe (page + RFC 8058 one-click) stops all further mail of that
community; members send resources through their signed link and the facilitator sees them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy import select

from mail_support import EVERYONE, add_community, at, by_kind, runtime, smtp  # noqa: F401
from staff_support import token_from
from zoombot.models import AuditEntry, Member, Membership, ResourceSubmission

UTC = timezone.utc
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)


def invites(runtime, clock, smtp):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    got = at(clock, smtp, runtime, START - timedelta(days=14))
    return {r.to[0]: r for r in got}


def path_of(url: str) -> str:
    return urlsplit(url.strip().strip("<>")).path


def test_an_unsubscribed_member_gets_nothing_further(runtime, clock, smtp, client):
    got = invites(runtime, clock, smtp)
    link = path_of(got["alice@example.org"].message["List-Unsubscribe"])
    assert link in got["alice@example.org"].html and link in got["alice@example.org"].text

    page = client.get(link)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    with runtime.db.begin() as s:
        assert s.scalar(select(Membership.unsubscribed_at).join(Member)
                        .where(Member.email == "alice@example.org")) is None

    response = client.post(link, data={"List-Unsubscribe": "One-Click"})  # what a mail client sends
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # again: harmless
    with runtime.db.begin() as s:
        assert s.scalar(select(Membership.unsubscribed_at).join(Member).where(
            Member.email == "alice@example.org")) == START - timedelta(days=14)
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.entity == "membership")) == "unsubscribed"

    everyone_else = [a for a in EVERYONE if a != "alice@example.org"]
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=2))) == {
        "facilitator_prep": ["fran@example.org"], "agenda": everyone_else}
    assert by_kind(at(clock, smtp, runtime, START - timedelta(minutes=60))) == {"reminder": everyone_else}


def test_an_unsubscribed_facilitator_gets_no_prep_either(runtime, clock, smtp, client):
    got = invites(runtime, clock, smtp)
    assert client.post(path_of(got["fran@example.org"].message["List-Unsubscribe"])).status_code == 200
    got = at(clock, smtp, runtime, START - timedelta(days=7))
    assert got == []


def test_forged_or_misused_tokens_are_refused(runtime, clock, smtp, client):
    got = invites(runtime, clock, smtp)
    link = path_of(got["alice@example.org"].message["List-Unsubscribe"])
    assert client.post(link[:-2] + "xx").status_code == 404
    resources = path_of(next(u for u in got["alice@example.org"].text.split() if "/resources/" in u))
    token = resources.rsplit("/", 1)[1]
    assert client.post(f"/unsubscribe/{token}").status_code == 404  # a resources link cannot unsubscribe
    with runtime.db.begin() as s:
        assert s.scalar(select(Membership.id).where(Membership.unsubscribed_at.is_not(None))) is None


def test_members_send_resources_that_reach_the_facilitators_draft(runtime, clock, smtp, client):
    got = invites(runtime, clock, smtp)
    link = path_of(next(u for u in got["bob@example.org"].text.split() if "/resources/" in u))
    page = client.get(link)
    assert page.status_code == 200
    token = token_from(page.get_data(as_text=True))
    refused = client.post(link, data={"csrf_token": token, "title": "Bad", "url": "javascript:alert(1)"})
    assert refused.status_code == 400 and "must be a complete web address" in refused.get_data(as_text=True)
    disguised = client.post(link, data={"csrf_token": token, "title": "Looks like good.example",
                                        "url": "https://user:pass@evil.example@good.example/"})
    assert disguised.status_code == 400 and "no user name or password" in disguised.get_data(as_text=True)
    assert client.post(link, data={"title": "No token"}).status_code == 400
    sent = client.post(link, data={"csrf_token": token, "title": "Serve and return <b>guide</b>",
                                   "url": "https://developingchild.harvard.edu/serve-return"})
    assert sent.status_code == 302
    with runtime.db.begin() as s:
        [row] = s.scalars(select(ResourceSubmission)).all()
        assert (row.title, row.url, row.occurrence_id is not None) == (
            "Serve and return <b>guide</b>", "https://developingchild.harvard.edu/serve-return", True)
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Thank you" in shown and "Serve and return &lt;b&gt;guide&lt;/b&gt;" in shown

    [prep] = at(clock, smtp, runtime, START - timedelta(days=7))
    assert prep.kind == "facilitator_prep"
    assert '<a href="https://developingchild.harvard.edu/serve-return">Serve and return &lt;b&gt;guide&lt;/b&gt;</a>' \
        in prep.html
    assert "Serve and return <b>guide</b>: https://developingchild.harvard.edu/serve-return" in prep.text
