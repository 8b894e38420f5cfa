"""Webhook receiver throughput: zoombot under gunicorn against a bare Flask endpoint, same settings.

    python -m bench.webhooks                 # PostgreSQL on 127.0.0.1:5432 (a fresh database, dropped after)
    python -m bench.webhooks --sqlite        # the embedded SQLite database instead
    python -m bench.webhooks --help          # workers, connections, event count, time limit, ...

Drives unique, realistic, signed `meeting.participant_joined` / `_left` events from concurrent keep-alive
client connections (threads with http.client), then the same bodies at `bench/bare_app.py` under the
same gunicorn settings, and prints events/s, p50/p99 latency, errors and the ratio ours/bare.
Issue 2's goal: ratio >= 0.5 on PostgreSQL with 2 workers, p99 < 100 ms at 32 connections.
Loopback only; every loop is bounded in count and in time.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from tests.helpers.servers import ServerProcess, zoombot_env  # noqa: E402

from bench.scratch import DEFAULT_SERVER, BenchDatabase  # noqa: E402
from webhooks.signature import sign  # noqa: E402

SECRET = "bench-webhook-secret-token"
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Eun-ji", "Farah", "Gus", "Hana", "Ines", "Jamal", "Kofi", "Lena",
               "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tuan"]
LAST_NAMES = ["Alvarez", "Brooks", "Chen", "Diallo", "Evans", "Fischer", "Garcia", "Huang", "Ivanova", "Jones"]


def zoom_uuid(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()[:16]).decode()


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_object(meeting_uuid: str, start: datetime) -> dict:
    return {"id": "81234567890", "uuid": meeting_uuid, "host_id": "x1yCzABCDEfg23HiJKl4mN",
            "topic": "Infant-Toddler CoP", "type": 8, "start_time": iso(start), "timezone": "America/New_York",
            "duration": 120}


def make_events(count: int, *, tag: str, meetings: int = 8) -> tuple[list[bytes], list[bytes]]:
    """`count` distinct participant events spread over `meetings` live meeting instances, plus one
    meeting.started per instance. Each person joins, and later leaves, from one device."""
    start = datetime(2026, 10, 13, 22, 30, tzinfo=timezone.utc)
    uuids = [zoom_uuid(f"{tag}-{m}") for m in range(meetings)]
    started = [json.dumps({"event": "meeting.started", "event_ts": int(start.timestamp() * 1000),
                           "payload": {"account_id": "AbCdEfGh123", "object": meeting_object(u, start)}}).encode()
               for u in uuids]
    events = []
    for i in range(count):
        person, leaving = divmod(i, 2)
        meeting_uuid = uuids[person % meetings]
        first, last = FIRST_NAMES[person % len(FIRST_NAMES)], LAST_NAMES[(person // len(FIRST_NAMES)) % len(LAST_NAMES)]
        at = start + timedelta(seconds=7 * person + (3600 if leaving else 0))
        participant = {"user_id": str(16778240 + person), "user_name": f"{first} {last} {person}", "id": "",
                       "participant_uuid": zoom_uuid(f"{tag}-device-{person}")[:22],
                       "email": f"{first.lower()}.{last.lower()}.{person}@example.org", "registrant_id": "",
                       "participant_user_id": ""}
        if leaving:
            participant.update(leave_time=iso(at), leave_reason="left the meeting. Reason : left the meeting")
        else:
            participant["join_time"] = iso(at)
        body = {"event": "meeting.participant_left" if leaving else "meeting.participant_joined",
                "event_ts": int(at.timestamp() * 1000),
                "payload": {"account_id": "AbCdEfGh123",
                            "object": {**meeting_object(meeting_uuid, start), "participant": participant}}}
        events.append(json.dumps(body).encode())
    return started, events


@dataclass
class Result:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def drive(port: int, bodies: list[bytes], connections: int, max_seconds: float, label: str) -> Result:
    """POST every body once from `connections` keep-alive connections; stop early at `max_seconds`."""
    result = Result(label)
    lock = threading.Lock()
    position = iter(range(len(bodies)))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, errors, statuses = [], 0, {}
        while time.monotonic() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                break
            body = bodies[index]
            ts = str(int(time.time()))
            headers = {"content-type": "application/json", "x-zm-request-timestamp": ts,
                       "x-zm-signature": sign(SECRET, ts, body)}
            began = time.perf_counter()
            try:
                conn.request("POST", "/zoom/webhook", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - began
                if response.status != 200:
                    errors += 1
                    continue
                status = json.loads(payload).get("status", "?")
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed)
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            for k, v in statuses.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + 60)
    result.seconds = time.perf_counter() - began
    return result


def server_pair(database: BenchDatabase, args: argparse.Namespace) -> tuple[ServerProcess, ServerProcess]:
    """zoombot and the bare Flask ceiling, under the same gunicorn settings, against one database."""
    settings = dict(workers=args.workers, worker_class=args.worker_class, threads=args.threads)
    ours = ServerProcess(zoombot_env(database.url, secret=SECRET), **settings)
    bare = ServerProcess(zoombot_env(database.url, secret=SECRET), app="bench.bare_app:create_app()", **settings)
    bare.env["PYTHONPATH"] = os.pathsep.join([str(REPO), bare.env.get("PYTHONPATH", "")])
    return ours, bare


def report(result: Result) -> str:
    return (f"{result.label:<12} {result.rate:>9.1f} {result.percentile(50):>8.1f} {result.percentile(99):>8.1f} "
            f"{result.errors:>7} {result.done:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead of PostgreSQL")
    parser.add_argument("--postgres-url", default=DEFAULT_SERVER,
                        help="PostgreSQL server to create the bench database on (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class, both sides")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker, both sides")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--events", type=int, default=6000, help="events per side")
    parser.add_argument("--warmup", type=int, default=400, help="requests per side before measuring")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit per side")
    parser.add_argument("--rounds", type=int, default=1, help="repeat both sides this many times")
    args = parser.parse_args(argv)

    database = BenchDatabase(args.sqlite, args.postgres_url)
    ours, bare = server_pair(database, args)
    sent = 0
    try:
        ours.start()
        bare.start()
        print(f"zoombot webhook bench: {database.label}; gunicorn {args.workers} workers, "
              f"{args.worker_class} x{args.threads} threads (both sides); {args.connections} keep-alive "
              f"connections; {args.events} signed participant events per side per round", flush=True)
        print(f"{'':<12} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'done':>8}")
        ratios = []
        for round_number in range(args.rounds):
            started, events = make_events(args.events, tag=f"round{round_number}-{uuid_module.uuid4().hex[:6]}")
            _, warm = make_events(args.warmup, tag=f"warm{round_number}-{uuid_module.uuid4().hex[:6]}")
            drive(bare.port, warm, args.connections, args.max_seconds, "warm-up")
            drive(ours.port, warm + started, args.connections, args.max_seconds, "warm-up")
            sent += len(warm) + len(started)
            bare_result = drive(bare.port, events, args.connections, args.max_seconds, "bare Flask")
            our_result = drive(ours.port, events, args.connections, args.max_seconds, "zoombot")
            sent += our_result.done
            print(report(bare_result))
            print(report(our_result), f"  outcomes: {our_result.statuses}")
            ratios.append(our_result.rate / bare_result.rate if bare_result.rate else 0.0)
            met = ratios[-1] >= 0.5 and our_result.percentile(99) < 100
            print(f"round {round_number + 1}: ratio ours/bare = {ratios[-1]:.2f}  "
                  f"(goal >= 0.50 with p99 < 100 ms: {'met' if met else 'NOT met'})", flush=True)
        stored = database.count_events()
        print(f"stored in zoom_events: {stored} (events answered 200: {sent})")
        if args.rounds > 1:
            print(f"ratio median over {args.rounds} rounds: {statistics.median(ratios):.2f}")
        return 0 if stored == sent else 1
    finally:
        ours.stop()
        bare.stop()
        database.drop()


if __name__ == "__main__":
    raise SystemExit(main())
