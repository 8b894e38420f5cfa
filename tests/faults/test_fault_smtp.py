"""The SMTP server down, then up again: every message is kept and retried, and each is sent exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.helpers.mail import EVERYONE, add_community, outbox_rows, run_jobs, runtime, smtp  # noqa: F401

UTC = UTC
INVITES_DUE = datetime(2026, 11, 10, 23, 30, tzinfo=UTC) - timedelta(days=14)


def test_smtp_down_then_up_sends_each_message_once(runtime, clock, smtp):  # noqa: F811
    add_community(runtime)
    clock.set(INVITES_DUE - timedelta(hours=1))
    run_jobs(runtime)  # planned, nothing due yet
    smtp.stop()

    clock.set(INVITES_DUE)
    run_jobs(runtime)
    rows = outbox_rows(runtime, kind="invite")
    assert len(rows) == len(EVERYONE)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert all(r.last_error and r.next_attempt_at > clock() for r in rows)  # retried later, not dropped

    clock.set(clock() + timedelta(minutes=2))  # still down: another failed attempt each, still kept
    run_jobs(runtime)
    smtp.start()
    received = []
    for _ in range(10):  # bounded: back-off grows, the clock is driven by hand
        clock.set(clock() + timedelta(hours=1))
        run_jobs(runtime)
        received += smtp.take()
        if all(r.status == "sent" for r in outbox_rows(runtime, kind="invite")):
            break
    assert all(r.status == "sent" for r in outbox_rows(runtime, kind="invite"))
    counts = Counter(address for r in received if r.kind == "invite" for address in r.to)
    assert sorted(counts) == EVERYONE and set(counts.values()) == {1}

    clock.set(clock() + timedelta(hours=6))
    run_jobs(runtime)
    assert [r for r in smtp.take() if r.kind == "invite"] == []  # never again
