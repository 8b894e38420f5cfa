"""Load: a 300-participant meeting start burst and a sustained mixed stream, against gunicorn + PostgreSQL.

    python -m bench.load                    # PostgreSQL on 127.0.0.1:5432 (a fresh database, dropped after)
    python -m bench.load --sqlite           # the embedded SQLite database instead
    python -m bench.load --help             # workers, connections, sizes, ...

1. Start burst: `meeting.started`, then 300 people arriving within three minutes of Zoom time, a third
   of them through the waiting room (joined waiting room, admitted, joined), all sent at once from many
   connections, as Zoom delivers the first minutes of a big meeting.
2. Sustained stream: joins, leaves and rejoins across 20 live meetings, interleaved.
3. The same stream at the bare Flask endpoint (`bench/bare_app.py`) under the same gunicorn settings:
   the ceiling of this machine, measured in the same run.
While zoombot is under load, the resident memory of its gunicorn master and workers is sampled from
/proc; the peak is reported. Errors (anything but 200) must be zero. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import uuid as uuid_module
from datetime import UTC, datetime, timedelta

from bench.httpdriver import drive, report
from bench.scratch import DEFAULT_SERVER, BenchDatabase
from bench.webhooks import server_pair, zoom_uuid

START = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(name: str, meeting: dict, participant: dict | None, ts: datetime) -> bytes:
    obj = dict(meeting)
    if participant is not None:
        obj["participant"] = participant
    return json.dumps(
        {
            "event": name,
            "event_ts": int(ts.timestamp() * 1000) + random.randrange(1000),
            "payload": {"account_id": "BenchAcct01", "object": obj},
        }
    ).encode()


def _meeting(tag: str, n: int) -> dict:
    return {
        "id": str(87000000000 + n),
        "uuid": zoom_uuid(f"{tag}-{n}"),
        "host_id": "benchHost0000000000001",
        "topic": f"CoP {n}",
        "type": 8,
        "start_time": _iso(START),
        "timezone": "America/New_York",
        "duration": 120,
    }


def _person(tag: str, n: int, i: int) -> dict:
    return {
        "user_id": str(16_000_000 + i),
        "user_name": f"Practitioner {n}-{i}",
        "id": "",
        "participant_uuid": zoom_uuid(f"{tag}-dev-{n}-{i}"),
        "email": f"p{n}x{i}@example.org",
        "registrant_id": "",
        "participant_user_id": "",
    }


def start_burst(tag: str, people: int = 300) -> list[bytes]:
    meeting = _meeting(tag, 0)
    bodies = [_event("meeting.started", meeting, None, START)]
    for i in range(people):
        person = _person(tag, 0, i)
        at = START + timedelta(seconds=random.uniform(0, 180))
        if i % 3 == 0:
            bodies.append(
                _event("meeting.participant_joined_waiting_room", meeting, dict(person, date_time=_iso(at)), at)
            )
            at += timedelta(seconds=20)
            bodies.append(_event("meeting.participant_admitted", meeting, dict(person, date_time=_iso(at)), at))
        bodies.append(_event("meeting.participant_joined", meeting, dict(person, join_time=_iso(at)), at))
    return bodies


def mixed_stream(tag: str, count: int, meetings: int = 20, per_meeting: int = 40) -> list[bytes]:
    """Joins, leaves and rejoins across `meetings` live meetings, interleaved in time order."""
    rng = random.Random(tag)
    rooms = [_meeting(tag, n + 1) for n in range(meetings)]
    bodies = [_event("meeting.started", m, None, START) for m in rooms]
    present: set[tuple[int, int]] = set()
    clock = START
    while len(bodies) < count:
        clock += timedelta(seconds=rng.uniform(0.1, 2))
        n, i = rng.randrange(meetings), rng.randrange(per_meeting)
        person = _person(tag, n + 1, i)
        if (n, i) in present:
            present.discard((n, i))
            bodies.append(_event("meeting.participant_left", rooms[n], dict(person, leave_time=_iso(clock)), clock))
        else:
            present.add((n, i))
            bodies.append(_event("meeting.participant_joined", rooms[n], dict(person, join_time=_iso(clock)), clock))
    return bodies


def _descendants(pid: int) -> list[int]:
    found, queue = [pid], [pid]
    while queue:
        parent = queue.pop()
        for task in os.listdir(f"/proc/{parent}/task") if os.path.isdir(f"/proc/{parent}/task") else []:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                continue
            found.extend(children)
            queue.extend(children)
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of a process tree (gunicorn master + workers), from /proc/<pid>/status VmRSS."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


class MemoryPeak:
    """Samples a process tree's RSS every 100 ms while running; `peak` in bytes."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            self._stop.wait(0.1)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead of PostgreSQL")
    parser.add_argument("--postgres-url", default=DEFAULT_SERVER)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--burst-people", type=int, default=300)
    parser.add_argument("--burst-connections", type=int, default=64)
    parser.add_argument("--stream-events", type=int, default=4000)
    parser.add_argument("--stream-connections", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=90.0, help="time limit per phase")
    args = parser.parse_args(argv)

    database = BenchDatabase(args.sqlite, args.postgres_url)
    ours, bare = server_pair(database, args)
    tag = uuid_module.uuid4().hex[:8]
    try:
        ours.start()
        bare.start()
        idle = rss_bytes(ours.pid)
        print(
            f"zoombot load bench: {database.label}; gunicorn {args.workers} workers, {args.worker_class} "
            f"x{args.threads} threads (both sides); {os.cpu_count()} CPUs shared with the load generator",
            flush=True,
        )
        drive(ours.port, mixed_stream("warm" + tag, 300), 8, args.max_seconds, "warm-up")
        drive(bare.port, mixed_stream("warm" + tag, 300), 8, args.max_seconds, "warm-up")
        burst = start_burst(tag, args.burst_people)
        stream = mixed_stream(tag, args.stream_events)
        print(f"{'':<12} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'done':>8}")
        with MemoryPeak(ours.pid) as memory:
            # the meeting.started first, then everyone at once
            first = drive(ours.port, burst[:1], 1, args.max_seconds, "burst")
            burst_result = drive(ours.port, burst[1:], args.burst_connections, args.max_seconds, "start burst")
            burst_result.errors += first.errors
            stream_result = drive(ours.port, stream, args.stream_connections, args.max_seconds, "mixed stream")
        bare_result = drive(bare.port, stream, args.stream_connections, args.max_seconds, "bare Flask")
        print(report(burst_result), f"  ({len(burst)} events: {args.burst_people} joins, waiting room for a third)")
        print(report(stream_result), f"  (20 live meetings; outcomes {stream_result.statuses})")
        print(report(bare_result), "  (same stream, bare Flask endpoint: the ceiling)")
        ratio = stream_result.rate / bare_result.rate if bare_result.rate else 0.0
        print(f"mixed stream ratio zoombot/bare = {ratio:.2f}")
        print(
            f"resident memory (gunicorn master + {args.workers} workers): idle {idle / 2**20:.0f} MiB, "
            f"peak under load {memory.peak / 2**20:.0f} MiB"
        )
        stored = database.count_events()
        errors = burst_result.errors + stream_result.errors
        print(f"events stored: {stored}; errors: {errors}")
        return 0 if errors == 0 and burst_result.done == len(burst) - 1 and stream_result.done == len(stream) else 1
    finally:
        ours.stop()
        bare.stop()
        database.drop()


if __name__ == "__main__":
    raise SystemExit(main())
