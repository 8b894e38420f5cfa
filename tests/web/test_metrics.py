"""Observability: /metrics (process counters and database-derived state), the staff status page, the
structured logs that never carry personal data or secrets, and trusting a reverse proxy."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobs.base import Job, run_job
from tests.helpers.staff import add_community, add_staff, login
from tests.helpers.zoom_events import zoom_event
from zoombot import logging_setup
from zoombot.app import create_app
from zoombot.store.models import Occurrence, OutboxMessage


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _outbox(runtime, statuses):
    community = add_community(runtime, "Infant-Toddler CoP", "81234567890")
    now = runtime.now()
    with runtime.db.begin() as s:
        occurrence = Occurrence(
            community_id=community,
            original_start=now + timedelta(days=3),
            start=now + timedelta(days=3),
            end=now + timedelta(days=3, hours=2),
        )
        s.add(occurrence)
        s.flush()
        for i, status in enumerate(statuses):
            s.add(
                OutboxMessage(
                    occurrence_id=occurrence.id,
                    kind="reminder",
                    recipient=f"m{i}@example.org",
                    status=status,
                    due_at=now - timedelta(minutes=5),
                    expires_at=now + timedelta(days=1),
                    attempts=3 if status == "failed" else 0,
                    last_error="SMTP 550 mailbox unavailable" if status == "failed" else None,
                )
            )


def test_metrics_report_deliveries_outbox_jobs_and_the_last_webhook(client, post_event, runtime):
    before = scrape(client)
    assert before[("zoombot_database_up", ())] == 1
    assert ("zoombot_webhook_last_received_timestamp_seconds", ()) not in before  # nothing received yet

    assert post_event(zoom_event("participant_joined")).status_code == 200
    assert post_event(zoom_event("participant_joined", meeting_uuid=None)).json == {"status": "failed"}
    assert client.post("/zoom/webhook", data=b"{}", headers={"content-type": "application/json"}).status_code == 401
    _outbox(runtime, ["pending", "pending", "sent", "failed"])
    run_job(runtime, Job("status-probe", lambda rt: None))

    after = scrape(client)
    stored = ("zoombot_webhook_deliveries_total", (("outcome", "stored"),))
    assert after[stored] - before.get(stored, 0) == 1
    refused = ("zoombot_webhook_refusals_total", (("reason", "missing_headers"),))
    assert after[refused] - before.get(refused, 0) == 1
    assert after[("zoombot_webhook_last_received_timestamp_seconds", ())] == runtime.now().timestamp()
    assert after[("zoombot_outbox_messages", (("status", "pending"),))] == 2
    # no per-process "pending" gauge beside it: set by the sender in the scheduler's process, it read 0 here
    assert not any(name == "zoombot_outbox_pending" for name, _ in after)
    assert after[("zoombot_outbox_messages", (("status", "sent"),))] == 1
    assert after[("zoombot_outbox_messages", (("status", "failed"),))] == 1
    assert after[("zoombot_zoom_events", (("status", "failed"),))] == 1
    assert after[("zoombot_zoom_events", (("status", "processed"),))] == 1
    assert after[("zoombot_job_recorded_runs_total", (("job", "status-probe"),))] == 1
    assert after[("zoombot_job_last_ok", (("job", "status-probe"),))] == 1


def test_metrics_answer_while_the_database_is_down(make_settings):
    from zoombot.runtime import Runtime

    down = Runtime.from_settings(make_settings(database={"url": "postgresql://postgres@127.0.0.1:1/nothing"}))
    samples = scrape(create_app(runtime=down).test_client())
    assert samples[("zoombot_database_up", ())] == 0
    assert ("zoombot_outbox_messages", (("status", "pending"),)) not in samples


def test_status_page_shows_what_needs_attention_to_staff_only(client, post_event, runtime):
    assert client.get("/staff/status").status_code == 302  # sign in first
    add_staff(runtime, "ops@example.org")
    add_staff(runtime, "fac@example.org", role="facilitator")
    assert post_event(zoom_event("participant_joined")).status_code == 200
    assert post_event(zoom_event("participant_joined", meeting_uuid=None)).json == {"status": "failed"}
    _outbox(runtime, ["pending", "failed"])

    def boom(rt):
        raise RuntimeError("smtp down")

    with pytest.raises(RuntimeError):
        run_job(runtime, Job("send", boom))

    login(client, "fac@example.org")
    assert client.get("/staff/status").status_code == 403
    client.post("/staff/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    assert login(client, "ops@example.org").status_code == 302
    page = client.get("/staff/status")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Last webhook received" in html and runtime.now().strftime("%Y-%m-%d %H:%M:%S") in html
    assert "1 Zoom event could not be processed" in html
    assert "without a meeting id and uuid" in html  # the failed event's error, for review
    assert "SMTP 550 mailbox unavailable" in html
    assert "1 pending (1 due now)" in " ".join(html.split())
    assert "Job send failed on its last run." in html and "RuntimeError: smtp down" in html
    assert "up to date" in html and runtime.db.engine.dialect.name in html
    assert "not configured" in html  # no Zoom API credentials in tests
    assert "m0@example.org" not in html  # recipients are not needed here


def test_logs_are_json_lines_without_emails_or_secrets(make_settings):
    settings = make_settings(mail={"password": "smtp-pass-123"}, log={"format": "json"})
    stream = io.StringIO()
    handler = logging_setup.configure(settings, stream=stream)
    try:
        log = logging.getLogger("zoombot.test")
        log.warning("mail to %s failed with %s", "alice@example.org", "smtp-pass-123")
        try:
            raise ValueError("token test-webhook-secret-token for bob@example.org")
        except ValueError:
            log.exception("handler failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["level"] for line in lines] == ["warning", "error"]
    assert lines[0]["message"] == "mail to [masked] failed with [masked]"
    assert lines[0]["logger"] == "zoombot.test" and datetime.fromisoformat(lines[0]["ts"]).tzinfo is not None
    text = stream.getvalue()
    for secret in ("alice@", "bob@", "smtp-pass-123", "test-webhook-secret-token"):
        assert secret not in text
    assert "ValueError" in lines[1]["exception"]


def _probe(runtime):
    app = create_app(runtime=runtime)

    @app.get("/probe")
    def probe():
        from flask import request

        return {"scheme": request.scheme, "host": request.host, "remote": request.remote_addr}

    return app.test_client()


def test_proxy_headers_are_trusted_only_when_configured(make_settings, runtime):
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "zoombot.example.org",
        "X-Forwarded-For": "198.51.100.7",
    }
    assert _probe(runtime).get("/probe", headers=forwarded).json == {
        "scheme": "http",
        "host": "localhost",
        "remote": "127.0.0.1",
    }  # a client cannot claim to be a proxy
    runtime.settings = make_settings(web={"proxy_fix": 1})
    assert _probe(runtime).get("/probe", headers=forwarded).json == {
        "scheme": "https",
        "host": "zoombot.example.org",
        "remote": "198.51.100.7",
    }
