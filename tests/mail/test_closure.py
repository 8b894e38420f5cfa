"""A meeting's closure, recorded after it by a facilitator (staff page) or the note-taker (the signed link
in the closure mail): the follow-up waits for it and carries it (summary, agreed next steps, parking lot
resolved and carried, evaluation link); the next meeting's draft starts from it. Real SMTP server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.helpers.mail import (
    EVERYONE,  # noqa: F401
    FACILITATOR,
    add_community,
    at,
    by_kind,
    outbox_rows,
    runtime,  # noqa: F401 (fixture: the runtime wired to the test SMTP server)
    smtp,  # noqa: F401 (fixture)
)
from tests.helpers.staff import add_staff, login, token_from
from tests.helpers.zoom_events import zoom_event
from zoombot.core import agenda
from zoombot.store import directory
from zoombot.store.models import Agenda as AgendaRow
from zoombot.store.models import AuditEntry, Closure, Member, Occurrence, ParkingLotItem

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
END = START + timedelta(hours=2)
DEC8 = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)


def meeting_events():
    common = {
        "meeting_uuid": "closureNov10==",
        "meeting_id": "81234567890",
        "meeting_start_time": "2026-11-10T23:30:00Z",
    }
    alice = dict(user_name="Alice Ames", email="alice@example.org", participant_uuid="dev-alice", user_id="101")
    return [
        zoom_event("meeting_started", **common),
        zoom_event("participant_joined", join_time="2026-11-10T23:30:00Z", **alice, **common),
        zoom_event("participant_left", leave_time="2026-11-11T01:30:00Z", **alice, **common),
        zoom_event("meeting_ended", meeting_end_time="2026-11-11T01:30:00Z", **common),
    ]


@pytest.fixture
def cop(runtime, clock, smtp, post_event):
    """The November meeting planned and held (records built), Alice the note-taker, two questions parked."""
    community_id = add_community(runtime)
    with runtime.db.begin() as s:
        directory.set_membership(s, community_id, directory.ensure_member(s, "alice@example.org").id, "note-taker")
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    with runtime.db.begin() as s:
        november = s.scalar(select(Occurrence.id).where(Occurrence.start == START))
        s.add_all(
            [
                ParkingLotItem(community_id=community_id, text="How do we handle biting?"),
                ParkingLotItem(community_id=community_id, text="Outdoor play in winter"),
            ]
        )
    at(clock, smtp, runtime, START - timedelta(days=7))  # prep (its draft shows the parking lot)
    for body in meeting_events():
        assert post_event(body).status_code == 200
    return november


def item_ids(runtime) -> dict[str, int]:
    with runtime.db.begin() as s:
        return dict(s.execute(select(ParkingLotItem.text, ParkingLotItem.id)).all())


def test_the_facilitator_closes_the_meeting_and_the_follow_up_and_next_agenda_follow(runtime, clock, smtp, client, cop):
    add_staff(runtime, "fran@example.org", role="facilitator")
    clock.set(START - timedelta(hours=1))
    login(client, "fran@example.org")
    url = f"/staff/agendas/{cop}/closure"
    assert "can be recorded once the meeting has started" in client.get(url).get_data(as_text=True)

    got = at(clock, smtp, runtime, END)  # the closure request, to the facilitator and the note-taker
    assert by_kind(got) == {"facilitator_closure": ["alice@example.org", FACILITATOR[1]]}
    request = next(r for r in got if r.to == [FACILITATOR[1]])
    assert request.message["List-Unsubscribe"].strip().startswith("<https://cop.example.org/unsubscribe/facilitator/")
    assert "The follow-up to members waits for it for up to 24 hours after it is due" in request.text

    page = client.get(url).get_data(as_text=True)
    ids = item_ids(runtime)
    assert "How do we handle biting?" in page and f'name="resolved" value="{ids["Outdoor play in winter"]}"' in page
    token = token_from(page)
    bad = client.post(
        url, data={"csrf_token": token, "summary": "", "next_steps": "", "evaluation_url": "javascript:alert(1)"}
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "The evaluation link must be a complete web address" in text and "Write a summary or the agreed" in text
    with runtime.db.begin() as s:
        assert s.scalar(select(Closure.id)) is None
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "summary": "We compared transition songs.\n\nEveryone <b>tries</b> one.",
            "next_steps": "- Record one song\n- Bring a photo of the room",
            "resolved": [str(ids["How do we handle biting?"])],
            "raised": "Naps in mixed-age rooms",
            "evaluation_url": "https://forms.example.org/cop-nov",
        },
    )
    assert saved.status_code == 302
    assert "The closure is recorded" in client.get(saved.headers["Location"]).get_data(as_text=True)
    with runtime.db.begin() as s:
        closure = s.scalar(select(Closure))
        assert (closure.recorded_by, closure.next_steps) == (
            "fran@example.org",
            ["Record one song", "Bring a photo of the room"],
        )
        items = {i.text: (i.closed_occurrence_id, i.raised_occurrence_id) for i in s.scalars(select(ParkingLotItem))}
        actions = sorted(
            a
            for (a,) in s.execute(
                select(AuditEntry.action).where(AuditEntry.entity.in_(("closure", "parking_lot_item")))
            )
        )
    assert items == {
        "How do we handle biting?": (cop, None),
        "Outdoor play in winter": (None, None),
        "Naps in mixed-age rooms": (None, cop),
    }
    assert actions == ["added", "recorded", "resolved"]

    got = at(clock, smtp, runtime, END + timedelta(hours=2))  # due: the closure is there, it goes now
    assert by_kind(got) == {"followup": EVERYONE}
    alice = next(r for r in got if r.to == ["alice@example.org"])
    text = alice.text.replace("\r\n", "\n")
    assert "Your attendance: 2 h 00 min" in text  # the hours part is unchanged
    assert "Summary\n\nWe compared transition songs.\n\nEveryone <b>tries</b> one.\n" in text
    assert "Next steps\n  - Record one song\n  - Bring a photo of the room\n" in text
    assert "Resolved from the parking lot\n  - How do we handle biting?\n" in text
    assert (
        "Still in the parking lot (carried to the next meeting)\n  - Naps in mixed-age rooms\n"
        "  - Outdoor play in winter\n"
    ) in text
    assert "How did this meeting go for you? Tell the facilitator: https://forms.example.org/cop-nov" in text
    assert "<p>Everyone &lt;b&gt;tries&lt;/b&gt; one.</p>" in alice.html
    assert '<a href="https://forms.example.org/cop-nov">Tell the facilitator</a>' in alice.html

    # December's preparation starts from the agreed next steps and the parking lot as the meeting left it.
    [prep] = [r for r in at(clock, smtp, runtime, DEC8 - timedelta(days=7)) if r.kind == "facilitator_prep"]
    prep_text = prep.text.replace("\r\n", "\n")
    assert "Topics\n  - Follow up: Record one song\n  - Follow up: Bring a photo of the room\n" in prep_text
    assert "Naps in mixed-age rooms" in prep_text and "Outdoor play in winter" in prep_text
    assert "How do we handle biting?" not in prep_text


def test_the_note_taker_closes_through_the_link_and_can_correct_it(runtime, clock, smtp, client, cop):
    got = at(clock, smtp, runtime, END)
    mail = next(r for r in got if r.to == ["alice@example.org"])
    link = urlsplit(next(w for w in mail.text.split() if "/closure/" in w)).path
    assert link in mail.html
    assert client.get(link[:-3] + "abc").status_code == 404  # forged
    page = client.get(link)
    assert page.status_code == 200
    ids = item_ids(runtime)
    saved = client.post(
        link,
        data={
            "csrf_token": token_from(page.get_data(as_text=True)),
            "summary": "Good talk.",
            "next_steps": "",
            "resolved": [str(ids["Outdoor play in winter"])],
        },
    )
    assert saved.status_code == 302
    with runtime.db.begin() as s:
        assert s.scalar(select(Closure.recorded_by)) == "alice@example.org (closure link)"
    # The facilitator's request, not yet sent at the end of the meeting, is not needed any more.
    assert at(clock, smtp, runtime, END + timedelta(minutes=5)) == []
    # Corrected: nothing resolved after all.
    page = client.get(link).get_data(as_text=True)
    assert "Recorded by alice@example.org (closure link)" in page
    client.post(link, data={"csrf_token": token_from(page), "summary": "Good talk.", "next_steps": "Read chapter 2"})
    with runtime.db.begin() as s:
        assert s.scalar(select(ParkingLotItem.closed_at).where(ParkingLotItem.text == "Outdoor play in winter")) is None
        assert s.scalar(select(Closure.next_steps)) == ["Read chapter 2"]
    followup = at(clock, smtp, runtime, END + timedelta(hours=2))
    assert by_kind(followup) == {"followup": EVERYONE}
    assert "Resolved from the parking lot" not in followup[0].text and "Read chapter 2" in followup[0].text
    assert "How did this meeting go" not in followup[0].text  # no evaluation link given

    # The agenda named Alice as this meeting's note-taker (the draft took the community's); once it names
    # Bob and Alice holds no role, her link no longer opens the form.
    with runtime.db.begin() as s:
        community_id = s.scalar(select(Occurrence.community_id).where(Occurrence.id == cop))
        people = dict(s.execute(select(Member.email, Member.id)).all())
        directory.set_membership(s, community_id, people["alice@example.org"], "member")
    assert client.get(link).status_code == 200
    with runtime.db.begin() as s:
        row = s.scalar(select(AgendaRow).where(AgendaRow.occurrence_id == cop))
        current = agenda.from_dict(row.content)
        assert current.roles == (
            agenda.RoleAssignment("facilitator", "Fran Facil", people["fran@example.org"]),
            agenda.RoleAssignment("note-taker", "Alice Ames", people["alice@example.org"]),
        )
        row.content = agenda.to_dict(
            dataclasses.replace(
                current, roles=(agenda.RoleAssignment("note-taker", "Bob Brown", people["bob@example.org"]),)
            )
        )
    assert client.get(link).status_code == 404


def test_recorded_before_the_request_is_due_the_request_is_skipped(runtime, clock, smtp, client, cop):
    add_staff(runtime, "fran@example.org", role="facilitator")
    clock.set(START + timedelta(minutes=100))  # recorded in the last minutes of the meeting
    login(client, "fran@example.org")
    url = f"/staff/agendas/{cop}/closure"
    assert (
        client.post(
            url, data={"csrf_token": token_from(client.get(url).get_data(as_text=True)), "summary": "Short one."}
        ).status_code
        == 302
    )
    assert by_kind(at(clock, smtp, runtime, END)) == {}
    assert {r.last_error for r in outbox_rows(runtime, kind="facilitator_closure") if r.occurrence_id == cop} == {
        "the closure is already recorded"
    }


def test_without_waiting_the_follow_up_goes_with_the_agendas_plan(runtime, make_settings, clock, smtp, post_event):
    from tests.helpers.mail import mail_settings
    from zoombot.runtime import Runtime

    rt = Runtime.from_settings(
        make_settings(mail=mail_settings(smtp), schedule={"horizon_days": 30, "closure_wait_hours": 0})
    )
    rt.clock = clock
    try:
        add_community(rt)
        at(clock, smtp, rt, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
        for body in meeting_events():
            assert post_event(body).status_code == 200
        [request] = at(clock, smtp, rt, END)
        got = at(clock, smtp, rt, END + timedelta(hours=2))  # due, no closure, and no waiting for one
    finally:
        rt.db.dispose()
    assert request.kind == "facilitator_closure" and "The follow-up to members does not wait for it" in request.text
    assert by_kind(got) == {"followup": EVERYONE}
    assert "Next steps" not in got[0].text and "Summary" not in got[0].text  # the agenda planned none
