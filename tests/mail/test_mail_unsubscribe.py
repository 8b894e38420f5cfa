"""The links in every message: unsubscribe (page + RFC 8058 one-click) stops all further mail of that
community; members send resources through their signed link and the facilitator sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.helpers.mail import EVERYONE, add_community, at, by_kind, runtime, smtp  # noqa: F401
from tests.helpers.staff import token_from
from zoombot.store.models import AuditEntry, Member, Membership, ResourceSubmission

UTC = UTC
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
        assert (
            s.scalar(select(Membership.unsubscribed_at).join(Member).where(Member.email == "alice@example.org")) is None
        )

    response = client.post(link, data={"List-Unsubscribe": "One-Click"})  # what a mail client sends
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # again: harmless
    with runtime.db.begin() as s:
        assert s.scalar(
            select(Membership.unsubscribed_at).join(Member).where(Member.email == "alice@example.org")
        ) == START - timedelta(days=14)
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.entity == "membership")) == "unsubscribed"

    everyone_else = [a for a in EVERYONE if a != "alice@example.org"]
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=2))) == {
        "facilitator_prep": ["fran@example.org"],
        "agenda": everyone_else,
    }
    assert by_kind(at(clock, smtp, runtime, START - timedelta(minutes=60))) == {"reminder": everyone_else}


def test_unsubscribing_from_member_mail_never_silences_facilitator_mail(runtime, clock, smtp, client):
    got = invites(runtime, clock, smtp)
    member_link = path_of(got["fran@example.org"].message["List-Unsubscribe"])
    assert client.post(member_link).status_code == 200
    [prep] = at(clock, smtp, runtime, START - timedelta(days=7))
    assert (prep.kind, prep.to) == ("facilitator_prep", ["fran@example.org"])
    # The prep mail carries the facilitator preference's own link, not the member one.
    own_link = path_of(prep.message["List-Unsubscribe"])
    assert own_link.startswith("/unsubscribe/facilitator/") and own_link != member_link
    assert own_link in prep.text and own_link in prep.html and member_link not in prep.text
    assert "Stop facilitator e-mails (agenda preparation, meeting closure)" in prep.text
    everyone_else = [a for a in EVERYONE if a != "fran@example.org"]
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=2))) == {"agenda": everyone_else}
    assert by_kind(at(clock, smtp, runtime, START + timedelta(hours=2))) == {
        "facilitator_closure": ["fran@example.org"]
    }


def test_the_facilitator_link_stops_prep_and_closure_mail_only(runtime, clock, smtp, client):
    invites(runtime, clock, smtp)
    [prep] = at(clock, smtp, runtime, START - timedelta(days=7))
    link = path_of(prep.message["List-Unsubscribe"])
    page = client.get(link).get_data(as_text=True)
    assert "Stop facilitator e-mails about the Infant-Toddler CoP" in page and "Member e-mails" in page
    done = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert "You are unsubscribed from facilitator e-mails" in done.get_data(as_text=True)
    with runtime.db.begin() as s:
        fran = s.scalar(select(Membership).join(Member).where(Member.email == "fran@example.org"))
        assert (fran.facilitator_mail_unsubscribed_at, fran.unsubscribed_at) == (START - timedelta(days=7), None)
        assert (
            s.scalar(select(AuditEntry.action).where(AuditEntry.entity == "membership")) == "unsubscribed (facilitator)"
        )
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=2))) == {"agenda": EVERYONE}
    assert by_kind(at(clock, smtp, runtime, START - timedelta(hours=1))) == {"reminder": EVERYONE}
    assert at(clock, smtp, runtime, START + timedelta(hours=2)) == []  # no closure request
    # A member link cannot stand in for a facilitator one, or the other way round.
    token = link.rsplit("/", 1)[1]
    assert client.post(f"/unsubscribe/{token}").status_code == 404


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
    disguised = client.post(
        link,
        data={
            "csrf_token": token,
            "title": "Looks like good.example",
            "url": "https://user:pass@evil.example@good.example/",
        },
    )
    assert disguised.status_code == 400 and "no user name or password" in disguised.get_data(as_text=True)
    assert client.post(link, data={"title": "No token"}).status_code == 400
    sent = client.post(
        link,
        data={
            "csrf_token": token,
            "title": "Serve and return <b>guide</b>",
            "url": "https://developingchild.harvard.edu/serve-return",
        },
    )
    assert sent.status_code == 302
    with runtime.db.begin() as s:
        [row] = s.scalars(select(ResourceSubmission)).all()
        assert (row.title, row.url, row.occurrence_id is not None) == (
            "Serve and return <b>guide</b>",
            "https://developingchild.harvard.edu/serve-return",
            True,
        )
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Thank you" in shown and "Serve and return &lt;b&gt;guide&lt;/b&gt;" in shown

    [prep] = at(clock, smtp, runtime, START - timedelta(days=7))
    assert prep.kind == "facilitator_prep"
    assert (
        '<a href="https://developingchild.harvard.edu/serve-return">Serve and return &lt;b&gt;guide&lt;/b&gt;</a>'
        in prep.html
    )
    assert "Serve and return <b>guide</b>: https://developingchild.harvard.edu/serve-return" in prep.text
