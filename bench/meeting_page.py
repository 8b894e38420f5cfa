"""The staff meeting page for a 300-participant meeting: ceiling 300 ms per render.

    python -m bench.meeting_page                     # a temporary SQLite file
    python -m bench.meeting_page --database postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.meeting_page --participants 500 --repeat 30

The meeting is played through the real webhook endpoint (signed), so participants, hours records and
audit entries are what production would hold; a staff user signs in through the real form; then the
page is fetched --repeat times in process (Flask's test client: no network in the figure) and the
median and worst render times are printed with the ratio to the ceiling.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bench.scratch import BenchDatabase
from zoombot.app import create_app, signed_webhook_poster
from zoombot.config import load_settings
from zoombot.core.passwords import hash_password
from zoombot.runtime import Runtime
from zoombot.store.models import CreditSession, StaffUser

CEILING_SECONDS = 0.300
PASSWORD = "benchmark password"


def meeting_bodies(participants: int) -> list[dict]:
    start = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
    obj = {
        "id": "81234567890",
        "uuid": "benchPage==",
        "host_id": "host",
        "topic": "Statewide CoP",
        "type": 8,
        "start_time": "2026-10-13T22:30:00Z",
        "timezone": "America/New_York",
        "duration": 120,
    }

    def body(name: str, ts: int, extra: dict) -> dict:
        return {"event": name, "event_ts": ts, "payload": {"account_id": "acct", "object": {**obj, **extra}}}

    def iso(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    out = [body("meeting.started", 1, {})]
    for p in range(participants):
        who = {
            "user_name": f"Participant {p}",
            "email": f"p{p}@example.org" if p % 7 else "",
            "participant_uuid": f"dev{p}",
            "user_id": str(p),
            "id": "",
            "registrant_id": "",
        }
        join = start + timedelta(seconds=17 * p % 1500)
        leave = start + timedelta(minutes=120) - timedelta(seconds=29 * p % 2400)
        out.append(body("meeting.participant_joined", 10 + 2 * p, {"participant": {**who, "join_time": iso(join)}}))
        if p % 3 == 0:  # a rejoin
            out.append(
                body(
                    "meeting.participant_left",
                    11 + 2 * p,
                    {"participant": {**who, "leave_time": iso(join + timedelta(minutes=20))}},
                )
            )
            out.append(
                body(
                    "meeting.participant_joined",
                    100_000 + p,
                    {"participant": {**who, "join_time": iso(join + timedelta(minutes=25))}},
                )
            )
        out.append(body("meeting.participant_left", 200_000 + p, {"participant": {**who, "leave_time": iso(leave)}}))
    out.append(body("meeting.ended", 300_000, {"end_time": iso(start + timedelta(minutes=120))}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL server URL (a fresh database is created there)")
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    scratch = BenchDatabase(sqlite=not args.database, server_url=args.database)
    url = scratch.url
    settings = load_settings(
        path=None,
        environ={},
        overrides={"database": {"url": url}, "web": {"secret_key": "bench"}, "zoom": {"webhook_secret_token": "bench"}},
    )
    runtime = Runtime.from_settings(settings)
    try:
        post = signed_webhook_poster(runtime)
        for body in meeting_bodies(args.participants):
            status, answer = post(json.dumps(body).encode())
            assert status == 200 and answer["status"] == "stored", (status, answer)
        with runtime.db.begin() as session:
            session.add(StaffUser(email="bench@example.org", password_hash=hash_password(PASSWORD), role="staff"))
            session_id = session.scalar(select(CreditSession.id))
        client = create_app(runtime=runtime).test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True))[1]
        login = client.post(
            "/staff/login", data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token}
        )
        assert login.status_code == 302, login.status_code
        times = []
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            page = client.get(f"/staff/sessions/{session_id}")
            times.append(time.perf_counter() - started)
            assert page.status_code == 200 and f"Participant {args.participants - 1}" in page.get_data(as_text=True)
        times = times[1:]  # the first render compiles templates
        median = statistics.median(times)
        print(
            f"session page, {args.participants} participants ({runtime.db.engine.dialect.name}): "
            f"median {median * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms, {len(page.data) // 1024} KiB "
            f"(ceiling {CEILING_SECONDS * 1000:.0f} ms, ratio {median / CEILING_SECONDS:.2f})"
        )
    finally:
        runtime.db.dispose()
        scratch.drop()


if __name__ == "__main__":
    main()
