"""The registry-deadline digest to staff, through a real SMTP server: sent once a day to each staff login
while sessions with open lines are due within `[registry] digest_days_before` days or overdue, never
twice (two passes, as two schedulers would), and never when deadlines are off.

The session (staff_support.meeting_events) is on Tuesday 13 October 2026 (New York); with
`submission_days = 5` it is due on Sunday 18 October."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import select

from jobs.deadline_digest import run
from tests.helpers.mail import runtime, smtp  # noqa: F401
from tests.helpers.staff import add_community, add_staff, meeting_events, play, session_id
from zoombot.store import registry, review, status
from zoombot.store.models import CreditLine, DeadlineDigest, Member

UTC = UTC


def prepare(runtime, post_event, days=5):
    runtime.settings = dataclasses.replace(
        runtime.settings,
        registry=dataclasses.replace(
            runtime.settings.registry, submission_days=days, digest_days_before=2, name="Nevada Registry"
        ),
    )
    add_community(
        runtime,
        "Infant-Toddler CoP",
        "81234567890",
        members=[("Alice Ames", "alice@example.org"), ("Bob Brown", "bob@example.org")],
    )
    play(post_event, meeting_events())
    add_staff(runtime, "lead@example.org")
    add_staff(runtime, "kim@example.org")
    add_staff(runtime, "fran@example.org", role="facilitator")


def test_digest_goes_once_a_day_to_staff_while_lines_are_open_near_the_deadline(runtime, post_event, clock, smtp):
    prepare(runtime, post_event)
    clock.set(datetime(2026, 10, 16, 3, 0, tzinfo=UTC))  # 15 October in New York: due in 3 days
    assert run(runtime) == {"planned": 0, "sent": 0, "failed": 0}
    assert smtp.take() == []

    clock.set(datetime(2026, 10, 16, 13, 0, tzinfo=UTC))  # 16 October: due in 2 days
    assert run(runtime) == {"planned": 2, "sent": 2, "failed": 0}
    assert run(runtime) == {"planned": 0, "sent": 0, "failed": 0}  # a second pass (or scheduler) sends nothing
    received = smtp.take()
    assert sorted(r.to[0] for r in received) == ["kim@example.org", "lead@example.org"]  # staff, not facilitators
    mail = received[0]
    assert mail.kind == "deadline_digest"
    assert mail.message["Subject"] == "Nevada Registry deadlines: 1 session with open lines"
    sid = session_id(runtime)
    assert mail.text.splitlines()[:4] == [
        "Sessions whose credit lines are due at Nevada Registry soon, or overdue (Friday October 16, 2026):",
        "",
        "- Infant-Toddler CoP, Tue Oct 13: due in 2 days (Sun Oct 18); 3 lines to review, 0 approved lines to submit",
        f"  https://cop.example.org/staff/sessions/{sid}",
    ]
    assert f'<a href="https://cop.example.org/staff/sessions/{sid}">' in mail.html

    clock.set(datetime(2026, 10, 19, 13, 0, tzinfo=UTC))  # 19 October: overdue, a new day's digest
    with runtime.db.begin() as s:
        ids = list(s.scalars(select(CreditLine.id).where(CreditLine.status == "pending")))
        review.approve(s, ids, actor="lead@example.org", now=clock())
    assert run(runtime)["sent"] == 2
    again = smtp.take()
    assert again[0].message["Subject"] == "Nevada Registry deadlines: 1 session with open lines, 1 overdue"
    assert "overdue by 1 day (Sun Oct 18); 0 lines to review, 3 approved lines to submit" in again[0].text

    with runtime.db.begin() as s:  # everything submitted: nothing is open, nothing is sent
        for member, rid in (("alice@example.org", "R-1"), ("bob@example.org", "R-2")):
            s.scalar(select(Member).where(Member.email == member)).registry_id = rid
        outcome = registry.submit(s, runtime.settings, actor="lead@example.org", now=clock())
        assert outcome.lines == 2 and [h.reasons for h in outcome.held] == [["no matched member"]]
        phone = outcome.held[0].line_id
        review.reject(s, phone, actor="lead@example.org", now=clock(), reason="unknown caller")
    clock.set(datetime(2026, 10, 20, 13, 0, tzinfo=UTC))
    assert run(runtime) == {"planned": 0, "sent": 0, "failed": 0}
    with runtime.db.begin() as s:
        rows = s.scalars(select(DeadlineDigest))
        assert sorted((d.digest_date.isoformat(), d.recipient, d.status) for d in rows) == [
            ("2026-10-16", "kim@example.org", "sent"),
            ("2026-10-16", "lead@example.org", "sent"),
            ("2026-10-19", "kim@example.org", "sent"),
            ("2026-10-19", "lead@example.org", "sent"),
        ]


def test_no_digest_when_deadlines_are_off(runtime, post_event, clock, smtp):
    prepare(runtime, post_event, days=0)
    clock.set(datetime(2026, 12, 1, 13, 0, tzinfo=UTC))
    assert run(runtime) == {"planned": 0, "sent": 0, "failed": 0}
    assert smtp.take() == []


def test_a_refused_delivery_is_retried_on_the_next_pass(runtime, post_event, clock, smtp):
    prepare(runtime, post_event)
    clock.set(datetime(2026, 10, 16, 13, 0, tzinfo=UTC))
    smtp.handler.reply = "451 4.3.0 try again later"
    assert run(runtime) == {"planned": 2, "sent": 0, "failed": 1}
    # the operator's status page says so (the job itself ran fine: a refused delivery is not a crash)
    assert [p for p in status.snapshot(runtime).problems if "digest" in p] == [
        "1 deadline digest to staff could not be sent (server refused: SMTP 451 4.3.0 try again later); "
        "each is tried again on the digest's next runs."
    ]
    smtp.handler.reply = None
    assert run(runtime) == {"planned": 0, "sent": 2, "failed": 0}
    assert len(smtp.take()) == 2
    assert [p for p in status.snapshot(runtime).problems if "digest" in p] == []
