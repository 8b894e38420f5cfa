"""The agenda editor: facilitators edit their own communities' agendas (staff all); what they type comes
out inert in pages and mail; only http(s) links survive; the parking lot carries forward until closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers.mail import EVERYONE, add_community, at, by_kind, runtime, smtp  # noqa: F401
from tests.helpers.staff import add_staff, login, token_from
from zoombot.store.models import Agenda, Occurrence

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
SCRIPT = "<script>alert('owned')</script>"


def november(runtime) -> int:
    with runtime.db.begin() as s:
        return s.scalar(select(Occurrence.id).where(Occurrence.start == START))


def signed_in_facilitator(runtime, clock, smtp, client) -> int:
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    add_staff(runtime, "fran@example.org", role="facilitator")
    assert login(client, "fran@example.org").status_code == 302
    return november(runtime)


def save(client, occurrence_id: int, **fields):
    page = client.get(f"/staff/agendas/{occurrence_id}")
    assert page.status_code == 200
    data = {
        "csrf_token": token_from(page.get_data(as_text=True)),
        "objectives": "",
        "topics": "",
        "resources": "",
        "next_steps": "",
        "expectations": "",
        "confidentiality": "",
        "status": "draft",
    }
    data.update(fields)
    return client.post(f"/staff/agendas/{occurrence_id}", data=data)


def test_script_and_javascript_links_come_out_inert_in_page_and_mail(runtime, clock, smtp, client):
    occurrence_id = signed_in_facilitator(runtime, clock, smtp, client)
    listing = client.get("/staff/agendas/").get_data(as_text=True)
    assert f"/staff/agendas/{occurrence_id}" in listing
    response = save(
        client,
        occurrence_id,
        objectives=f"Learn {SCRIPT}",
        topics="- Transitions\n- Routines <img src=x onerror=alert(1)>",
        resources="Bad | javascript:alert(1)\nGood | https://example.org/guide\nhttps://example.org/bare\n"
        "Disguised | https://user:pass@evil.example@good.example/",
        next_steps="Try a song",
        status="ready",
    )
    assert response.status_code == 302
    page = client.get(f"/staff/agendas/{occurrence_id}").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert "javascript:" not in page.replace("Bad | ", "")  # the refused link is not even kept as text
    assert "evil.example" not in page
    assert '<a href="https://example.org/guide" rel="noopener noreferrer">Good</a>' in page
    assert (  # the facilitator is told which lines lost their link
        "Kept without a link (only http:// and https:// addresses with no user name or password are linked): "
        "Bad; Disguised"
    ) in page
    with runtime.db.begin() as s:
        row = s.scalar(select(Agenda).where(Agenda.occurrence_id == occurrence_id))
        assert row.status == "ready" and row.updated_by == "fran@example.org"
        assert row.content["objectives"] == [f"Learn {SCRIPT}"]
        assert row.content["topics"] == ["Transitions", "Routines <img src=x onerror=alert(1)>"]
        assert [(r["title"], r["url"]) for r in row.content["resources"]] == [
            ("Bad", None),
            ("Good", "https://example.org/guide"),
            ("https://example.org/bare", "https://example.org/bare"),
            ("Disguised", None),
        ]

    got = at(clock, smtp, runtime, START - timedelta(days=2))
    assert by_kind(got)["agenda"] == EVERYONE
    mail = next(r for r in got if r.kind == "agenda")
    assert SCRIPT not in mail.html and "Learn &lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in mail.html
    assert "<img src=x" not in mail.html and "javascript:" not in mail.html
    assert '<a href="https://example.org/guide">Good</a>' in mail.html
    assert "javascript:" not in mail.text and "Good: https://example.org/guide" in mail.text


def test_the_parking_lot_carries_forward_until_closed(runtime, clock, smtp, client):
    occurrence_id = signed_in_facilitator(runtime, clock, smtp, client)
    page = client.get(f"/staff/agendas/{occurrence_id}").get_data(as_text=True)
    token = token_from(page)
    for text in ("How do we handle biting?", "Outdoor play in winter"):
        assert (
            client.post(
                f"/staff/agendas/{occurrence_id}/parking-lot", data={"csrf_token": token, "text": text}
            ).status_code
            == 302
        )
    page = client.get(f"/staff/agendas/{occurrence_id}").get_data(as_text=True)
    assert "How do we handle biting?" in page and "Outdoor play in winter" in page
    got = at(clock, smtp, runtime, START - timedelta(days=2))
    agenda_mail = next(r for r in got if r.kind == "agenda")
    assert "How do we handle biting?" in agenda_mail.text and "Outdoor play in winter" in agenda_mail.text

    from zoombot.store.models import ParkingLotItem

    with runtime.db.begin() as s:
        biting = s.scalar(select(ParkingLotItem.id).where(ParkingLotItem.text.like("How do%")))
    assert (
        client.post(
            f"/staff/agendas/{occurrence_id}/parking-lot/{biting}/close", data={"csrf_token": token}
        ).status_code
        == 302
    )
    # December's draft (made when its prep is due) carries the item still open, not the closed one.
    december = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    got = at(clock, smtp, runtime, december - timedelta(days=7))
    prep = next(r for r in got if r.kind == "facilitator_prep")
    assert "Outdoor play in winter" in prep.text and "How do we handle biting?" not in prep.text


def test_facilitators_cannot_open_other_communities_agendas(runtime, clock, smtp, client):
    occurrence_id = signed_in_facilitator(runtime, clock, smtp, client)
    client.post("/staff/logout", data={"csrf_token": token_from(client.get("/staff/agendas/").get_data(as_text=True))})
    add_staff(runtime, "stranger@example.org", role="facilitator")
    login(client, "stranger@example.org")
    assert client.get(f"/staff/agendas/{occurrence_id}").status_code == 404
    assert f"/staff/agendas/{occurrence_id}" not in client.get("/staff/agendas/").get_data(as_text=True)
    token = token_from(client.get("/staff/agendas/").get_data(as_text=True))
    edit = client.post(f"/staff/agendas/{occurrence_id}", data={"csrf_token": token, "objectives": "x"})
    assert edit.status_code == 404
    client.post("/staff/logout", data={"csrf_token": token})
    assert client.get(f"/staff/agendas/{occurrence_id}").status_code == 302  # anonymous: to the sign-in page


def test_operator_templates_override_the_built_in_ones(runtime, clock, smtp, tmp_path, make_settings):
    from tests.helpers.mail import mail_settings
    from zoombot.runtime import Runtime

    (tmp_path / "invite.subject.txt").write_text("You're invited, {{ name }}: {{ community }}\n")
    rt = Runtime.from_settings(
        make_settings(mail=mail_settings(smtp, templates_dir=str(tmp_path)), schedule={"horizon_days": 30})
    )
    rt.clock = clock
    try:
        add_community(rt)
        at(clock, smtp, rt, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
        got = at(clock, smtp, rt, START - timedelta(days=14))
    finally:
        rt.db.dispose()
    alice = next(r for r in got if r.to == ["alice@example.org"])
    assert alice.message["Subject"] == "You're invited, Alice Ames: Infant-Toddler CoP"
    assert "You are invited to the Infant-Toddler CoP" in alice.text  # the body is still the built-in one
