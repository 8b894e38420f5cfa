"""Member mail through the real outbox, scheduler jobs and an SMTP server: the follow-up carries the
member's personal link, "your certificate is ready" goes once after approval, and a link asked for on
/me arrives (and only for a known address)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers.mail import (  # noqa: F401 (fixture)
    add_community,
    by_kind,
    outbox_rows,
    run_jobs,
    runtime,  # noqa: F401 (fixture: the runtime wired to the test SMTP server)
    smtp,
)
from tests.helpers.staff import meeting_events, play, session_id, token_from
from zoombot.store import review
from zoombot.store.models import CreditLine

UTC = UTC
JOBS = ("plan", "finalize", "certificates", "send")
LINK = re.compile(r"https://cop\.example\.org(/me/[A-Za-z0-9._-]+)")


def held_meeting(runtime, clock, post_event) -> int:
    """The community meets monthly on the 2nd Tuesday from 13 October 2026, 18:30 New York; its occurrences
    are planned, then the meeting of 13 October is played (Alice 1.75 h, Bob 1.25 h)."""
    add_community(runtime, start=datetime(2026, 10, 13, 18, 30))
    clock.set(datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    run_jobs(runtime, ("plan",))
    play(post_event, meeting_events())
    return session_id(runtime)


def approve(runtime, sid: int, email: str) -> None:
    with runtime.db.begin() as s:
        line = s.scalar(
            select(CreditLine).where(CreditLine.session_id == sid, CreditLine.participant_key == f"email:{email}")
        )
        review.approve(s, [line.id], actor="staff@example.org", now=runtime.now())


def test_the_follow_up_carries_the_personal_link(runtime, clock, smtp, post_event, client):
    held_meeting(runtime, clock, post_event)
    clock.set(datetime(2026, 10, 15, 3, 0, tzinfo=UTC))  # past the closure wait: the follow-up goes
    run_jobs(runtime, JOBS)
    followups = {r.to[0]: r for r in smtp.take() if r.kind == "followup"}
    assert sorted(followups) == ["alice@example.org", "bob@example.org", "fran@example.org"]
    alice = followups["alice@example.org"]
    assert (
        "Your hours, certificates and mail preferences (a personal link, for 30 days): "
        "https://cop.example.org/me/" in alice.text
    )
    assert "Your hours, certificates and mail preferences</a> (a personal link, for 30 days)" in alice.html
    page = client.get(LINK.search(alice.text).group(1))
    assert page.status_code == 200 and "Alice Ames" in page.get_data(as_text=True)
    bob_link = LINK.search(followups["bob@example.org"].text).group(1)
    assert "Bob Brown" in client.get(bob_link).get_data(as_text=True)


def test_certificate_ready_goes_once_after_the_grace_and_waits_for_a_reopened_line(
    runtime, clock, smtp, post_event, client
):
    sid = held_meeting(runtime, clock, post_event)
    approved_at = datetime(2026, 10, 16, 14, 0, tzinfo=UTC)
    clock.set(approved_at)
    approve(runtime, sid, "alice@example.org")
    clock.set(approved_at + timedelta(minutes=14))
    run_jobs(runtime, JOBS)
    assert "certificate_ready" not in by_kind(smtp.take())  # staff may still take the approval back
    clock.set(approved_at + timedelta(minutes=15))
    run_jobs(runtime, JOBS)
    sent = [r for r in smtp.take() if r.kind == "certificate_ready"]
    assert [r.to for r in sent] == [["alice@example.org"]]
    mail = sent[0]
    assert (
        mail.message["Subject"] == "Your certificate for Infant-Toddler CoP (Tuesday, October 13, 2026 at "
        "6:30 PM EDT) is ready"
    )
    assert (
        "Staff approved your hours for the Infant-Toddler CoP meeting on Tuesday, October 13, 2026 at 6:30 PM "
        "EDT.\n\n  Growth hours: 1.75\n" in mail.text.replace("\r\n", "\n")
    )
    assert mail.message["List-Unsubscribe"].strip().startswith("<https://cop.example.org/unsubscribe/")
    assert "Certificate of attendance (PDF)" in client.get(LINK.search(mail.text).group(1)).get_data(as_text=True)
    clock.set(approved_at + timedelta(hours=1))
    run_jobs(runtime, JOBS)
    assert "certificate_ready" not in by_kind(smtp.take())  # once
    assert [r.status for r in outbox_rows(runtime, kind="certificate_ready")] == ["sent"]

    # Bob's approval is reopened within the grace, after his mail was planned: it waits, and goes once he is
    # approved again
    approve(runtime, sid, "bob@example.org")
    clock.set(clock() + timedelta(minutes=5))
    run_jobs(runtime, JOBS)
    assert [r.status for r in outbox_rows(runtime, kind="certificate_ready", recipient="bob@example.org")] == [
        "pending"
    ]
    with runtime.db.begin() as s:
        bob = s.scalar(select(CreditLine.id).where(CreditLine.participant_key == "email:bob@example.org"))
        review.reopen(s, bob, actor="staff@example.org", now=runtime.now(), reason="check", settings=runtime.settings)
    clock.set(clock() + timedelta(minutes=20))
    run_jobs(runtime, JOBS)
    assert "certificate_ready" not in by_kind(smtp.take())
    assert [r.last_error for r in outbox_rows(runtime, kind="certificate_ready", recipient="bob@example.org")] == [
        "the line is being reviewed again"
    ]
    with runtime.db.begin() as s:
        review.approve(s, [bob], actor="staff@example.org", now=runtime.now())
    clock.set(clock() + timedelta(minutes=31))
    run_jobs(runtime, JOBS)
    assert by_kind(smtp.take()).get("certificate_ready") == ["bob@example.org"]


def test_certificate_mail_can_be_switched_off(runtime, make_runtime, smtp, clock, post_event):
    from jobs.certificate_mail import plan_certificates
    from tests.helpers.mail import mail_settings

    sid = held_meeting(runtime, clock, post_event)
    clock.set(datetime(2026, 10, 16, 14, 0, tzinfo=UTC))
    approve(runtime, sid, "alice@example.org")
    quiet = make_runtime(mail={**mail_settings(smtp), "certificate_ready_mail": False})
    assert plan_certificates(quiet) == 0 and outbox_rows(runtime, kind="certificate_ready") == []
    assert plan_certificates(runtime) == 1 and plan_certificates(runtime) == 0


def test_a_link_asked_for_by_address_arrives(runtime, clock, smtp, client):
    add_community(runtime)
    html = client.get("/me").get_data(as_text=True)
    for email in ("Alice@Example.org", "nobody@example.org"):
        client.post("/me", data={"csrf_token": token_from(html), "email": email})
    run_jobs(runtime, ("send",))
    received = smtp.take()
    assert [(r.kind, r.to) for r in received] == [("member_link", ["alice@example.org"])]
    mail = received[0]
    assert mail.message["Subject"] == "Your link to your hours and certificates"
    assert mail.message["List-Unsubscribe"] is None  # asked for, not a list
    # asked for at 02:00 UTC on 14 October: 30 days later is 02:00 UTC on 13 November, 9 PM the day before in New York
    assert "It works for 30 days (until Thursday, November 12, 2026 at 9:00 PM EST)." in mail.text
    page = client.get(LINK.search(mail.text).group(1))
    assert page.status_code == 200 and "Alice Ames" in page.get_data(as_text=True)
