"""`zoombot mail preview` and the staff preview page: every message of a meeting, calendar files included,
rendered as the sender would, and nothing sent, planned or marked."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import icalendar
import pytest
from sqlalchemy import func, select

from tests.helpers.mail import EVERYONE, FACILITATOR, JOIN_URL, add_community, at, by_kind, runtime, smtp  # noqa: F401
from tests.helpers.staff import add_staff, login
from zoombot.runtime import Runtime
from zoombot.store.models import Agenda, Member, Occurrence, OutboxMessage

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
KINDS_IN_ORDER = [
    "facilitator_prep",
    "invite",
    "agenda",
    "reminder",
    "facilitator_closure",
    "followup",
    "update",
    "cancellation",
]


@pytest.fixture
def preview(zoombot_cli, clock, monkeypatch):
    monkeypatch.setattr(Runtime, "now", lambda self: clock())
    invoke = zoombot_cli(
        '[schedule]\nagenda_days = 1\n[web]\nsecret_key = "test-secret-key"\n'
        'base_url = "https://cop.example.org"\n[mail]\nfrom_address = "cop@zoombot.example.org"\n'
    )

    def run(*args: str, code: int = 0):
        result = invoke("mail", "preview", *args)
        assert result.exit_code == code, result.output
        return result

    return run


def counts(runtime) -> tuple[int, int, int]:
    with runtime.db.begin() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Occurrence, OutboxMessage, Agenda))


def by_kind_of(pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, to in pairs:
        out.setdefault(kind, []).append(to)
    return {kind: sorted(to) for kind, to in out.items()}


def read(path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def test_preview_writes_every_message_of_the_next_meeting_and_changes_nothing(runtime, preview, tmp_path):
    add_community(runtime)
    assert counts(runtime) == (0, 0, 0)  # not even planned yet
    out = tmp_path / "preview"
    result = preview("infant-toddler cop", "--output", str(out))
    assert counts(runtime) == (0, 0, 0)  # nothing planned, drafted or queued
    assert (
        result.stdout.splitlines()[0]
        == f"Infant-Toddler CoP, 2026-11-10 18:30 EST: 20 messages written to {out}/ (nothing sent)"
    )
    emls = sorted(out.glob("*.eml"))
    found = [(read(p)["X-Zoombot-Kind"], read(p)["To"]) for p in emls]
    assert list(dict.fromkeys(kind for kind, _ in found)) == KINDS_IN_ORDER  # in sending order
    assert by_kind_of(found) == {
        kind: [FACILITATOR[1]] if kind.startswith("facilitator") else EVERYONE for kind in KINDS_IN_ORDER
    }
    assert "001-facilitator_prep-fran@example.org.eml  facilitator_prep" in result.stdout
    assert "2026-11-03 18:30 EST" in result.stdout  # when the prep would go
    assert "only if the meeting is cancelled" in result.stdout

    invite_path = next(p for p in emls if "-invite-alice" in p.name)
    invite = read(invite_path)
    calendar = next(p for p in invite.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
    assert invite_path.with_suffix(".ics").read_bytes() == calendar
    event = next(c for c in icalendar.Calendar.from_ical(calendar).walk() if c.name == "VEVENT")
    assert str(event["LOCATION"]) == JOIN_URL and event["DTSTART"].dt.hour == 18
    cancel = read(next(p for p in emls if "-cancellation-bob" in p.name))
    assert b"METHOD:CANCEL" in next(p for p in cancel.walk() if p.get_content_type() == "text/calendar").get_payload(
        decode=True
    )
    prep = read(emls[0]).get_body(("plain",)).get_content()
    assert "The agenda goes to every member 1 day before the meeting." in prep
    # The links are the real, signed ones: an operator previewing sees exactly what members get.
    assert "https://cop.example.org/unsubscribe/facilitator/" in prep
    assert not list(out.glob("*followup*.ics"))


def test_preview_at_a_date(runtime, preview, tmp_path):
    add_community(runtime)
    result = preview("Infant-Toddler CoP", "--at", "2026-12-08", "--output", str(tmp_path / "dec"))
    assert "2026-12-08 18:30 EST: 20 messages" in result.stdout
    assert (
        preview("Infant-Toddler CoP", "--at", "2026-12-09", code=1).stderr
        == "Error: 'Infant-Toddler CoP' does not meet on 2026-12-09\n"
    )
    assert (
        preview("Infant-Toddler CoP", "--at", "next week", code=1).stderr
        == "Error: --at must be a date as YYYY-MM-DD, got 'next week'\n"
    )
    assert preview("No Such CoP", code=1).stderr.startswith("Error: no community named 'No Such CoP'")
    assert counts(runtime) == (0, 0, 0)


def test_preview_marks_nothing_the_sender_then_sends_as_usual(runtime, preview, clock, smtp, tmp_path):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    clock.set(START - timedelta(days=14))
    with runtime.db.begin() as s:
        before = sorted(s.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)).all())
    preview("Infant-Toddler CoP", "--output", str(tmp_path / "p"))
    with runtime.db.begin() as s:
        after = sorted(s.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)).all())
    assert before == after and smtp.take() == []
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=14))) == {"invite": EVERYONE}


def test_the_staff_preview_page_shows_each_kind_with_placeholder_links(runtime, clock, smtp, client):
    add_community(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    with runtime.db.begin() as s:
        occurrence_id = s.scalar(select(Occurrence.id).where(Occurrence.start == START))
        alice = s.scalar(select(Member.id).where(Member.email == "alice@example.org"))
    add_staff(runtime, "fran@example.org", role="facilitator")
    login(client, "fran@example.org")
    page = client.get(f"/staff/agendas/{occurrence_id}/preview").get_data(as_text=True)
    assert "Prepare the agenda: Infant-Toddler CoP" in page  # the first kind, to its recipient
    for kind, count in (("facilitator prep", 1), ("invite", 3), ("facilitator closure", 1), ("cancellation", 3)):
        assert f"{kind} ({count})" in page
    page = client.get(f"/staff/agendas/{occurrence_id}/preview?kind=invite&to={alice}").get_data(as_text=True)
    assert "From cop@zoombot.example.org to alice@example.org, due 2026-10-27 19:30 EDT." in page  # still summer time
    assert "https://cop.example.org/unsubscribe/preview-only-link" in page
    assert "https://cop.example.org/resources/preview-only-link" in page
    assert 'sandbox srcdoc="&lt;!doctype html&gt;' in page  # the HTML part, inert in a sandboxed frame
    assert "BEGIN:VCALENDAR" in page and f"LOCATION:{JOIN_URL}" in page
    assert client.get("/unsubscribe/preview-only-link").status_code == 404
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(Agenda)) == 0  # the preview drafted nothing
