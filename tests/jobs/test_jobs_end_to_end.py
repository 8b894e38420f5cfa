"""Done means: a community added through the CLI, members imported, and running `zoombot scheduler`
delivers the whole sequence to a real SMTP server (the clock driven by hand, never slept on), the
facilitator closing the meeting through the link in the closure mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from click.testing import CliRunner

from tests.helpers.mail import by_kind, mail_settings, runtime, smtp  # noqa: F401
from tests.helpers.staff import token_from
from tests.helpers.zoom_events import load_fixture, zoom_event
from zoombot.cli.main import main
from zoombot.runtime import Runtime

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
PEOPLE = ["alice@example.org", "bob@example.org", "fran@example.org"]


def test_cli_community_members_and_scheduler_deliver_the_whole_sequence(
    runtime, clock, smtp, post_event, client, tmp_path, monkeypatch, database_url
):
    monkeypatch.setattr(Runtime, "now", lambda self: clock())
    for name in [n for n in __import__("os").environ if n.startswith("ZOOMBOT_")]:
        monkeypatch.delenv(name)  # the configuration file below is the whole configuration
    mail = mail_settings(smtp)
    config = tmp_path / "config.toml"
    config.write_text(f'''
[database]
url = "{database_url}"
[mail]
smtp_host = "{mail["smtp_host"]}"
smtp_port = {mail["smtp_port"]}
from_address = "{mail["from_address"]}"
[web]
secret_key = "test-secret-key"
base_url = "https://cop.example.org"
[schedule]
horizon_days = 30
''')
    cli = CliRunner()

    def zoombot(*args: str, **kwargs):
        result = cli.invoke(main, ["--config", str(config), *args], catch_exceptions=False, **kwargs)
        assert result.exit_code == 0, result.output
        return result.output

    zoombot(
        "community",
        "add",
        "Infant-Toddler CoP",
        "--zoom-meeting-id",
        "81234567890",
        "--facilitator",
        "fran@example.org",
        "--start",
        "2026-11-10T18:30",
        "--duration",
        "120",
        "--rrule",
        "FREQ=MONTHLY;BYDAY=2TU",
        "--timezone",
        "America/New_York",
    )
    members = tmp_path / "members.csv"
    members.write_text(
        "name,email,registry_id,community,role\n"
        "Alice Ames,alice@example.org,R-1001,Infant-Toddler CoP,member\n"
        "Bob Brown,bob@example.org,R-1002,Infant-Toddler CoP,member\n"
        "Fran Facil,fran@example.org,R-2001,Infant-Toddler CoP,facilitator\n"
    )
    zoombot("members", "import", str(members))
    created = load_fixture("meeting_created")  # Zoom tells us the join link
    assert post_event(created).status_code == 200

    def scheduler_at(when: datetime) -> dict[str, list[str]]:
        clock.set(when)
        zoombot("scheduler", "--once")
        scheduler_at.got = smtp.take()
        return by_kind(scheduler_at.got)

    assert scheduler_at(datetime(2026, 10, 14, 2, 0, tzinfo=UTC)) == {}
    assert scheduler_at(START - timedelta(days=14)) == {"invite": PEOPLE}
    assert scheduler_at(START - timedelta(days=7)) == {"facilitator_prep": ["fran@example.org"]}
    assert scheduler_at(START - timedelta(days=2)) == {"agenda": PEOPLE}
    assert scheduler_at(START - timedelta(hours=1)) == {"reminder": PEOPLE}
    common = {"meeting_uuid": "e2e-nov10==", "meeting_id": "81234567890", "meeting_start_time": "2026-11-10T23:30:00Z"}
    alice = dict(user_name="Alice Ames", email="alice@example.org", participant_uuid="dev-a", user_id="1")
    for body in (
        zoom_event("meeting_started", **common),
        zoom_event("participant_joined", join_time="2026-11-10T23:31:00Z", **alice, **common),
        zoom_event("participant_left", leave_time="2026-11-11T01:29:00Z", **alice, **common),
    ):
        assert post_event(body).status_code == 200
    # meeting.ended never arrives: the finalizer closes the meeting; the follow-up waits for the closure.
    assert scheduler_at(START + timedelta(hours=6)) == {"facilitator_closure": ["fran@example.org"]}
    [request] = scheduler_at.got
    link = urlsplit(next(word for word in request.text.split() if "/closure/" in word)).path
    page = client.get(link)
    assert page.status_code == 200 and "How the meeting closed" in page.get_data(as_text=True)
    saved = client.post(
        link,
        data={
            "csrf_token": token_from(page.get_data(as_text=True)),
            "summary": "We shared transition songs.",
            "next_steps": "Record one song",
            "raised": "Naps in mixed-age rooms",
            "evaluation_url": "https://forms.example.org/e",
        },
    )
    assert saved.status_code == 302
    got = scheduler_at(START + timedelta(hours=6, minutes=1))  # it goes at the next pass, carrying the closure
    assert got == {"followup": PEOPLE}
    text = scheduler_at.got[0].text
    assert "We shared transition songs." in text and "  - Record one song" in text
    assert "  - Naps in mixed-age rooms" in text and "https://forms.example.org/e" in text
    assert scheduler_at(START + timedelta(days=3)) == {}


def test_the_runner_schedules_every_job_of_the_table_and_stops_cleanly(runtime):
    from apscheduler.schedulers.background import BackgroundScheduler

    from jobs.runner import configure, start_background
    from jobs.table import JOBS

    scheduler = configure(BackgroundScheduler(timezone="UTC"), runtime)
    jobs = {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}
    tick = runtime.settings.schedule.tick_seconds
    assert jobs == {job.name: tick * job.every_ticks for job in JOBS}
    assert {"plan", "finalize", "send"} <= set(jobs)
    running = start_background(runtime)
    assert running.running
    running.shutdown(wait=True)
    assert not running.running
