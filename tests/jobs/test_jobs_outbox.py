"""Sending guarantees: two schedulers at once send each message exactly once; SMTP outages are retried
with backoff and sent once; permanent failures are kept for staff (who can retry); a dead sender's claim
expires; every job run is recorded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from jobs.base import Job, run_job
from jobs.sending import lease, send_due
from tests.helpers.mail import EVERYONE, add_community, at, by_kind, outbox_rows, runtime, smtp  # noqa: F401
from tests.helpers.staff import add_staff, login, token_from
from zoombot.runtime import Runtime
from zoombot.store import outbox
from zoombot.store.models import JobStatus

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
INVITES_DUE = START - timedelta(days=14)


def planned(runtime, clock, smtp, **community):
    add_community(runtime, **community)
    assert at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC)) == []


def test_two_schedulers_at_once_send_each_message_exactly_once(runtime, clock, smtp):
    people = [(f"Member {i:02d}", f"member{i:02d}@example.org") for i in range(40)]
    planned(runtime, clock, smtp, members=people)
    clock.set(INVITES_DUE)
    runtimes = [Runtime.from_settings(runtime.settings) for _ in range(2)]
    for rt in runtimes:
        rt.clock = clock
    barrier = threading.Barrier(len(runtimes))
    results, errors = [], []

    def scheduler(rt):
        try:
            barrier.wait()
            results.append(send_due(rt))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(rt,)) for rt in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rt in runtimes:
        rt.db.dispose()
    assert errors == []
    received = smtp.take()
    recipients = sorted(address for r in received for address in r.to)
    expected = sorted([address for _, address in people] + ["fran@example.org"])
    assert recipients == expected  # every invite once: none lost, none twice
    assert sum(r["sent"] for r in results) == len(expected)
    assert {r.status for r in outbox_rows(runtime, kind="invite") if r.due_at <= INVITES_DUE} == {"sent"}
    assert at(clock, smtp, runtime, INVITES_DUE + timedelta(minutes=1)) == []


def test_smtp_down_is_retried_later_and_each_message_sent_once(runtime, clock, smtp):
    planned(runtime, clock, smtp)
    smtp.stop()
    assert at(clock, smtp, runtime, INVITES_DUE) == []
    rows = outbox_rows(runtime, kind="invite", status="pending")
    due_now = [r for r in rows if r.due_at <= INVITES_DUE]
    assert len(due_now) == 3
    assert {(r.attempts, r.next_attempt_at) for r in due_now} == {(1, INVITES_DUE + timedelta(minutes=5))}
    assert all(r.last_error.startswith("SMTP connection failed") for r in due_now)
    assert at(clock, smtp, runtime, INVITES_DUE + timedelta(minutes=2)) == []  # backing off: not even tried
    assert {r.attempts for r in outbox_rows(runtime, kind="invite") if r.due_at <= INVITES_DUE} == {1}
    assert at(clock, smtp, runtime, INVITES_DUE + timedelta(minutes=5)) == []  # still down: 10 minutes next
    assert {r.next_attempt_at for r in outbox_rows(runtime, kind="invite") if r.due_at <= INVITES_DUE} == {
        INVITES_DUE + timedelta(minutes=15)
    }
    smtp.start()
    got = at(clock, smtp, runtime, INVITES_DUE + timedelta(minutes=15))
    assert by_kind(got) == {"invite": EVERYONE}
    assert at(clock, smtp, runtime, INVITES_DUE + timedelta(hours=3)) == []


def test_a_temporary_refusal_is_retried(runtime, clock, smtp):
    planned(runtime, clock, smtp)
    smtp.handler.reply = "451 4.3.0 Try again later"
    assert at(clock, smtp, runtime, INVITES_DUE) == []
    assert {r.last_error for r in outbox_rows(runtime, kind="invite", attempts=1)} == {
        "server refused: SMTP 451 4.3.0 Try again later"
    }
    smtp.handler.reply = None
    assert by_kind(at(clock, smtp, runtime, INVITES_DUE + timedelta(minutes=5))) == {"invite": EVERYONE}


def test_a_permanent_failure_is_kept_shown_to_staff_and_can_be_retried(runtime, clock, smtp, client):
    planned(runtime, clock, smtp)
    smtp.handler.refuse = {"bob@example.org"}
    got = at(clock, smtp, runtime, INVITES_DUE)
    assert by_kind(got) == {"invite": ["alice@example.org", "fran@example.org"]}
    [failed] = outbox_rows(runtime, status="failed")
    assert (failed.recipient, failed.kind, failed.attempts) == ("bob@example.org", "invite", 1)
    assert failed.last_error.startswith("recipient refused: SMTP 550")
    assert "bob@example.org" not in failed.last_error  # the server's reply quoted the address
    assert at(clock, smtp, runtime, INVITES_DUE + timedelta(days=1)) == []  # given up: not retried alone

    add_staff(runtime, "staff@example.org")
    login(client, "staff@example.org")
    page = client.get("/staff/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "bob@example.org" in html and "SMTP 550" in html and "Retry now" in html
    smtp.handler.refuse = set()
    response = client.post(f"/staff/outbox/{failed.id}/retry", data={"csrf_token": token_from(html)})
    assert response.status_code == 302
    got = at(clock, smtp, runtime, clock())
    assert by_kind(got) == {"invite": ["bob@example.org"]}
    assert outbox_rows(runtime, status="failed") == []


def test_facilitators_see_only_their_own_communities_outbox(runtime, clock, smtp, client):
    planned(runtime, clock, smtp)
    smtp.handler.refuse = {"bob@example.org"}
    at(clock, smtp, runtime, INVITES_DUE)
    add_staff(runtime, "other@example.org", role="facilitator")  # facilitates nothing here
    login(client, "other@example.org")
    assert "bob@example.org" not in client.get("/staff/outbox").get_data(as_text=True)
    [failed] = outbox_rows(runtime, status="failed")
    html = client.get("/staff/agendas/").get_data(as_text=True)
    assert client.post(f"/staff/outbox/{failed.id}/retry", data={"csrf_token": token_from(html)}).status_code == 404


def test_a_dead_senders_claim_expires_and_the_message_goes_once(runtime, clock, smtp):
    planned(runtime, clock, smtp)
    clock.set(INVITES_DUE)
    with runtime.db.begin() as s:
        claimed = outbox.claim_next(s, "crashed-worker", clock(), lease(runtime))
    assert claimed is not None
    got = at(clock, smtp, runtime, INVITES_DUE + timedelta(minutes=1))
    assert len(got) == 2 and [r.status for r in outbox_rows(runtime, id=claimed)] == ["sending"]
    got = at(clock, smtp, runtime, INVITES_DUE + lease(runtime) + timedelta(minutes=1))
    assert len(got) == 1
    [row] = outbox_rows(runtime, id=claimed)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, None)


def test_every_job_run_is_recorded_and_failures_keep_no_personal_data(runtime):
    def broken(rt):
        raise RuntimeError("could not reach alice@example.org")

    run_job(runtime, Job("example", lambda rt: 42))
    with pytest.raises(RuntimeError):
        run_job(runtime, Job("example", broken))
    with runtime.db.begin() as s:
        status = s.get(JobStatus, "example")
        assert (status.runs, status.failures, status.last_ok) == (2, 1, False)
        assert status.last_error == "RuntimeError: could not reach <address>"
    run_job(runtime, Job("example", lambda rt: 1))
    with runtime.db.begin() as s:
        status = s.get(JobStatus, "example")
        assert (status.runs, status.failures, status.last_ok, status.last_error) == (3, 1, True, None)
