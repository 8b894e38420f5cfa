"""Scale-out on one PostgreSQL: a web tier of several gunicorn workers plus two `zoombot scheduler`
processes. Every webhook event is stored once and every message is sent once (a real SMTP server
counts what arrives). Due times are "now": the community's meeting starts within the hour, so its
invites, preparation mail, agenda and reminder are all due on the schedulers' first passes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.helpers.burst import participant_events, send_all, stored_keys
from tests.helpers.mail import SmtpServer
from tests.helpers.pgcluster import PgCluster
from tests.helpers.servers import ServerProcess, zoombot_env
from zoombot.config import load_settings
from zoombot.runtime import Runtime
from zoombot.store.migrate import upgrade
from zoombot.store.models import Community, Member, Membership, OutboxMessage

pytestmark = pytest.mark.slow
MEMBERS = 25
TZ = "America/New_York"


def _seed(url: str) -> None:
    runtime = Runtime.from_settings(load_settings(environ={}, overrides={"database": {"url": url}}))
    upgrade(runtime.db)
    start = (datetime.now(UTC) + timedelta(minutes=50)).astimezone(ZoneInfo(TZ))
    with runtime.db.begin() as s:
        community = Community(
            name="Scale-out CoP",
            zoom_meeting_id="89999999999",
            timezone=TZ,
            join_url="https://zoom.us/j/89999999999",
            duration_minutes=60,
            first_start_local=start.replace(tzinfo=None, second=0, microsecond=0),
            rrule=None,
        )
        s.add(community)
        s.flush()
        for i in range(MEMBERS):
            member = Member(name=f"Member {i}", email=f"member{i}@example.org")
            s.add(member)
            s.flush()
            s.add(
                Membership(community_id=community.id, member_id=member.id, role="facilitator" if i == 0 else "member")
            )
    runtime.db.dispose()


def _outbox(url: str) -> list[tuple[str, str, str]]:
    """(kind, recipient, status) of every message due by now (the follow-up waits for the meeting's end)."""
    runtime = Runtime.from_settings(load_settings(environ={}, overrides={"database": {"url": url}}))
    try:
        with runtime.db.begin() as s:
            return [
                (m.kind, m.recipient, m.status)
                for m in s.scalars(select(OutboxMessage).where(OutboxMessage.due_at <= datetime.now(UTC)))
            ]
    finally:
        runtime.db.dispose()


def test_web_workers_and_two_schedulers_store_each_event_and_send_each_message_once():
    cluster, smtp, procs = PgCluster(), SmtpServer(), []
    cwd = tempfile.mkdtemp(prefix="zoombot-scaleout-")
    try:
        cluster.start()
        _seed(cluster.url)
        smtp.start()
        env = zoombot_env(
            cluster.url,
            mail_smtp_host="127.0.0.1",
            mail_smtp_port=smtp.port,
            mail_from_address="cop@zoombot.example.org",
            mail_timeout_seconds=5,
            schedule_tick_seconds=1,
            web_base_url="https://cop.example.org",
        )
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "zoombot", "scheduler"],
                    env=env,
                    cwd=cwd,
                    stdout=subprocess.DEVNULL,
                    stderr=open(os.path.join(cwd, "sched.log"), "ab"),
                    start_new_session=True,
                )
            )
        web = ServerProcess(env, workers=3, cwd=cwd).start()
        procs.append(web.process)

        deliveries = participant_events(200, uuid="scaleout==")
        send_all(web.port, deliveries, threads=12)
        assert {d.status for d in deliveries} == {200}
        dupes = [d.__class__(d.body) for d in deliveries[:50]]  # Zoom's retries, on other workers
        send_all(web.port, dupes, threads=12)
        assert {d.status for d in dupes} == {200}

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # poll the database until the schedulers settled every message
            rows = _outbox(cluster.url)
            if rows and all(status in ("sent", "skipped", "failed") for _, _, status in rows):
                break
            time.sleep(0.25)
        for proc in procs:
            assert proc.poll() is None, "a process died"

        stored = Counter(stored_keys(cluster.url))
        assert sorted(stored) == sorted(d.key for d in deliveries) and set(stored.values()) == {1}
        rows = _outbox(cluster.url)
        sent = Counter((kind, recipient) for kind, recipient, status in rows if status == "sent")
        assert len(sent) >= MEMBERS and {k for k, _ in sent} >= {"invite", "reminder"}
        time.sleep(2)  # two more ticks of both schedulers: nothing may go out again
        received = Counter((r.kind, address) for r in smtp.take() for address in r.to)
        assert received == sent, (received - sent, sent - received)
        assert set(received.values()) == {1}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
        smtp.stop()
        cluster.destroy()
